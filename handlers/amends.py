"""The Slack edge of amends: the Offer amends modal, approval buttons and modals (the approver directory is
handlers/people.py; what appears in Slack after a change is handlers/amends_effects.py, delivered by the
follow-up engine)."""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.amends import (
    Amends,
    AmendsService,
    Decision,
    OfferField,
    validate_offer,
)
from handlers.blocks.amends import (
    AmendsRef,
    build_amends_home_section,
    build_decision_modal,
    build_guarantee_done,
    build_offer_modal,
)
from handlers.blocks.recovery import StepRef
from handlers.ids import AmendsBlock
from handlers.interaction import Acting, Interaction, ListenerKit
from handlers.slack_api import SlackPoster
from handlers.tasks import BackgroundTasks

log = logging.getLogger(__name__)

# The offer modal's blocks, each named as the part of the offer it holds.
OFFER_FIELDS = (
    OfferField.KIND,
    OfferField.AMOUNT,
    OfferField.JUSTIFICATION,
    OfferField.CUSTOMER_COST,
    OfferField.APPROVER,
)
OFFER_BLOCKS: dict[OfferField, AmendsBlock] = {f: AmendsBlock[f.name] for f in OFFER_FIELDS}


class AmendsListeners:
    """Bolt listeners for amends. Buttons ack at once; modals save before they ack."""

    def __init__(self, service: AmendsService, poster: SlackPoster, tasks: BackgroundTasks) -> None:
        self._service = service
        self._kit = ListenerKit(poster, tasks)

    # ---- offering ------------------------------------------------------------------------------

    async def open_offer_modal(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async def work(step: Acting[StepRef]) -> None:
            ctx = await self._service.offer_context(step.ref.case_id, step.team_id)
            await self._kit.open_modal(step.interaction, build_offer_modal(ctx), belongs_to=ctx.case.team_id)

        await self._kit.ack_then_act(ack, body, StepRef, work, name="open-amends-offer")

    async def submit_offer(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        form = Interaction.from_body(body).form
        raw = {
            OfferField.KIND: form.option(AmendsBlock.KIND),
            OfferField.AMOUNT: form.text(AmendsBlock.AMOUNT),
            OfferField.JUSTIFICATION: form.text(AmendsBlock.JUSTIFICATION),
            OfferField.CUSTOMER_COST: form.text(AmendsBlock.CUSTOMER_COST),
        }
        offer, problems = validate_offer(raw, self._service.policy)
        if offer is None:
            await ack(
                response_action="errors", errors={OFFER_BLOCKS[f].value: m for f, m in problems.items()}
            )
            return
        valid = offer

        async def save(step: Acting[StepRef]) -> Amends:
            return await self._service.offer(
                step.ref.case_id,
                valid,
                **step.actor,
                approver_user_id=await self._kit.person(step, AmendsBlock.APPROVER),
                submission_key=step.interaction.view_id,
            )

        await self._kit.submit(
            ack,
            body,
            StepRef,
            save,
            error_block=AmendsBlock.AMOUNT.value,
            field_blocks={f.value: b.value for f, b in OFFER_BLOCKS.items()},
            then=self._sync,
        )

    async def invoke_guarantee(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async def work(step: Acting[StepRef]) -> None:
            amends = await self._service.invoke_guarantee(step.ref.case_id, **step.actor)
            case = await self._service.case_for(amends)
            view_id = step.interaction.view_id
            if view_id is not None:
                try:
                    await self._kit.poster.client.views_update(
                        view_id=view_id, view=build_guarantee_done(amends, case)
                    )
                except SlackApiError:
                    log.info("could not redraw the offer modal after the guarantee", exc_info=True)
            await self._service.sync(amends.id)

        await self._kit.ack_then_act(ack, body, StepRef, work, name="invoke-guarantee")

    # ---- deciding ------------------------------------------------------------------------------

    async def approve(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async def work(request: Acting[AmendsRef]) -> None:
            await self._service.decide(request.ref.amends_id, Decision.APPROVE, **request.actor)
            await self._service.sync(request.ref.amends_id)

        await self._kit.ack_then_act(ack, body, AmendsRef, work, name="approve-amends")

    async def open_reject_modal(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await self._open_decision_modal(ack, body, Decision.REJECT)

    async def open_adjust_modal(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await self._open_decision_modal(ack, body, Decision.ADJUST)

    async def _open_decision_modal(self, ack: AsyncAck, body: dict[str, Any], decision: Decision) -> None:
        async def work(request: Acting[AmendsRef]) -> None:
            # Outsiders are refused before any form opens; the attempt is audited.
            amends = await self._service.check_decider(request.ref.amends_id, **request.actor)
            case = await self._service.case_for(amends)
            modal = build_decision_modal(amends, case, decision)
            await self._kit.open_modal(request.interaction, modal, belongs_to=amends.team_id)

        await self._kit.ack_then_act(ack, body, AmendsRef, work, name="open-amends-decision")

    async def submit_reject(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await self._submit_decision(ack, body, Decision.REJECT)

    async def submit_adjust(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await self._submit_decision(ack, body, Decision.ADJUST)

    async def _submit_decision(self, ack: AsyncAck, body: dict[str, Any], decision: Decision) -> None:
        def save(request: Acting[AmendsRef]) -> Coroutine[Any, Any, Amends]:
            form = request.interaction.form
            return self._service.decide(
                request.ref.amends_id,
                decision,
                **request.actor,
                reason=form.text(AmendsBlock.REASON),
                new_amount=form.text(AmendsBlock.NEW_AMOUNT),
            )

        amount_block = AmendsBlock.NEW_AMOUNT if decision is Decision.ADJUST else AmendsBlock.REASON
        await self._kit.submit(
            ack,
            body,
            AmendsRef,
            save,
            error_block=AmendsBlock.REASON.value,
            field_blocks={
                OfferField.REASON.value: AmendsBlock.REASON.value,
                OfferField.AMOUNT.value: amount_block,
            },
            then=self._sync,
        )

    async def _sync(self, _acting: object, amends: Amends) -> None:
        await self._service.sync(amends.id)


class AmendsHomeSection:
    """Adds amends to a person's Home tab (one of HomePublisher's `sections`)."""

    def __init__(self, service: AmendsService) -> None:
        self._service = service

    async def __call__(self, team_id: str, user_id: str) -> list[Block]:
        return build_amends_home_section(await self._service.home_summary(team_id, user_id))
