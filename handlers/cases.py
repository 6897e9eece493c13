"""The Slack edge of reporting: `/recover`, the Start recovery shortcut, the report modal, and case posts."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.cases import Case, CaseConfig, CaseService, MessageRef, ReportField, validate_report
from bot.playbook import Step
from handlers.blocks.cases import (
    ReportOrigin,
    build_case_card,
    build_case_opened_notice,
    build_help,
    build_report_modal,
    build_thread_opening,
    build_unknown_command,
    case_card_text,
)
from handlers.blocks.text import escape_mrkdwn
from handlers.forms import save_then_ack
from handlers.ids import MessageMetadata, ReportBlock
from handlers.payloads import field, id_field, message_ts, opaque_field, text_field
from handlers.slack_api import SlackPoster
from handlers.tasks import BackgroundTasks

log = logging.getLogger(__name__)

Ack = Callable[..., Awaitable[None]]

FIELD_BLOCKS: dict[ReportField, ReportBlock] = {
    ReportField.CUSTOMER_NAME: ReportBlock.CUSTOMER_NAME,
    ReportField.CUSTOMER_REF: ReportBlock.CUSTOMER_REF,
    ReportField.SUMMARY: ReportBlock.SUMMARY,
    ReportField.CUSTOMER_WORDS: ReportBlock.CUSTOMER_WORDS,
    ReportField.IMPACT: ReportBlock.IMPACT,
    ReportField.SEVERITY: ReportBlock.SEVERITY,
    ReportField.CATEGORY: ReportBlock.CATEGORY,
}
SUBCOMMANDS = frozenset({"help", "report", "export"})
PERMALINK_DEADLINE_SECONDS = 1.0


@dataclass(frozen=True)
class RecoverCommand:
    kind: str  # "report", "help" or "unknown"
    text: str = ""


def parse_recover_command(text: str | None) -> RecoverCommand:
    """`/recover`, `/recover help`, `/recover report <text>`, `/recover <text>`; one unknown word is a typo."""
    text = (text or "").strip()
    first, _, rest = text.partition(" ")
    word = first.lower()
    if word == "help" and not rest.strip():
        return RecoverCommand("help")
    if word == "report":
        return RecoverCommand("report", rest.strip())
    if word == "export":
        return RecoverCommand("export", rest.strip())
    # A lone lowercase word is most likely a mistyped sub-command ("/recover hepl"), not a failure report.
    if not rest and re.fullmatch(r"[a-z][a-z-]{1,23}", first) and word not in SUBCOMMANDS:
        return RecoverCommand("unknown", first)
    return RecoverCommand("report", text)


def _input_value(element: Any) -> Any:
    """The value of one input element in `view.state.values`, whatever its type."""
    if not isinstance(element, dict):
        return None
    if "selected_option" in element:
        option = element.get("selected_option")
        return option.get("value") if isinstance(option, dict) else None
    value = element.get("value")
    return value if isinstance(value, str) else None


def parse_report_form(values: Any) -> dict[ReportField, Any]:
    """Read the report modal's state; anything missing or malformed becomes None for validation to explain."""
    values = values if isinstance(values, dict) else {}
    parsed: dict[ReportField, Any] = {}
    for report_field, block in FIELD_BLOCKS.items():
        parsed[report_field] = _input_value(field(values, block.value, block.action_id))
    return parsed


class SlackCaseNotifier:
    """Implements the domain's CaseNotifier with Slack messages."""

    def __init__(self, poster: SlackPoster, config: CaseConfig, steps: Sequence[Step]) -> None:
        self._poster = poster
        self._config = config
        self._steps = steps

    async def post_case_card(self, case: Case, channel_id: str) -> MessageRef:
        return await self._poster.post_once(
            channel_id=channel_id,
            text=case_card_text(case, self._config),
            blocks=build_case_card(case, self._config),
            event_type=MessageMetadata.CASE_CARD.value,
            key=str(case.id),
        )

    async def open_case_thread(self, case: Case) -> None:
        assert case.card is not None, "a thread hangs off the case card"
        await self._poster.post_once(
            channel_id=case.card.channel_id,
            thread_ts=case.card.ts,
            text=f"Case {case.reference} is open. Here is what happens next.",
            blocks=build_thread_opening(case, self._steps),
            event_type=MessageMetadata.CASE_THREAD.value,
            key=str(case.id),
        )

    async def tell_reporter_case_opened(self, case: Case) -> None:
        link = await self._poster.permalink(case.card.channel_id, case.card.ts) if case.card else None
        text, blocks = build_case_opened_notice(case, link)
        await self._poster.tell_user(
            user_id=case.reporter_user_id, channel_id=case.origin_channel_id, text=text, blocks=blocks
        )


