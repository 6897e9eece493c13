"""The Slack edge of amends: the Offer amends modal, approval buttons and modals, and the approver directory
(what appears in Slack after a change is handlers/amends_effects.py, delivered by the follow-up engine)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.amends import (
    AmendsService,
    Decision,
    OfferField,
    validate_offer,
)
from bot.errors import MendError
from handlers.blocks.amends import (
    AmendsRef,
    build_amends_home_section,
    build_decision_modal,
    build_guarantee_done,
    build_offer_modal,
)
from handlers.blocks.recovery import StepRef
from handlers.errors import who_and_where
from handlers.forms import save_then_ack
from handlers.ids import AmendsBlock
from handlers.slack_api import SlackPoster, error_code
from handlers.tasks import BackgroundTasks

log = logging.getLogger(__name__)

Ack = Callable[..., Awaitable[None]]
BROKEN = "That button doesn't point at anything I know. Please use the buttons in the case thread."

OFFER_BLOCKS: dict[OfferField, AmendsBlock] = {
    OfferField.KIND: AmendsBlock.KIND,
    OfferField.AMOUNT: AmendsBlock.AMOUNT,
    OfferField.JUSTIFICATION: AmendsBlock.JUSTIFICATION,
    OfferField.CUSTOMER_COST: AmendsBlock.CUSTOMER_COST,
    OfferField.APPROVER: AmendsBlock.APPROVER,
}


class SlackApproverDirectory:
    """Implements ApproverDirectory with `usergroups.users.list` and `users.info`."""

    def __init__(self, poster: SlackPoster) -> None:
        self._poster = poster

    async def group_members(self, group_id: str) -> list[str]:
        try:
            resp = await self._poster.client.usergroups_users_list(usergroup=group_id)
        except SlackApiError as exc:
            log.warning("APPROVER_GROUP %s: usergroups.users.list failed (%s)", group_id, error_code(exc))
            return []
        return [str(u) for u in resp.get("users") or []]

    async def is_user(self, user_id: str) -> bool:
        try:
            resp = await self._poster.client.users_info(user=user_id)
        except SlackApiError as exc:
            if error_code(exc) in {"user_not_found", "invalid_arguments"}:
                return False
            raise
        user = resp.get("user") or {}
        return not user.get("deleted") and not user.get("is_bot")


class AmendsListeners:
    """Bolt listeners for amends. Buttons ack at once; modals save before they ack (see forms.py)."""

    def __init__(self, service: AmendsService, poster: SlackPoster, tasks: BackgroundTasks) -> None:
        self._service = service
        self._poster = poster
        self._tasks = tasks

    # ---- offering ------------------------------------------------------------------------------

    async def open_offer_modal(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        ref = StepRef.decode(action.get("value"))
        user_id, team_id, channel_id = _actor(body)

        async def work() -> None:
            if ref is None or user_id is None or team_id is None:
                raise MendError(BROKEN)
            ctx = await self._service.offer_context(ref.case_id, team_id)
            await self._open(body, build_offer_modal(ctx))

        self._tasks.spawn(work(), user_id=user_id, channel_id=channel_id, name="open-amends-offer")

    async def submit_offer(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ref = StepRef.decode(view.get("private_metadata"))
        user_id, team_id, _ = _actor(body)
        raw = {
            OfferField.KIND: _selected(view, AmendsBlock.KIND),
            OfferField.AMOUNT: _text(view, AmendsBlock.AMOUNT),
            OfferField.JUSTIFICATION: _text(view, AmendsBlock.JUSTIFICATION),
            OfferField.CUSTOMER_COST: _text(view, AmendsBlock.CUSTOMER_COST),
        }
        approver = _element(view, AmendsBlock.APPROVER).get("selected_user")
        offer, problems = validate_offer(raw, self._service.policy)
        if offer is None:
            await ack(
                response_action="errors", errors={OFFER_BLOCKS[f].value: m for f, m in problems.items()}
            )
            return
        if ref is None or user_id is None or team_id is None:
            await ack(response_action="errors", errors={AmendsBlock.AMOUNT.value: BROKEN})
            return
        saved = await save_then_ack(
            ack,
            self._service.offer(
                ref.case_id,
                offer,
                actor_user_id=user_id,
                team_id=team_id,
                approver_user_id=approver if isinstance(approver, str) and approver else None,
                submission_key=str(view.get("id") or "") or None,
            ),
            tasks=self._tasks,
            user_id=user_id,
            error_block=AmendsBlock.AMOUNT.value,
            field_blocks={f.value: b.value for f, b in OFFER_BLOCKS.items()},
            when_late=lambda amends: self._service.sync(amends.id),
        )
        if saved is not None:
            self._sync(saved.id, user_id)

    async def invoke_guarantee(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        ref = StepRef.decode(action.get("value"))
        user_id, team_id, channel_id = _actor(body)
        view = body.get("view") if isinstance(body.get("view"), dict) else {}

        async def work() -> None:
            if ref is None or user_id is None or team_id is None:
                raise MendError(BROKEN)
            amends = await self._service.invoke_guarantee(ref.case_id, actor_user_id=user_id, team_id=team_id)
            case = await self._service.case_for(amends)
            view_id = (view or {}).get("id")
            if isinstance(view_id, str):
                try:
                    await self._poster.client.views_update(
                        view_id=view_id, view=build_guarantee_done(amends, case)
                    )
                except SlackApiError:
                    log.info("could not redraw the offer modal after the guarantee", exc_info=True)
            await self._service.sync(amends.id)

        self._tasks.spawn(work(), user_id=user_id, channel_id=channel_id, name="invoke-guarantee")

    # ---- deciding ------------------------------------------------------------------------------

    async def approve(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        ref = AmendsRef.decode(action.get("value"))
        user_id, team_id, channel_id = _actor(body)

        async def work() -> None:
            if ref is None or user_id is None or team_id is None:
                raise MendError(BROKEN)
            await self._service.decide(
                ref.amends_id, Decision.APPROVE, actor_user_id=user_id, team_id=team_id
            )
            await self._service.sync(ref.amends_id)

        self._tasks.spawn(work(), user_id=user_id, channel_id=channel_id, name="approve-amends")

    async def open_reject_modal(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await self._open_decision_modal(ack, body, action, Decision.REJECT)

    async def open_adjust_modal(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await self._open_decision_modal(ack, body, action, Decision.ADJUST)

    async def _open_decision_modal(
        self, ack: Ack, body: dict[str, Any], action: dict[str, Any], decision: Decision
    ) -> None:
        await ack()
        ref = AmendsRef.decode(action.get("value"))
        user_id, team_id, channel_id = _actor(body)

        async def work() -> None:
            if ref is None or user_id is None or team_id is None:
                raise MendError(BROKEN)
            # Outsiders are refused before any form opens; the attempt is audited.
            amends = await self._service.check_decider(ref.amends_id, actor_user_id=user_id, team_id=team_id)
            case = await self._service.case_for(amends)
            await self._open(body, build_decision_modal(amends, case, decision))

        self._tasks.spawn(work(), user_id=user_id, channel_id=channel_id, name="open-amends-decision")

    async def submit_reject(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        await self._submit_decision(ack, body, view, Decision.REJECT)

    async def submit_adjust(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        await self._submit_decision(ack, body, view, Decision.ADJUST)

    async def _submit_decision(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any], decision: Decision
    ) -> None:
        ref = AmendsRef.decode(view.get("private_metadata"))
        user_id, team_id, _ = _actor(body)
        if ref is None or user_id is None or team_id is None:
            await ack(response_action="errors", errors={AmendsBlock.REASON.value: BROKEN})
            return
        decided = await save_then_ack(
            ack,
            self._service.decide(
                ref.amends_id,
                decision,
                actor_user_id=user_id,
                team_id=team_id,
                reason=_text(view, AmendsBlock.REASON),
                new_amount=_text(view, AmendsBlock.NEW_AMOUNT),
            ),
            tasks=self._tasks,
            user_id=user_id,
            error_block=AmendsBlock.REASON.value,
            field_blocks={
                OfferField.REASON.value: AmendsBlock.REASON.value,
                OfferField.AMOUNT.value: AmendsBlock.NEW_AMOUNT.value
                if decision is Decision.ADJUST
                else AmendsBlock.REASON.value,
            },
            when_late=lambda amends: self._service.sync(amends.id),
        )
        if decided is not None:
            self._sync(decided.id, user_id)

    # ---- plumbing ------------------------------------------------------------------------------

    def _sync(self, amends_id: int, user_id: str | None) -> None:
        self._tasks.spawn(self._service.sync(amends_id), user_id=user_id, channel_id=None, name="sync-amends")

    async def _open(self, body: dict[str, Any], view: Any) -> None:
        await self._poster.open_modal(body.get("trigger_id"), view)


def _actor(body: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    team = body.get("team") if isinstance(body.get("team"), dict) else {}
    user_id = (user or {}).get("id")
    team_id = (team or {}).get("id") or (user or {}).get("team_id")
    _, channel_id = who_and_where(body)
    return (
        user_id if isinstance(user_id, str) and user_id else None,
        team_id if isinstance(team_id, str) and team_id else None,
        channel_id,
    )


def _element(view: dict[str, Any], block: AmendsBlock) -> dict[str, Any]:
    values = ((view.get("state") or {}).get("values")) if isinstance(view.get("state"), dict) else None
    state = values.get(block.value) if isinstance(values, dict) else None
    element = state.get(block.action_id) if isinstance(state, dict) else None
    return element if isinstance(element, dict) else {}


def _text(view: dict[str, Any], block: AmendsBlock) -> str | None:
    value = _element(view, block).get("value")
    return value if isinstance(value, str) else None


def _selected(view: dict[str, Any], block: AmendsBlock) -> str | None:
    option = _element(view, block).get("selected_option")
    value = option.get("value") if isinstance(option, dict) else None
    return value if isinstance(value, str) else None


class AmendsHomeSection:
    """Adds amends to a person's Home tab (see HomePublisher.add_section)."""

    def __init__(self, service: AmendsService) -> None:
        self._service = service

    async def __call__(self, team_id: str, user_id: str) -> list[Block]:
        return build_amends_home_section(await self._service.home_summary(team_id, user_id))
