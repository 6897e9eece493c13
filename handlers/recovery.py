"""The Slack edge of the playbook: step buttons, the skip/apology/owner/root-cause modals, and thread posts."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.apology_templates import Situation, fill_template
from bot.cases import Case, CaseConfig, Category, MessageRef
from bot.errors import InvalidInput, MendError, SlackUnavailable
from bot.playbook import CaseStep, Progress, StepStatus
from bot.records import CaseRecord, RecordField
from bot.recovery import RecoveryService
from handlers.blocks.cases import build_case_card, case_card_text
from handlers.blocks.recovery import (
    StepRef,
    build_apology_modal,
    build_assign_owner_modal,
    build_closing_summary,
    build_finished_step,
    build_record_modal,
    build_reopen_modal,
    build_reopened_notice,
    build_root_cause_modal,
    build_skip_modal,
    build_step_prompt,
)
from handlers.errors import who_and_where
from handlers.forms import save_then_ack
from handlers.ids import MessageMetadata, StepBlock
from handlers.slack_api import SlackPoster, error_code
from handlers.tasks import BackgroundTasks

log = logging.getLogger(__name__)

Ack = Callable[..., Awaitable[None]]
BROKEN_BUTTON = "That button doesn't point at a case step I know. Please use the buttons in the case thread."


class SlackRecoveryNotifier:
    """Implements the domain's RecoveryNotifier with thread replies and in-place updates."""

    def __init__(self, poster: SlackPoster, config: CaseConfig, root_causes: Sequence[Category]) -> None:
        self._poster = poster
        self._config = config
        self._root_causes = tuple(root_causes)

    async def post_step_prompt(self, case: Case, step: CaseStep, progress: Progress) -> MessageRef:
        assert case.card is not None, "step prompts live in the case thread"
        return await self._poster.post_once(
            channel_id=case.card.channel_id,
            thread_ts=case.card.ts,
            text=f"{case.reference} · step {step.position + 1}: {step.step.title}",
            blocks=build_step_prompt(case, step, progress),
            event_type=MessageMetadata.STEP_PROMPT.value,
            key=f"{case.id}:{step.key}",
        )

    async def redraw_step_prompt(self, case: Case, step: CaseStep, progress: Progress) -> None:
        if not step.prompt_channel_id or not step.prompt_ts:
            return
        if step.status is StepStatus.PENDING:
            blocks = build_step_prompt(case, step, progress)
        else:
            blocks = build_finished_step(case, step, progress, self._root_causes)
        await self._update(
            step.prompt_channel_id, step.prompt_ts, f"{case.reference} · {step.step.title}", blocks
        )

    async def update_case_card(self, case: Case, progress: Progress) -> None:
        if case.card is None:
            return
        blocks = build_case_card(case, self._config, progress)
        await self._update(case.card.channel_id, case.card.ts, case_card_text(case, self._config), blocks)

    async def post_closing_summary(
        self, case: Case, steps: Sequence[CaseStep], record: CaseRecord | None
    ) -> MessageRef:
        assert case.card is not None, "the summary goes in the case thread"
        return await self._poster.post_once(
            channel_id=case.card.channel_id,
            thread_ts=case.card.ts,
            text=f"Case {case.reference} is closed.",
            blocks=build_closing_summary(case, steps, record, self._root_causes),
            event_type=MessageMetadata.CASE_CLOSED.value,
            key=f"{case.id}:{case.reopen_count}",
        )

    async def announce_reopened(self, case: Case, actor_user_id: str, reason: str) -> None:
        if case.card is None:
            return
        await self._poster.post_once(
            channel_id=case.card.channel_id,
            thread_ts=case.card.ts,
            text=f"Case {case.reference} was reopened.",
            blocks=build_reopened_notice(case, actor_user_id, reason),
            event_type=MessageMetadata.CASE_REOPENED.value,
            key=f"{case.id}:{case.reopen_count}",
        )

    async def _update(self, channel_id: str, ts: str, text: str, blocks: Sequence[Any]) -> None:
        try:
            await self._poster.client.chat_update(
                channel=channel_id, ts=ts, text=text, blocks=[b.to_dict() for b in blocks]
            )
        except SlackApiError as exc:
            raise SlackUnavailable(
                f"Saved, but Slack refused to update the thread ({error_code(exc) or 'error'}); "
                "it will show the change with the next one."
            ) from exc


