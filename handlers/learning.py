"""The Slack edge of the learning loop: recurrence alerts in the process channel and process-fix creation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from bot.cases import Case, MessageRef
from bot.errors import MendError
from bot.learning import LearningService, ProcessFix, RecurrenceAlert
from handlers.blocks.learning import build_process_fix_modal, build_recurrence_alert, decode_alert
from handlers.errors import who_and_where
from handlers.forms import save_then_ack
from handlers.ids import LearningId, MessageMetadata
from handlers.slack_api import SlackPoster
from handlers.tasks import BackgroundTasks

Ack = Callable[..., Awaitable[None]]


class SlackLearningNotifier:
    def __init__(self, poster: SlackPoster, labels: Callable[[str], str]) -> None:
        self._poster = poster
        self._label = labels

    async def post_alert(self, alert: RecurrenceAlert, channel_id: str) -> MessageRef:
        label = self._label(alert.category)
        return await self._poster.post_once(
            channel_id=channel_id,
            text=f"Recurring root cause: {label} ({len(alert.cases)} cases)",
            blocks=build_recurrence_alert(alert, label),
            event_type=MessageMetadata.RECURRENCE_ALERT.value,
            key=str(alert.id),
        )

    async def update_alert(self, alert: RecurrenceAlert, fixes: Sequence[ProcessFix]) -> None:
        if alert.message is None:
            return
        label = self._label(alert.category)
        await self._poster.client.chat_update(
            channel=alert.message.channel_id,
            ts=alert.message.ts,
            text=f"Recurring root cause: {label}",
            blocks=[b.to_dict() for b in build_recurrence_alert(alert, label, fixes)],
        )


class LearningListeners:
    def __init__(self, service: LearningService, poster: SlackPoster, tasks: BackgroundTasks) -> None:
        self._service = service
        self._poster = poster
        self._tasks = tasks

    async def case_changed(self, case: Case) -> None:
        """Observer of case syncs: a recurrence check in the background, so the person who acted isn't kept."""
        if case.root_cause_category:
            self._tasks.spawn(
                self._service.check_recurrence(case), user_id=None, channel_id=None, name="recurrence"
            )

    async def open_fix_modal(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        user_id, channel_id = who_and_where(body)
        alert_id = decode_alert(action.get("value"))

        async def work() -> None:
            alert = await self._service_alert(alert_id)
            await self._poster.open_modal(
                body.get("trigger_id"), build_process_fix_modal(alert, self._service.label(alert.category))
            )

        self._tasks.spawn(work(), user_id=user_id, channel_id=channel_id, name="open-process-fix")

    async def submit_fix(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = (view.get("state") or {}).get("values") if isinstance(view.get("state"), dict) else {}
        values = values if isinstance(values, dict) else {}

        def field(block: LearningId, key: str) -> str | None:
            element = (values.get(block.value) or {}).get(block.action_id)
            value = element.get(key) if isinstance(element, dict) else None
            return value if isinstance(value, str) else None

        alert_id = decode_alert(view.get("private_metadata"))
        user = body.get("user") if isinstance(body.get("user"), dict) else {}
        team = body.get("team") if isinstance(body.get("team"), dict) else {}
        user_id, team_id = (user or {}).get("id"), (team or {}).get("id")
        if alert_id is None or not isinstance(user_id, str) or not isinstance(team_id, str):
            await ack(
                response_action="errors", errors={LearningId.FIX_DESCRIPTION.value: "This form is broken."}
            )
            return
        saved = await save_then_ack(
            ack,
            self._service.create_fix(
                alert_id,
                team_id=team_id,
                actor_user_id=user_id,
                description=field(LearningId.FIX_DESCRIPTION, "value"),
                owner_user_id=field(LearningId.FIX_OWNER, "selected_user"),
                due_on=field(LearningId.FIX_DUE, "selected_date"),
            ),
            tasks=self._tasks,
            user_id=user_id,
            error_block=LearningId.FIX_DESCRIPTION.value,
            field_blocks={
                "description": LearningId.FIX_DESCRIPTION.value,
                "owner": LearningId.FIX_OWNER.value,
                "due": LearningId.FIX_DUE.value,
            },
        )
        if saved is not None:
            self._tasks.spawn(
                self._service.show_fixes(alert_id), user_id=user_id, channel_id=None, name="show-fixes"
            )

    async def _service_alert(self, alert_id: int | None) -> RecurrenceAlert:
        alert = await self._service.alert(alert_id) if alert_id is not None else None
        if alert is None:
            raise MendError("That button doesn't point at an alert I know.")
        return alert


class SlackCheckInNotifier:
    """Asks a manager, in Mend's DM, to check in with the agent who handled a hard case."""

    def __init__(self, poster: SlackPoster) -> None:
        self._poster = poster

    async def ask_to_check_in(self, case: Case, manager_user_id: str) -> None:
        text = (
            f":handshake: <@{case.owner_user_id}> just closed *{case.reference}*, a "
            f"{case.report.severity.label.lower()} case. Hard cases take it out of people: "
            f"a few minutes with <@{case.owner_user_id}> today would help."
        )
        await self._poster.post_once(
            channel_id=manager_user_id,
            text=text,
            blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
            event_type=MessageMetadata.CHECK_IN.value,
            key=f"{case.id}:{case.reopen_count}:{manager_user_id}",
        )
