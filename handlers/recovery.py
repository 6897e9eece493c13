"""The Slack edge of the playbook: step buttons, the skip/apology/owner/root-cause modals, and thread posts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.apology_templates import Situation, fill_template
from bot.cases import Case, CaseConfig, Category, MessageRef
from bot.errors import InvalidInput
from bot.playbook import CaseStep, Progress, StepStatus
from bot.records import CaseRecord, RecordField
from bot.recovery import ApologyNeedsForm, RecoveryService
from handlers import payloads
from handlers.blocks.cases import build_case_card, case_card_text
from handlers.blocks.commitments import Commitments, build_card_commitments
from handlers.blocks.recovery import (
    StepRef,
    build_apology_modal,
    build_assign_owner_modal,
    build_closing_summary,
    build_finished_step,
    build_record_modal,
    build_reopen_modal,
    build_reopened_notice,
    build_retired_step,
    build_root_cause_modal,
    build_skip_modal,
    build_step_prompt,
)
from handlers.ids import MessageMetadata, StepBlock
from handlers.interaction import Acting, Form, Interaction, ListenerKit
from handlers.slack_api import SlackPoster
from handlers.tasks import BackgroundTasks

#: Told (the nudge's id and round, who recorded it) once an apology form opened from a nudge is saved.
NudgeAnswered = Callable[[tuple[int, int], str], Awaitable[None]]


class SlackRecoveryNotifier:
    """Implements the domain's RecoveryNotifier with thread replies and in-place updates."""

    def __init__(
        self,
        poster: SlackPoster,
        config: CaseConfig,
        root_causes: Sequence[Category],
        commitments: Commitments | None = None,
    ) -> None:
        self._commitments = commitments
        self._poster = poster
        self._config = config
        self._root_causes = tuple(root_causes)

    async def post_step_prompt(self, case: Case, step: CaseStep, progress: Progress) -> MessageRef:
        assert case.card is not None, "step prompts live in the case thread"
        return await self._poster.post_once(
            case.card,
            f"{case.reference} · step {step.position + 1}: {step.step.title}",
            build_step_prompt(case, step, progress),
            event_type=MessageMetadata.STEP_PROMPT,
            # A reopened step's fresh prompt is a new message, not its old one found again.
            key=f"{case.id}:{step.key}"
            + (f":{step.at.timestamp():.0f}" if step.reopened and step.at else ""),
        )

    async def retire_prompt(
        self, case: Case, step: CaseStep, ref: MessageRef, progress: Progress, *, reopened: bool
    ) -> None:
        blocks = build_retired_step(case, step, progress, reopened=reopened)
        await self._poster.update(ref, f"{case.reference} · {step.step.title}", blocks)

    async def redraw_step_prompt(self, case: Case, step: CaseStep, progress: Progress) -> None:
        if not step.prompt_channel_id or not step.prompt_ts:
            return
        if step.status is StepStatus.PENDING:
            blocks = build_step_prompt(case, step, progress)
        else:
            blocks = build_finished_step(case, step, progress, self._root_causes)
        prompt = MessageRef(channel_id=step.prompt_channel_id, ts=step.prompt_ts)
        await self._poster.update(prompt, f"{case.reference} · {step.step.title}", blocks)

    async def update_case_card(self, case: Case, progress: Progress) -> None:
        if case.card is None:
            return
        blocks = build_case_card(case, self._config, progress)
        if self._commitments is not None:  # what the case still owes the customer, with the due times
            blocks += build_card_commitments(*await self._commitments.open_commitments(case.id))
        await self._poster.update(case.card, case_card_text(case, self._config), blocks)

    async def post_closing_summary(
        self, case: Case, steps: Sequence[CaseStep], record: CaseRecord | None
    ) -> MessageRef:
        assert case.card is not None, "the summary goes in the case thread"
        return await self._poster.post_once(
            case.card,
            f"Case {case.reference} is closed.",
            build_closing_summary(case, steps, record, self._root_causes),
            event_type=MessageMetadata.CASE_CLOSED,
            key=f"{case.id}:{case.reopen_count}",
        )

    async def announce_reopened(self, case: Case, actor_user_id: str, reason: str) -> None:
        if case.card is None:
            return
        await self._poster.post_once(
            case.card,
            f"Case {case.reference} was reopened.",
            build_reopened_notice(case, actor_user_id, reason),
            event_type=MessageMetadata.CASE_REOPENED,
            key=f"{case.id}:{case.reopen_count}",
        )


