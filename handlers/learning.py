"""The Slack edge of the learning loop: recurrence alerts in the process channel and process-fix creation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from bot.cases import Case, MessageRef, Severity
from bot.events import CaseChanged
from bot.learning import LearningService, ProcessFix, RecurrenceAlert
from handlers.blocks.learning import build_process_fix_modal, build_recurrence_alert, decode_alert
from handlers.blocks.text import mention
from handlers.ids import LearningId, MessageMetadata
from handlers.interaction import Acting, ListenerKit
from handlers.slack_api import SlackPoster
from handlers.tasks import BackgroundTasks


@dataclass(frozen=True)
class AlertRef:
    """The alert a button or the process-fix modal is about, as the toolkit reads refs (see blocks/learning)."""

    BROKEN: ClassVar[str] = "That button doesn't point at an alert I know."

    alert_id: int

    @classmethod
    def decode(cls, raw: Any) -> AlertRef | None:
        alert_id = decode_alert(raw)
        return None if alert_id is None else cls(alert_id)


class SlackLearningNotifier:
    def __init__(self, poster: SlackPoster, labels: Callable[[str], str]) -> None:
        self._poster = poster
        self._label = labels

    async def post_alert(self, alert: RecurrenceAlert, channel_id: str) -> MessageRef:
        label = self._label(alert.category)
        return await self._poster.post_once(
            channel_id,
            f"Recurring root cause: {label} ({len(alert.cases)} cases)",
            build_recurrence_alert(alert, label),
            event_type=MessageMetadata.RECURRENCE_ALERT,
            key=str(alert.id),
        )

    async def update_alert(self, alert: RecurrenceAlert, fixes: Sequence[ProcessFix]) -> None:
        if alert.message is None:
            return
        label = self._label(alert.category)
        blocks = build_recurrence_alert(alert, label, fixes)
        await self._poster.update(alert.message, f"Recurring root cause: {label}", blocks)


class LearningListeners:
    def __init__(self, service: LearningService, poster: SlackPoster, tasks: BackgroundTasks) -> None:
        self._service = service
        self._kit = ListenerKit(poster, tasks)

    async def case_changed(self, event: CaseChanged) -> None:
        """After a case's sync: a recurrence check in the background, so the person who acted isn't kept."""
        case = event.case
        if case.root_cause_category:
            self._kit.tasks.spawn(
                self._service.check_recurrence(case), user_id=None, channel_id=None, name="recurrence"
            )

    async def open_fix_modal(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async def work(clicked: Acting[AlertRef]) -> None:
            alert = await self._service.alert_for(clicked.ref.alert_id, clicked.team_id)
            modal = build_process_fix_modal(alert, self._service.label(alert.category))
            await self._kit.open_modal(clicked.interaction, modal, belongs_to=alert.team_id)

        await self._kit.ack_then_act(ack, body, AlertRef, work, name="open-process-fix")

    async def submit_fix(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async def save(fix: Acting[AlertRef]) -> ProcessFix:
            form = fix.interaction.form
            due = form.date(LearningId.FIX_DUE)
            return await self._service.create_fix(
                fix.ref.alert_id,
                **fix.actor,
                description=form.text(LearningId.FIX_DESCRIPTION),
                owner_user_id=await self._kit.person(fix, LearningId.FIX_OWNER),
                due_on=due.isoformat() if due else None,
                submission_key=fix.interaction.view_id,
            )

        async def show_fixes(fix: Acting[AlertRef], _saved: ProcessFix) -> None:
            await self._service.show_fixes(fix.ref.alert_id)

        await self._kit.submit(
            ack,
            body,
            AlertRef,
            save,
            error_block=LearningId.FIX_DESCRIPTION.value,
            field_blocks={
                "description": LearningId.FIX_DESCRIPTION.value,
                "owner": LearningId.FIX_OWNER.value,
                "due": LearningId.FIX_DUE.value,
            },
            then=show_fixes,
        )


#: The severity told as what happened to the customer, to sit in a sentence (its label is a form's option).
WHAT_THE_CUSTOMER_WENT_THROUGH = {
    Severity.MINOR: "the customer was mildly irritated",
    Severity.MODERATE: "the failure got in the customer's way",
    Severity.MAJOR: "the customer was badly let down and lost time or money",
    Severity.CRITICAL: "the customer came to serious harm or there is a legal or safety risk",
}


class SlackCheckInNotifier:
    """Asks a manager, in Mend's DM, to check in with the agent who handled a hard case."""

    def __init__(self, poster: SlackPoster) -> None:
        self._poster = poster

    async def ask_to_check_in(self, case: Case, manager_user_id: str) -> None:
        text = (
            f":handshake: {mention(case.owner_user_id)} just closed *{case.reference}*, where "
            f"{WHAT_THE_CUSTOMER_WENT_THROUGH[case.report.severity]}. Hard cases take it out of people: "
            "a few minutes with them today would help."
        )
        await self._poster.post_once(
            manager_user_id,
            text,
            [SectionBlock(text=MarkdownTextObject(text=text))],
            event_type=MessageMetadata.CHECK_IN,
            key=f"{case.id}:{manager_user_id}",  # one check-in per case and manager
        )