class RecoveryListeners:
    """Bolt listeners for the playbook. Buttons ack at once; modals save before they ack (see forms.py)."""

    def __init__(self, service: RecoveryService, poster: SlackPoster, tasks: BackgroundTasks) -> None:
        self._service = service
        self._poster = poster
        self._tasks = tasks

    # ---- buttons on step prompts and the card -------------------------------------------------

    async def complete_step(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()

        async def work(ref: StepRef, user_id: str, team_id: str) -> None:
            await self._service.complete_step(
                ref.case_id, ref.step_key, actor_user_id=user_id, team_id=team_id
            )

        self._run(body, action, work)

    async def take_ownership(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()

        async def work(ref: StepRef, user_id: str, team_id: str) -> None:
            await self._service.take_ownership(ref.case_id, actor_user_id=user_id, team_id=team_id)

        self._run(body, action, work)

    async def close_case(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()

        async def work(ref: StepRef, user_id: str, team_id: str) -> None:
            await self._service.close_case(ref.case_id, actor_user_id=user_id, team_id=team_id)

        self._run(body, action, work)

    async def open_skip_modal(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()

        async def work(ref: StepRef, user_id: str, team_id: str) -> None:
            case, step = await self._service.open_step(ref.case_id, ref.step_key, team_id)
            await self._open(body, build_skip_modal(case, step))

        self._run(body, action, work, sync=False)

    async def open_apology_modal(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()

        async def work(ref: StepRef, user_id: str, team_id: str) -> None:
            case, step = await self._service.open_step(ref.case_id, ref.step_key, team_id)
            await self._open(body, build_apology_modal(case, step))

        self._run(body, action, work, sync=False)

    async def open_assign_owner_modal(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()

        async def work(ref: StepRef, user_id: str, team_id: str) -> None:
            case, step = await self._service.open_step(ref.case_id, ref.step_key, team_id)
            await self._open(body, build_assign_owner_modal(case, step, case.owner_user_id))

        self._run(body, action, work, sync=False)

    async def open_root_cause_modal(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()

        async def work(ref: StepRef, user_id: str, team_id: str) -> None:
            case, step = await self._service.open_step(ref.case_id, ref.step_key, team_id)
            await self._open(body, build_root_cause_modal(case, step, self._service.root_causes))

        self._run(body, action, work, sync=False)

    async def open_record_modal(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()

        async def work(ref: StepRef, user_id: str, team_id: str) -> None:
            case, step = await self._service.open_step(ref.case_id, ref.step_key, team_id)
            await self._open(body, build_record_modal(case, step.key, self._service.root_causes))

        self._run(body, action, work, sync=False)

    async def open_reopen_modal(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()

        async def work(ref: StepRef, user_id: str, team_id: str) -> None:
            case, _ = await self._service.load(ref.case_id, team_id)
            if case.is_open:
                raise MendError(f"Case {case.reference} is open already.")
            await self._open(body, build_reopen_modal(case))

        self._run(body, action, work, sync=False)

    async def choose_apology_template(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        """A template chosen in the apology modal: redraw the modal with the draft filled in."""
        await ack()
        view = body.get("view") if isinstance(body.get("view"), dict) else {}
        selected = action.get("selected_option") if isinstance(action.get("selected_option"), dict) else {}
        ref = StepRef.decode((view or {}).get("private_metadata"))
        user_id, team_id = _actor(body)
        try:
            situation = Situation(str((selected or {}).get("value")))
        except ValueError:
            return
        if ref is None or user_id is None or team_id is None:
            return

        async def redraw() -> None:
            case, step = await self._service.open_step(ref.case_id, ref.step_key, team_id)
            filled = fill_template(
                situation, customer_name=case.report.customer_name, summary=case.report.summary
            )
            modal = build_apology_modal(
                case, step, draft=filled.text, version=ref.version + 1, situation=situation
            )
            await self._poster.client.views_update(
                view_id=str((view or {}).get("id")), hash=(view or {}).get("hash"), view=modal
            )

        self._tasks.spawn(redraw(), user_id=user_id, channel_id=None, name="apology-template")

    # ---- modal submissions --------------------------------------------------------------------

    async def submit_skip(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        reason = _text_value(view, StepBlock.REASON.value, StepBlock.REASON.action_id)

        def save(ref: StepRef, user_id: str, team_id: str) -> Coroutine[Any, Any, None]:
            return self._service.skip_step(
                ref.case_id, ref.step_key, actor_user_id=user_id, team_id=team_id, reason=reason
            )

        await self._submit(
            ack,
            body,
            view,
            save,
            error_block=StepBlock.REASON.value,
            fields={"reason": StepBlock.REASON.value},
        )

    async def submit_apology(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        draft_block = _block_starting(view, StepBlock.APOLOGY_DRAFT.value) or StepBlock.APOLOGY_DRAFT.value
        draft = _text_value(view, draft_block, StepBlock.APOLOGY_DRAFT.action_id)
        override = "send_as_written" in _checked(
            view, StepBlock.APOLOGY_OVERRIDE.value, StepBlock.APOLOGY_OVERRIDE.action_id
        )

        async def save(ref: StepRef, user_id: str, team_id: str) -> None:
            await self._service.send_apology(
                ref.case_id, actor_user_id=user_id, team_id=team_id, draft=draft, override=override
            )

        await self._submit(ack, body, view, save, error_block=draft_block, fields={"draft": draft_block})

    async def submit_assign_owner(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        state = _element(view, StepBlock.OWNER.value, StepBlock.OWNER.action_id)
        owner = state.get("selected_user") if isinstance(state.get("selected_user"), str) else None

        async def save(ref: StepRef, user_id: str, team_id: str) -> None:
            if not owner:
                raise InvalidInput("owner", "Choose who owns this case.")
            await self._service.take_ownership(
                ref.case_id, actor_user_id=user_id, team_id=team_id, owner_user_id=owner
            )

        await self._submit(
            ack, body, view, save, error_block=StepBlock.OWNER.value, fields={"owner": StepBlock.OWNER.value}
        )

    async def submit_root_cause(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        category_state = _element(
            view, StepBlock.ROOT_CAUSE_CATEGORY.value, StepBlock.ROOT_CAUSE_CATEGORY.action_id
        )
        option = category_state.get("selected_option")
        category = option.get("value") if isinstance(option, dict) else None
        details = _text_value(
            view, StepBlock.ROOT_CAUSE_DETAILS.value, StepBlock.ROOT_CAUSE_DETAILS.action_id
        )

        async def save(ref: StepRef, user_id: str, team_id: str) -> None:
            await self._service.record_root_cause(
                ref.case_id, actor_user_id=user_id, team_id=team_id, category=category, details=details
            )

        await self._submit(
            ack,
            body,
            view,
            save,
            error_block=StepBlock.ROOT_CAUSE_DETAILS.value,
            fields={
                "category": StepBlock.ROOT_CAUSE_CATEGORY.value,
                "details": StepBlock.ROOT_CAUSE_DETAILS.value,
            },
        )

    async def submit_record(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        blocks = {
            RecordField.ROOT_CAUSE: StepBlock.RECORD_ROOT_CAUSE,
            RecordField.WHAT_HAPPENED: StepBlock.RECORD_WHAT_HAPPENED,
            RecordField.WHAT_FIXED: StepBlock.RECORD_WHAT_FIXED,
            RecordField.PREVENTION: StepBlock.RECORD_PREVENTION,
            RecordField.PROCESS_OWNER: StepBlock.RECORD_PROCESS_OWNER,
            RecordField.LESSON: StepBlock.RECORD_LESSON,
        }
        raw: dict[RecordField, Any] = {
            field: _input_value(_element(view, b.value, b.action_id)) for field, b in blocks.items()
        }

        async def save(ref: StepRef, user_id: str, team_id: str) -> None:
            await self._service.write_record(ref.case_id, actor_user_id=user_id, team_id=team_id, raw=raw)

        await self._submit(
            ack,
            body,
            view,
            save,
            error_block=StepBlock.RECORD_WHAT_HAPPENED.value,
            fields={field.value: block.value for field, block in blocks.items()},
        )

    async def submit_reopen(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        reason = _text_value(view, StepBlock.REOPEN_REASON.value, StepBlock.REOPEN_REASON.action_id)

        async def save(ref: StepRef, user_id: str, team_id: str) -> None:
            await self._service.reopen_case(
                ref.case_id, actor_user_id=user_id, team_id=team_id, reason=reason
            )

        async def announce(ref: StepRef, user_id: str) -> None:
            await self._service.announce_reopened(ref.case_id, actor_user_id=user_id, reason=reason or "")

        await self._submit(
            ack,
            body,
            view,
            save,
            error_block=StepBlock.REOPEN_REASON.value,
            fields={"reason": StepBlock.REOPEN_REASON.value},
            then=announce,
        )

    # ---- plumbing -----------------------------------------------------------------------------

    def _run(
        self,
        body: dict[str, Any],
        action: dict[str, Any],
        work: Callable[[StepRef, str, str], Awaitable[None]],
        *,
        sync: bool = True,
    ) -> None:
        """Run a button's work after the ack, then show the result in Slack."""
        user_id, team_id = _actor(body)
        _, channel_id = who_and_where(body)
        ref = StepRef.decode(action.get("value"))

        async def run() -> None:
            if ref is None or user_id is None or team_id is None:
                raise MendError(BROKEN_BUTTON)
            await work(ref, user_id, team_id)
            if sync:
                await self._service.sync(ref.case_id)

        self._tasks.spawn(run(), user_id=user_id, channel_id=channel_id, name="step-action")

    async def _open(self, body: dict[str, Any], view: Any) -> None:
        await self._poster.open_modal(body.get("trigger_id"), view)

    async def _submit(
        self,
        ack: Ack,
        body: dict[str, Any],
        view: dict[str, Any],
        save: Callable[[StepRef, str, str], Coroutine[Any, Any, None]],
        *,
        error_block: str,
        fields: dict[str, str],
        then: Callable[[StepRef, str], Awaitable[None]] | None = None,
    ) -> None:
        """A playbook modal: save before the ack, then (after it) `then` and a sync of the case."""
        ref = StepRef.decode(view.get("private_metadata"))
        user_id, team_id = _actor(body)
        if ref is None or user_id is None or team_id is None:
            await ack(response_action="errors", errors={error_block: BROKEN_BUTTON})
            return
        saved = await save_then_ack(
            ack,
            _returning_true(save(ref, user_id, team_id)),
            tasks=self._tasks,
            user_id=user_id,
            error_block=error_block,
            field_blocks=fields,
            when_late=lambda _done: self._after_save(ref, user_id, then),
        )
        if saved:
            self._tasks.spawn(
                self._after_save(ref, user_id, then), user_id=user_id, channel_id=None, name="sync-case"
            )

    async def _after_save(
        self, ref: StepRef, user_id: str, then: Callable[[StepRef, str], Awaitable[None]] | None
    ) -> None:
        if then is not None:
            await then(ref, user_id)
        await self._service.sync(ref.case_id)


async def _returning_true(work: Coroutine[Any, Any, None]) -> bool:
    await work
    return True


def _actor(body: dict[str, Any]) -> tuple[str | None, str | None]:
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    team = body.get("team") if isinstance(body.get("team"), dict) else {}
    user_id = (user or {}).get("id")
    team_id = (team or {}).get("id") or (user or {}).get("team_id")
    return (
        user_id if isinstance(user_id, str) and user_id else None,
        team_id if isinstance(team_id, str) and team_id else None,
    )


def _element(view: dict[str, Any], block_id: str, action_id: str) -> dict[str, Any]:
    values = ((view.get("state") or {}).get("values")) if isinstance(view.get("state"), dict) else None
    block = values.get(block_id) if isinstance(values, dict) else None
    element = block.get(action_id) if isinstance(block, dict) else None
    return element if isinstance(element, dict) else {}


def _input_value(element: dict[str, Any]) -> Any:
    """An input's value whatever its type: text, a selected option's value, or a selected user."""
    option = element.get("selected_option")
    if isinstance(option, dict):
        return option.get("value")
    return element.get("selected_user") or element.get("value")


def _text_value(view: dict[str, Any], block_id: str, action_id: str) -> str | None:
    value = _element(view, block_id, action_id).get("value")
    return value if isinstance(value, str) else None


def _checked(view: dict[str, Any], block_id: str, action_id: str) -> set[str]:
    options = _element(view, block_id, action_id).get("selected_options")
    if not isinstance(options, list):
        return set()
    return {str(o.get("value")) for o in options if isinstance(o, dict)}


def _block_starting(view: dict[str, Any], prefix: str) -> str | None:
    values = ((view.get("state") or {}).get("values")) if isinstance(view.get("state"), dict) else None
    if not isinstance(values, dict):
        return None
    return next((k for k in values if isinstance(k, str) and k.startswith(prefix)), None)