class CaseListeners:
    """Bolt listeners for reporting. Each acks from memory, then hands the slow part to a background task."""

    def __init__(
        self,
        service: CaseService,
        poster: SlackPoster,
        tasks: BackgroundTasks,
        after_announce: Callable[[int], Awaitable[None]] | None = None,
        export: Callable[[Ack, dict[str, Any], str], Awaitable[None]] | None = None,
    ) -> None:
        self._service = service
        self._poster = poster
        self._tasks = tasks
        # What happens once a case's thread is open (the playbook posts its first step there).
        self._after_announce = after_announce
        # `/recover export` belongs to the export feature; this listener only routes it there.
        self._export = export

    @property
    def _client(self) -> AsyncWebClient:
        return self._poster.client

    async def handle_recover_command(self, ack: Ack, command: dict[str, Any]) -> None:
        parsed = parse_recover_command(command.get("text"))
        if parsed.kind == "help":
            await ack(text="How to use /recover", blocks=build_help())
            return
        if parsed.kind == "export" and self._export is not None:
            await self._export(ack, command, parsed.text)
            return
        if parsed.kind == "unknown":
            await ack(
                text=f"I don't know the command {escape_mrkdwn(parsed.text)}.",
                blocks=build_unknown_command(parsed.text, parsed.text),
            )
            return
        await ack()
        origin = ReportOrigin(channel_id=id_field(command, "channel_id"))
        self._open_report_later(
            opaque_field(command, "trigger_id"), parsed.text, origin, id_field(command, "user_id")
        )

    async def open_report_from_button(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        channel = id_field(body, "channel", "id") or id_field(body, "container", "channel_id")
        value = text_field(action, "value") or ""
        self._open_report_later(
            opaque_field(body, "trigger_id"), value, ReportOrigin(channel_id=channel), _user_id(body)
        )

    async def open_report_from_home(self, ack: Ack, body: dict[str, Any]) -> None:
        """The Home tab's "Report a failure": no channel, so the card goes to RECOVERY_CHANNEL."""
        await ack()
        self._open_report_later(body.get("trigger_id"), "", ReportOrigin(), _user_id(body))

    async def start_recovery_from_message(self, ack: Ack, shortcut: dict[str, Any]) -> None:
        await ack()
        channel_id = id_field(shortcut, "channel", "id")
        ts = message_ts(field(shortcut, "message", "ts")) or message_ts(field(shortcut, "message_ts"))
        text = text_field(shortcut, "message", "text") or ""
        user_id = _user_id(shortcut)

        async def open_modal() -> None:
            permalink = None
            if channel_id and ts:
                try:
                    permalink = await asyncio.wait_for(
                        self._poster.permalink(channel_id, ts), PERMALINK_DEADLINE_SECONDS
                    )
                except TimeoutError:
                    permalink = None
            origin = ReportOrigin(channel_id=channel_id, permalink=permalink)
            await self._open_report(opaque_field(shortcut, "trigger_id"), text, origin)

        self._tasks.spawn(
            open_modal(), user_id=user_id, channel_id=channel_id, name="open-report-from-message"
        )

    def _open_report_later(
        self, trigger_id: str | None, summary: str, origin: ReportOrigin, user_id: str | None
    ) -> None:
        self._tasks.spawn(
            self._open_report(trigger_id, summary, origin),
            user_id=user_id,
            channel_id=origin.channel_id,
            name="open-report",
        )

    async def _open_report(self, trigger_id: str | None, summary: str, origin: ReportOrigin) -> None:
        view = build_report_modal(self._service.config, summary=summary, origin=origin)
        await self._poster.open_modal(trigger_id, view, again="try `/recover` again")

    async def submit_report(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        origin = ReportOrigin.from_metadata(field(view, "private_metadata"))
        raw = parse_report_form(field(view, "state", "values"))
        report, problems = validate_report(raw, self._service.config, source_permalink=origin.permalink)
        if report is None:
            await ack(
                response_action="errors", errors={FIELD_BLOCKS[f].value: m for f, m in problems.items()}
            )
            return
        user_id = _user_id(body)
        team_id = _team_id(body)
        view_id = id_field(view, "id")
        if not user_id or not team_id or not view_id:
            await ack(
                response_action="errors", errors={ReportBlock.SUMMARY.value: "Slack sent an incomplete form."}
            )
            return
        # The save comes before the ack on purpose: if the database is down, the modal stays open with
        # the reporter's words in it instead of closing on a case that was never stored.
        saved = await save_then_ack(
            ack,
            self._service.open_case(
                report,
                team_id=team_id,
                reporter_user_id=user_id,
                origin_channel_id=origin.channel_id,
                report_key=view_id,
            ),
            tasks=self._tasks,
            user_id=user_id,
            error_block=ReportBlock.SUMMARY.value,
            when_late=self._announce_if_new,
        )
        if saved is not None:
            self._tasks.spawn(
                self._announce_if_new(saved),
                user_id=user_id,
                channel_id=origin.channel_id,
                name="announce-case",
            )

    async def _announce_if_new(self, saved: tuple[Case, bool]) -> None:
        case, created = saved
        if created:
            await self._service.announce(case.id)
            if self._after_announce is not None:
                await self._after_announce(case.id)


def _user_id(body: dict[str, Any]) -> str | None:
    return id_field(body, "user", "id") or id_field(body, "user_id")


def _team_id(body: dict[str, Any]) -> str | None:
    return id_field(body, "team", "id") or id_field(body, "team_id") or id_field(body, "view", "team_id")
