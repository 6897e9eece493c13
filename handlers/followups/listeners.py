"""Listeners for nudge buttons, the follow-up buttons on step prompts, and the follow-up modals."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Coroutine, Mapping
from datetime import date, time, timedelta
from typing import Any, TypedDict

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.models.views import View

from bot.cases import Case
from bot.clock import Clock
from bot.errors import MendError
from bot.followups import (
    FollowUp,
    FollowUpKind,
    FollowUpService,
    NudgeAction,
    Promise,
    ResurveyOutcome,
    SnoozeChoice,
    zone,
)
from bot.permissions import CaseChange
from bot.recovery import ApologyNeedsForm, RecoveryService
from handlers.blocks.followups import (
    FollowUpRef,
    build_promise_modal,
    build_reassign_modal,
    build_resurvey_modal,
    build_schedule_modal,
    build_snooze_modal,
    date_token,
    settled_note,
)
from handlers.blocks.recovery import StepRef
from handlers.blocks.text import mention
from handlers.followups.kinds import CaseFollowUpHandler
from handlers.ids import FollowUpBlock
from handlers.interaction import Acting, Interaction, ListenerKit, broken
from handlers.people import SlackPeople
from handlers.slack_api import SlackPoster
from handlers.tasks import BackgroundTasks

#: Opens the apology form for a nudge (the click, why, the nudge's id and round).
ApologyForm = Callable[[Interaction, ApologyNeedsForm, tuple[int, int]], Coroutine[Any, Any, None]]

WHEN_FIELDS = {"date": FollowUpBlock.DATE.value, "time": FollowUpBlock.TIME.value}


class FollowUpListeners:
    """Bolt listeners for nudge buttons and the follow-up modals. Buttons ack at once; modals save first."""

    def __init__(
        self,
        service: FollowUpService,
        recovery: RecoveryService,
        case_handler: CaseFollowUpHandler,
        poster: SlackPoster,
        people: SlackPeople,
        tasks: BackgroundTasks,
        clock: Clock,
    ) -> None:
        self._service = service
        self._recovery = recovery
        self._handler = case_handler
        self._people = people
        self._clock = clock
        self._kit = ListenerKit(poster, tasks)
        self._apology_form: ApologyForm | None = None

    def open_apology_with(self, form: ApologyForm) -> None:
        """How "Apology sent" opens the apology form (RecoveryListeners.open_apology_form)."""
        self._apology_form = form

    async def apology_recorded(self, nudge: tuple[int, int], user_id: str) -> None:
        """The apology form opened from this nudge was saved: the nudge is resolved and redrawn as done."""
        try:
            item = await self._service.resolve(nudge[0], nudge[1], "done", actor_user_id=user_id)
        except MendError:  # handled meanwhile (another click, or the nudge was retired): nothing to show
            return
        await self._settle(item, ":white_check_mark: Apology sent", user_id)

    # ---- nudge buttons --------------------------------------------------------------------------

    async def mark_done(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async def work(nudge: Acting[FollowUpRef]) -> None:
            try:
                item = await self._service.done(nudge.ref.follow_up_id, nudge.ref.round, **nudge.actor)
            except ApologyNeedsForm as needs:  # "Apology sent": the form records it, then resolves this nudge
                if self._apology_form is None:
                    raise
                await self._apology_form(nudge.interaction, needs, (nudge.ref.follow_up_id, nudge.ref.round))
                return
            what = {"kept": ":white_check_mark: Kept", "done": ":white_check_mark: Done"}.get(
                item.resolution or "", ":white_check_mark: Done"
            )
            try:
                await self._settle(item, what, nudge.user_id)
                if item.resolution == "kept":  # its confirmation and deadline flag say so too
                    for other in await self._service.kept_elsewhere(item, actor_user_id=nudge.user_id):
                        await self._settle(other, what, nudge.user_id)
            finally:  # the case shows what was done even when the nudge could not be redrawn
                if item.case_id is not None:
                    await self._recovery.sync(item.case_id)

        await self._kit.ack_then_act(ack, body, FollowUpRef, work, name="follow-up-action")

    async def snooze(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async def work(chosen: Interaction) -> None:
            # One menu carries both: each option's value is "<choice>|<the nudge's ref>".
            choice_raw, _, ref_raw = (chosen.value or "").partition("|")
            nudge = dataclasses.replace(chosen, value=ref_raw).require(FollowUpRef)
            try:
                choice = SnoozeChoice(choice_raw)
            except ValueError:
                raise MendError(broken(FollowUpRef)) from None
            if choice is SnoozeChoice.PICK:
                _item, case = await self._waiting(nudge, NudgeAction.SNOOZE)
                today, tz = await self._today(nudge.user_id)
                modal = build_snooze_modal(nudge.ref, today=today, tz_label=tz)
                await self._kit.open_modal(chosen, modal, belongs_to=case.team_id)
                return
            item = await self._service.snooze(nudge.ref.follow_up_id, nudge.ref.round, choice, **nudge.actor)
            await self._settle_rearmed(item, f":zzz: Snoozed until {date_token(item.due_at)}", nudge.user_id)

        await self._kit.ack_then_work(ack, body, work, name="follow-up-action")

    async def open_reassign_modal(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async def work(nudge: Acting[FollowUpRef]) -> None:
            item, case = await self._waiting(nudge, NudgeAction.REASSIGN, change=CaseChange.REASSIGN)
            modal = build_reassign_modal(nudge.ref, item.recipient_user_id)
            await self._kit.open_modal(nudge.interaction, modal, belongs_to=case.team_id)

        await self._kit.ack_then_act(ack, body, FollowUpRef, work, name="follow-up-action")

    async def customer_satisfied(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await self._customer_answer(ack, body, satisfied=True)

    async def customer_not_yet(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await self._customer_answer(ack, body, satisfied=False)

    async def _customer_answer(self, ack: AsyncAck, body: dict[str, Any], *, satisfied: bool) -> None:
        async def work(nudge: Acting[FollowUpRef]) -> None:
            item = await self._service.customer_answer(
                nudge.ref.follow_up_id, nudge.ref.round, satisfied=satisfied, **nudge.actor
            )
            what = (
                ":white_check_mark: Customer satisfied"
                if satisfied
                else ":leftwards_arrow_with_hook: Not yet: the fix step is posted again at the bottom of the thread"
            )
            await self._settle(item, what, nudge.user_id)

        await self._kit.ack_then_act(ack, body, FollowUpRef, work, name="follow-up-action")

    async def open_resurvey_modal(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async def work(nudge: Acting[FollowUpRef]) -> None:
            _item, case = await self._waiting(nudge, NudgeAction.RECORD_OUTCOME)
            await self._kit.open_modal(
                nudge.interaction, build_resurvey_modal(nudge.ref, case), belongs_to=case.team_id
            )

        await self._kit.ack_then_act(ack, body, FollowUpRef, work, name="follow-up-action")

    # ---- step prompt buttons --------------------------------------------------------------------

    async def open_promise_modal(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await self._when_modal(ack, body, build_promise_modal, days_ahead=0)

    async def open_schedule_modal(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await self._when_modal(ack, body, build_schedule_modal, days_ahead=1)

    async def _when_modal(
        self, ack: AsyncAck, body: dict[str, Any], build: Callable[..., View], *, days_ahead: int
    ) -> None:
        """A form about the step that asks for a day and time, starting from the person's own today."""

        async def work(step: Acting[StepRef]) -> None:
            case, case_step = await self._recovery.open_step(
                step.ref.case_id, step.ref.step_key, step.team_id
            )
            today, tz = await self._today(step.user_id)
            modal = build(case, case_step, today=today + timedelta(days=days_ahead), tz_label=tz)
            await self._kit.open_modal(step.interaction, modal, belongs_to=case.team_id)

        await self._kit.ack_then_act(ack, body, StepRef, work, name="follow-up-step-action")

    # ---- modal submissions ----------------------------------------------------------------------

    async def submit_promise(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async def save(step: Acting[StepRef]) -> Promise:
            case, _ = await self._recovery.load(step.ref.case_id, step.team_id)
            text = step.interaction.form.text(FollowUpBlock.PROMISE_TEXT) or None
            return await self._service.record_promise(
                case, actor_user_id=step.user_id, text=text, **_when(step)
            )

        async def confirm(step: Acting[StepRef], promise: Promise) -> None:
            await self._confirm(promise.case_id, f"promise:{promise.id}:made")

        fields = {"text": FollowUpBlock.PROMISE_TEXT.value, **WHEN_FIELDS}
        await self._kit.submit(
            ack,
            body,
            StepRef,
            save,
            error_block=FollowUpBlock.PROMISE_TEXT.value,
            field_blocks=fields,
            then=confirm,
        )

    async def _confirm(self, case_id: int, key_prefix: str) -> None:
        """The confirmation just staged goes out at once (once: it is a follow-up row), and the card lists
        the new promise or check-in."""
        try:
            await self._service.deliver_now(case_id, key_prefix)
        finally:
            await self._recovery.sync(case_id)

    async def submit_schedule(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async def save(step: Acting[StepRef]) -> None:
            case, _ = await self._recovery.load(step.ref.case_id, step.team_id)
            note = step.interaction.form.text(FollowUpBlock.NOTE) or None
            await self._service.schedule_follow_up(case, actor_user_id=step.user_id, note=note, **_when(step))

        async def confirm(step: Acting[StepRef], _: None) -> None:
            await self._confirm(step.ref.case_id, f"{FollowUpKind.FOLLOW_UP_PLANNED.value}:")

        fields = {"note": FollowUpBlock.NOTE.value, **WHEN_FIELDS}
        await self._kit.submit(
            ack, body, StepRef, save, error_block=FollowUpBlock.DATE.value, field_blocks=fields, then=confirm
        )

    async def submit_snooze(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        def save(nudge: Acting[FollowUpRef]) -> Coroutine[Any, Any, FollowUp]:
            form = nudge.interaction.form
            return self._service.snooze(
                nudge.ref.follow_up_id,
                nudge.ref.round,
                SnoozeChoice.PICK,
                **nudge.actor,
                day=form.date(FollowUpBlock.DATE),
                at=form.time(FollowUpBlock.TIME),
            )

        async def settle(nudge: Acting[FollowUpRef], item: FollowUp) -> None:
            await self._settle_rearmed(item, f":zzz: Snoozed until {date_token(item.due_at)}", nudge.user_id)

        await self._submit_nudge(ack, body, save, settle, FollowUpBlock.DATE, WHEN_FIELDS)

    async def submit_reassign(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async def save(nudge: Acting[FollowUpRef]) -> FollowUp:
            assignee = await self._kit.person(nudge, FollowUpBlock.ASSIGNEE)
            return await self._service.reassign(
                nudge.ref.follow_up_id, nudge.ref.round, to_user_id=assignee, **nudge.actor
            )

        async def settle(nudge: Acting[FollowUpRef], item: FollowUp) -> None:
            to = mention(item.recipient_user_id)
            await self._settle_rearmed(item, f":arrow_right_hook: Reassigned to {to}", nudge.user_id)

        fields = {"assignee": FollowUpBlock.ASSIGNEE.value}
        await self._submit_nudge(ack, body, save, settle, FollowUpBlock.ASSIGNEE, fields)

    async def submit_resurvey(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        form = Interaction.from_body(body).form
        outcome, score = form.option(FollowUpBlock.OUTCOME), form.option(FollowUpBlock.SCORE)

        def save(nudge: Acting[FollowUpRef]) -> Coroutine[Any, Any, FollowUp]:
            return self._service.record_resurvey(
                nudge.ref.follow_up_id, nudge.ref.round, outcome=outcome, score=score, **nudge.actor
            )

        async def settle(nudge: Acting[FollowUpRef], item: FollowUp) -> None:
            label = ResurveyOutcome(outcome or "").label if outcome else "recorded"
            scored = f", satisfaction {score}/5" if score else ""
            await self._settle(item, f":bar_chart: Outcome: {label}{scored}", nudge.user_id)

        fields = {"outcome": FollowUpBlock.OUTCOME.value, "score": FollowUpBlock.SCORE.value}
        await self._submit_nudge(ack, body, save, settle, FollowUpBlock.OUTCOME, fields)

    # ---- plumbing -------------------------------------------------------------------------------

    async def _waiting(
        self, nudge: Acting[FollowUpRef], action: NudgeAction, *, change: CaseChange | None = None
    ) -> tuple[FollowUp, Case]:
        """The nudge a button that opens a form is on, and its case: only while the nudge waits, for the
        person it is addressed to or an approver (who may make `change`), in the case's workspace."""
        item = await self._service.acted_on(
            nudge.ref.follow_up_id, nudge.ref.round, action, **nudge.actor, change=change
        )
        if item.case_id is None:
            raise MendError(broken(FollowUpRef))
        case, _ = await self._recovery.load(item.case_id, nudge.team_id)
        return item, case

    async def _submit_nudge(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        save: Callable[[Acting[FollowUpRef]], Coroutine[Any, Any, FollowUp]],
        settle: Callable[[Acting[FollowUpRef], FollowUp], Coroutine[Any, Any, None]],
        error_block: FollowUpBlock,
        fields: Mapping[str, str],
    ) -> None:
        """A modal about one nudge: saved before the ack; the nudge is redrawn as settled after it."""
        await self._kit.submit(
            ack, body, FollowUpRef, save, error_block=error_block.value, field_blocks=fields, then=settle
        )

    async def _settle(self, item: FollowUp, what: str, user_id: str) -> None:
        message = await self._handler.settled(item, settled_note(what, user_id, self._clock.now()))
        if message is not None:
            await self._service.update_message(item, message)

    async def _settle_rearmed(self, item: FollowUp, what: str, user_id: str) -> None:
        previous = item.model_copy(update={"round": item.round - 1})  # the message shown is the last round's
        await self._settle(previous, what, user_id)

    async def _today(self, user_id: str) -> tuple[date, str]:
        tz_name = await self._people.timezone(user_id)
        return self._clock.now().astimezone(zone(tz_name)).date(), tz_name or "UTC"


class When(TypedDict):
    day: date | None
    at: time | None
    view_key: str | None


def _when(step: Acting[StepRef]) -> When:
    """The day and time a promise or follow-up is for, as the person entered them in their own time zone;
    the modal's view id keys the save, so a submission Slack repeats is stored once."""
    form = step.interaction.form
    return {
        "day": form.date(FollowUpBlock.DATE),
        "at": form.time(FollowUpBlock.TIME),
        "view_key": step.interaction.view_id,
    }