class RecoveryListeners:
    """Bolt listeners for the playbook. Buttons ack at once; modals save before they ack."""

    def __init__(self, service: RecoveryService, poster: SlackPoster, tasks: BackgroundTasks) -> None:
        self._service = service
        self._kit = ListenerKit(poster, tasks)
        self._nudge_answered: NudgeAnswered | None = None

    def resolve_nudges_with(self, nudge_answered: NudgeAnswered) -> None:
        """The apology form opened from an acknowledgement nudge resolves that nudge once it is recorded."""
        self._nudge_answered = nudge_answered

    # ---- buttons on step prompts and the card -------------------------------------------------

    async def complete_step(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        # A step that asks for a line has it typed on its prompt: Slack sends the message's inputs with Done.
        note = Form(payloads.field(body, "state", "values")).text(StepBlock.STEP_NOTE)

        async def work(step: Acting[StepRef]) -> None:
            try:
                await self._service.complete_step(
                    step.ref.case_id, step.ref.step_key, **step.actor, note=note
                )
            except ApologyNeedsForm as needs:  # Done on the apology: what was sent goes through the coach
                await self.open_apology_form(step.interaction, needs)

        await self._button(ack, body, work)

    async def open_apology_form(
        self, interaction: Interaction, needs: ApologyNeedsForm, nudge: tuple[int, int] | None = None
    ) -> None:
        """The apology form in place of Done (on the step or an acknowledgement nudge)."""
        modal = build_apology_modal(needs.case, needs.step, nudge=nudge)
        await self._kit.open_modal(interaction, modal, belongs_to=needs.case.team_id)

    async def take_ownership(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async def work(step: Acting[StepRef]) -> None:
            await self._service.take_ownership(step.ref.case_id, **step.actor)

        await self._button(ack, body, work)

    async def close_case(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async def work(step: Acting[StepRef]) -> None:
            await self._service.close_case(step.ref.case_id, **step.actor)

        await self._button(ack, body, work)

    async def open_skip_modal(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await self._step_modal(
            ack, body, lambda case, step: build_skip_modal(case, step), opens=self._service.open_skip
        )

    async def open_apology_modal(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await self._step_modal(ack, body, lambda case, step: build_apology_modal(case, step))

    async def open_assign_owner_modal(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await self._step_modal(
            ack,
            body,
            lambda case, step: build_assign_owner_modal(case, step, case.owner_user_id),
            opens=self._service.open_assignment,
        )

    async def open_root_cause_modal(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await self._step_modal(
            ack, body, lambda case, step: build_root_cause_modal(case, step, self._service.root_causes)
        )

    async def open_record_modal(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await self._step_modal(
            ack, body, lambda case, step: build_record_modal(case, step.key, self._service.root_causes)
        )

    async def open_reopen_modal(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async def work(step: Acting[StepRef]) -> None:
            case = await self._service.closed_case(step.ref.case_id, **step.actor)
            _, steps = await self._service.load(case.id, step.team_id)
            modal = build_reopen_modal(case, steps, self._service.reopened_by_default(steps))
            await self._kit.open_modal(step.interaction, modal, belongs_to=case.team_id)

        await self._kit.ack_then_act(ack, body, StepRef, work, name="open-step-modal")

    async def choose_apology_template(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """A template chosen in the apology modal: redraw the modal with the draft filled in."""
        await ack()
        chosen = Interaction.from_body(body)
        step = chosen.acting(StepRef, in_metadata=True)
        try:
            situation = Situation(chosen.value or "")
        except ValueError:
            return
        if step is None or chosen.view_id is None:
            return

        async def redraw(step: Acting[StepRef]) -> None:
            case, case_step = await self._service.open_step(step.ref.case_id, step.ref.step_key, step.team_id)
            filled = fill_template(
                situation, customer_name=case.report.customer_name, summary=case.report.summary
            )
            modal = build_apology_modal(
                case,
                case_step,
                draft=filled.text,
                version=step.ref.version + 1,
                situation=situation,
                nudge=step.ref.nudge,
            )
            await self._kit.poster.client.views_update(
                view_id=str(chosen.view_id), hash=chosen.view_hash, view=modal
            )

        self._kit.spawn(redraw(step), chosen, name="apology-template")

    # ---- modal submissions --------------------------------------------------------------------

    async def submit_skip(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async def save(step: Acting[StepRef]) -> None:
            reason = step.interaction.form.text(StepBlock.REASON)
            await self._service.skip_step(
                step.ref.case_id,
                step.ref.step_key,
                **step.actor,
                reason=reason,
            )

        await self._submit(ack, body, save, StepBlock.REASON, {"reason": StepBlock.REASON})

    async def submit_apology(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        form = Interaction.from_body(body).form
        # The draft's block id changes with each template chosen, so Slack redraws it; the input's does not.
        draft_block = form.block_starting(StepBlock.APOLOGY_DRAFT) or StepBlock.APOLOGY_DRAFT.value
        draft = form.text(draft_block, StepBlock.APOLOGY_DRAFT.action_id)
        override = "send_as_written" in form.options(StepBlock.APOLOGY_OVERRIDE)

        async def save(step: Acting[StepRef]) -> None:
            await self._service.send_apology(
                step.ref.case_id,
                **step.actor,
                draft=draft,
                override=override,
            )

        async def resolve_nudge(step: Acting[StepRef]) -> None:
            if step.ref.nudge is not None and self._nudge_answered is not None:
                await self._nudge_answered(step.ref.nudge, step.user_id)

        await self._submit(ack, body, save, draft_block, {"draft": draft_block}, then=resolve_nudge)

    async def submit_assign_owner(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async def save(step: Acting[StepRef]) -> None:
            owner = await self._kit.person(step, StepBlock.OWNER)
            if not owner:
                raise InvalidInput("owner", "Choose who owns this case.")
            await self._service.take_ownership(step.ref.case_id, **step.actor, owner_user_id=owner)

        await self._submit(ack, body, save, StepBlock.OWNER, {"owner": StepBlock.OWNER})

    async def submit_root_cause(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async def save(step: Acting[StepRef]) -> None:
            form = step.interaction.form
            await self._service.record_root_cause(
                step.ref.case_id,
                **step.actor,
                category=form.option(StepBlock.ROOT_CAUSE_CATEGORY),
                details=form.text(StepBlock.ROOT_CAUSE_DETAILS),
            )

        await self._submit(
            ack,
            body,
            save,
            StepBlock.ROOT_CAUSE_DETAILS,
            {"category": StepBlock.ROOT_CAUSE_CATEGORY, "details": StepBlock.ROOT_CAUSE_DETAILS},
        )

    async def submit_record(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async def save(step: Acting[StepRef]) -> None:
            form = step.interaction.form
            raw: dict[RecordField, Any] = {field: form.value(block) for field, block in RECORD_BLOCKS.items()}
            raw[RecordField.PROCESS_OWNER] = await self._kit.person(step, StepBlock.RECORD_PROCESS_OWNER)
            await self._service.write_record(step.ref.case_id, **step.actor, raw=raw)

        fields = {field.value: block.value for field, block in RECORD_BLOCKS.items()}
        await self._submit(ack, body, save, StepBlock.RECORD_WHAT_HAPPENED, fields)

    async def submit_reopen(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async def save(step: Acting[StepRef]) -> None:
            await self._service.reopen_case(
                step.ref.case_id,
                **step.actor,
                reason=step.interaction.form.text(StepBlock.REOPEN_REASON),
                steps=step.interaction.form.options(StepBlock.REOPEN_STEPS),
            )

        async def announce(step: Acting[StepRef]) -> None:
            reason = step.interaction.form.text(StepBlock.REOPEN_REASON) or ""
            await self._service.announce_reopened(step.ref.case_id, actor_user_id=step.user_id, reason=reason)

        await self._submit(
            ack,
            body,
            save,
            StepBlock.REOPEN_REASON,
            {"reason": StepBlock.REOPEN_REASON, "steps": StepBlock.REOPEN_STEPS},
            then=announce,
        )

    # ---- plumbing -----------------------------------------------------------------------------

    async def _button(
        self, ack: AsyncAck, body: dict[str, Any], work: Callable[[Acting[StepRef]], Awaitable[None]]
    ) -> None:
        """A button that changes the case: its work after the ack, then Slack shows the result."""

        async def work_then_sync(step: Acting[StepRef]) -> None:
            await work(step)
            await self._service.sync(step.ref.case_id)

        await self._kit.ack_then_act(ack, body, StepRef, work_then_sync, name="step-action")

    async def _step_modal(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        build: Callable[[Case, CaseStep], Any],
        *,
        opens: Callable[..., Awaitable[tuple[Case, CaseStep]]] | None = None,
    ) -> None:
        """A button that opens a form about the step it belongs to (refused if the step isn't open, or,
        with `opens`, if the person may not make that change: RecoveryService.open_skip, open_assignment)."""

        async def work(step: Acting[StepRef]) -> None:
            if opens is None:
                case, case_step = await self._service.open_step(
                    step.ref.case_id, step.ref.step_key, step.team_id
                )
            else:
                case, case_step = await opens(step.ref.case_id, step.ref.step_key, **step.actor)
            await self._kit.open_modal(step.interaction, build(case, case_step), belongs_to=case.team_id)

        await self._kit.ack_then_act(ack, body, StepRef, work, name="open-step-modal")

    async def _submit(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        save: Callable[[Acting[StepRef]], Coroutine[Any, Any, None]],
        error_block: str,
        fields: Mapping[str, str],
        *,
        then: Callable[[Acting[StepRef]], Awaitable[None]] | None = None,
    ) -> None:
        """A playbook modal: save before the ack, then (after it) `then` and a sync of the case."""

        async def after_save(step: Acting[StepRef], _saved: None) -> None:
            if then is not None:
                await then(step)
            await self._service.sync(step.ref.case_id)

        await self._kit.submit(
            ack, body, StepRef, save, error_block=error_block, field_blocks=fields, then=after_save
        )


# The record modal's blocks, each named RECORD_ and the part of the record it holds.
RECORD_BLOCKS: dict[RecordField, StepBlock] = {f: StepBlock[f"RECORD_{f.name}"] for f in RecordField}
