"""The Slack edge of reporting: `/recover`, the Start recovery shortcut, the report modal, and case posts."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.cases import Case, CaseConfig, CaseReport, CaseService, MessageRef, ReportField, validate_report
from bot.duplicates import OTHER, DuplicateService
from bot.errors import MendError, SlackUnavailable
from bot.playbook import CaseStep, Step, progress_of
from bot.recovery import RecoveryService
from handlers.blocks.cases import (
    DUPLICATE_ADD,
    DUPLICATE_NEW,
    ReportOrigin,
    build_added_report,
    build_case_card,
    build_case_opened_notice,
    build_duplicate_close_modal,
    build_duplicate_modal,
    build_duplicate_notes,
    build_help,
    build_origin_reply,
    build_report_modal,
    build_thread_opening,
    build_unknown_command,
    case_card_text,
    duplicate_case_id,
)
from handlers.blocks.kit import section
from handlers.blocks.recovery import StepRef
from handlers.blocks.text import escape_mrkdwn
from handlers.ids import DuplicateBlock, MessageMetadata, ReportBlock
from handlers.interaction import BROKEN_DEFAULT, Acting, Form, Interaction, ListenerKit
from handlers.slack_api import SlackPoster, SlackRefused
from handlers.tasks import BackgroundTasks

log = logging.getLogger(__name__)

# Each part of a report is held by the modal block of the same name.
FIELD_BLOCKS: dict[ReportField, ReportBlock] = {f: ReportBlock[f.name] for f in ReportField}
SUBCOMMANDS = frozenset({"help", "report", "export"})
PERMALINK_DEADLINE_SECONDS = 1.0
# A lookup of the customer's open cases before the save; a slow database skips it rather than the save.
DUPLICATE_LOOKUP_SECONDS = 1.0
# Where Mend can't post, the message a case started from goes unanswered, quietly.
CANNOT_REPLY = frozenset(
    {"not_in_channel", "channel_not_found", "is_archived", "method_not_supported_for_channel_type"}
)


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


def parse_report_form(values: Any) -> dict[ReportField, Any]:
    """Read the report modal's state; anything missing or malformed becomes None for validation to explain."""
    form = Form(values)
    return {report_field: form.value(block) for report_field, block in FIELD_BLOCKS.items()}


class SlackCaseNotifier:
    """Implements the domain's CaseNotifier with Slack messages."""

    def __init__(self, poster: SlackPoster, config: CaseConfig, steps: Sequence[Step]) -> None:
        self._poster = poster
        self._config = config
        self._steps = steps

    async def post_case_card(self, case: Case, channel_id: str) -> MessageRef:
        # A new case's steps are the playbook's, none started: the progress line the first sync would add.
        fresh = [CaseStep(case_id=case.id, position=i, step=s) for i, s in enumerate(self._steps)]
        return await self._poster.post_once(
            channel_id,
            case_card_text(case, self._config),
            build_case_card(case, self._config, progress_of(fresh)),
            event_type=MessageMetadata.CASE_CARD,
            key=str(case.id),
        )

    async def open_case_thread(self, case: Case) -> None:
        assert case.card is not None, "a thread hangs off the case card"
        await self._poster.post_once(
            case.card,
            f"Case {case.reference} is open. Here is what happens next.",
            build_thread_opening(case, self._steps),
            event_type=MessageMetadata.CASE_THREAD,
            key=str(case.id),
        )

    async def post_added_report(
        self, case: Case, report: CaseReport, reporter_user_id: str, key: str
    ) -> None:
        if case.card is None:  # not announced yet: the audit trail has the report, the thread comes later
            return
        text, blocks = build_added_report(report, reporter_user_id, self._config)
        await self._poster.post_once(
            case.card, text, blocks, event_type=MessageMetadata.REPORT_ADDED, key=key
        )

    async def reply_to_origin(self, case: Case, origin: MessageRef) -> MessageRef | None:
        link = await self._poster.permalink(case.card.channel_id, case.card.ts) if case.card else None
        text, blocks = build_origin_reply(case, link)
        try:
            return await self._poster.post_once(
                origin, text, blocks, event_type=MessageMetadata.ORIGIN_REPLY, key=str(case.id)
            )
        except SlackUnavailable as exc:
            refused = exc.__cause__
            if isinstance(refused, SlackRefused) and refused.code in CANNOT_REPLY:
                log.info(
                    "case %s: can't answer its message in %s (%s)",
                    case.reference,
                    origin.channel_id,
                    refused.code,
                )
                return None
            raise

    async def update_origin_reply(self, case: Case, reply: MessageRef) -> None:
        link = await self._poster.permalink(case.card.channel_id, case.card.ts) if case.card else None
        text, blocks = build_origin_reply(case, link)
        await self._poster.update(reply, text, blocks)

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
        export: Callable[[AsyncAck, dict[str, Any], str], Awaitable[None]] | None = None,
        recovery: RecoveryService | None = None,
    ) -> None:
        self._service = service
        # Closing as a duplicate closes through the playbook's service (its CASE_EDITORS rule, its sync).
        self._duplicates = DuplicateService(service, recovery) if recovery is not None else None
        self._kit = ListenerKit(poster, tasks)
        # `/recover export` belongs to the export feature; this listener only routes it there.
        self._export = export

    async def handle_recover_command(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        parsed = parse_recover_command(Interaction.from_body(command).text)
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

        async def open_report(asked: Interaction) -> None:
            origin = ReportOrigin(channel_id=asked.channel_id)
            await self._open_report(asked, parsed.text, origin)

        await self._kit.ack_then_work(ack, command, open_report, name="open-report")

    async def open_report_from_button(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async def open_report(clicked: Interaction) -> None:
            origin = ReportOrigin(channel_id=clicked.channel_id)
            await self._open_report(clicked, clicked.value or "", origin)

        await self._kit.ack_then_work(ack, body, open_report, name="open-report")

    async def open_report_from_home(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """The Home tab's "Report a failure": no channel, so the card goes to RECOVERY_CHANNEL."""

        async def open_report(clicked: Interaction) -> None:
            await self._open_report(clicked, "", ReportOrigin())

        await self._kit.ack_then_work(ack, body, open_report, name="open-report")

    async def start_recovery_from_message(self, ack: AsyncAck, shortcut: dict[str, Any]) -> None:
        async def open_report(used: Interaction) -> None:
            permalink = None
            if used.channel_id and used.message_ts:
                try:
                    permalink = await asyncio.wait_for(
                        self._kit.poster.permalink(used.channel_id, used.message_ts),
                        PERMALINK_DEADLINE_SECONDS,
                    )
                except TimeoutError:
                    permalink = None
            origin = ReportOrigin(
                channel_id=used.channel_id,
                permalink=permalink,
                reply_ts=used.thread_ts or used.message_ts if used.channel_id else None,
            )
            await self._open_report(used, used.message_text or "", origin)

        await self._kit.ack_then_work(ack, shortcut, open_report, name="open-report-from-message")

    async def _open_report(self, asked: Interaction, summary: str, origin: ReportOrigin) -> None:
        view = build_report_modal(self._service.config, summary=summary, origin=origin)
        await self._kit.open_modal(asked, view, belongs_to=None, again="try `/recover` again")

    async def submit_report(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        submitted = Interaction.from_body(body)
        origin = ReportOrigin.from_metadata(submitted.private_metadata)
        raw = parse_report_form(submitted.values)
        report, problems = validate_report(raw, self._service.config, source_permalink=origin.permalink)
        if report is None:
            await ack(
                response_action="errors", errors={FIELD_BLOCKS[f].value: m for f, m in problems.items()}
            )
            return
        user_id, team_id, view_id = submitted.user_id, submitted.team_id, submitted.view_id
        if not user_id or not team_id or not view_id:
            await ack(
                response_action="errors", errors={ReportBlock.SUMMARY.value: "Slack sent an incomplete form."}
            )
            return
        choice = submitted.form.option(ReportBlock.DUPLICATE_CHOICE.value)
        if origin.duplicate_of is not None and choice == DUPLICATE_ADD:
            await self._kit.save_then_ack(
                ack,
                submitted,
                self._service.add_report(
                    origin.duplicate_of, report, team_id=team_id, reporter_user_id=user_id, report_key=view_id
                ),
                error_block=ReportBlock.DUPLICATE_CHOICE.value,
                field_blocks={"duplicate_choice": ReportBlock.DUPLICATE_CHOICE.value},
                then=lambda saved: self._post_added(saved, report, user_id, view_id),
                tell_in=origin.channel_id,
            )
            return
        if choice != DUPLICATE_NEW and await self._show_open_case(ack, report, team_id, view_id, origin):
            return
        await self._kit.save_then_ack(
            ack,
            submitted,
            self._service.open_case(
                report,
                team_id=team_id,
                reporter_user_id=user_id,
                origin_channel_id=origin.channel_id,
                report_key=view_id,
                origin_message=origin.message,
            ),
            error_block=ReportBlock.SUMMARY.value,
            then=self._announce_if_new,
            tell_in=origin.channel_id,
        )

    async def _show_open_case(
        self, ack: AsyncAck, report: CaseReport, team_id: str, view_id: str, origin: ReportOrigin
    ) -> bool:
        """If the customer has an open case, show it in the modal with the choice; True when shown."""

        async def look() -> tuple[Case | None, str | None]:
            found = await self._service.open_case_for_customer(report, team_id=team_id, report_key=view_id)
            card = found.card if found else None
            return found, await self._kit.poster.permalink(card.channel_id, card.ts) if card else None

        try:
            open_case, link = await asyncio.wait_for(look(), DUPLICATE_LOOKUP_SECONDS)
        except Exception:  # a slow or failing lookup must not stop the report itself
            log.warning("looking for the customer's open case failed; opening the case", exc_info=True)
            return False
        if open_case is None:
            return False
        shown = ReportOrigin(
            channel_id=origin.channel_id,
            permalink=origin.permalink,
            reply_ts=origin.reply_ts,
            duplicate_of=open_case.id,
        )
        view = build_duplicate_modal(self._service.config, report, open_case, shown, link)
        await ack(response_action="update", view=view)
        return True

    async def _post_added(self, saved: tuple[Case, bool], report: CaseReport, user_id: str, key: str) -> None:
        case, added = saved
        if added:  # a replayed submission was shown in the thread the first time
            await self._service.post_added_report(case, report, user_id, key)

    async def _announce_if_new(self, saved: tuple[Case, bool]) -> None:
        case, created = saved
        if created:
            await self._service.announce(case.id)  # CaseAnnounced: the playbook posts its first step

    # ---- Close as duplicate (the case card's button) ---------------------------------------------------

    def _duplicate_service(self) -> DuplicateService:
        if self._duplicates is None:
            raise MendError("Closing as a duplicate isn't set up in this Mend.")
        return self._duplicates

    async def open_duplicate_close(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async def work(acting: Acting[StepRef]) -> None:
            case = await self._duplicate_service().may_close(acting.ref.case_id, **acting.actor)
            view = build_duplicate_close_modal(case)
            await self._kit.open_modal(acting.interaction, view, belongs_to=case.team_id)

        await self._kit.ack_then_act(ack, body, StepRef, work, name="open-duplicate-close")

    async def submit_duplicate_close(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        submitted = Interaction.from_body(body)
        case_id = duplicate_case_id(submitted.private_metadata)
        block = DuplicateBlock.OTHER.value
        if case_id is None or submitted.user_id is None or submitted.team_id is None:
            await ack(response_action="errors", errors={block: BROKEN_DEFAULT})
            return
        await self._kit.save_then_ack(
            ack,
            submitted,
            self._duplicate_service().close(
                case_id,
                submitted.form.text(block),
                actor_user_id=submitted.user_id,
                team_id=submitted.team_id,
            ),
            error_block=block,
            field_blocks={OTHER: block},
            then=self._show_duplicate,
        )

    async def _show_duplicate(self, saved: tuple[Case, Case]) -> None:
        closed, kept = saved
        await self._duplicate_service().sync(closed.id)  # the closing summary and the card
        poster = self._kit.poster
        closed_link = await poster.permalink(closed.card.channel_id, closed.card.ts) if closed.card else None
        kept_link = await poster.permalink(kept.card.channel_id, kept.card.ts) if kept.card else None
        in_closed, in_kept = build_duplicate_notes(closed, kept, closed_link, kept_link)
        for case, text, key in (
            (closed, in_closed, f"closed:{closed.id}"),
            (kept, in_kept, f"kept:{closed.id}"),
        ):
            if case.card is not None:
                await poster.post_once(
                    case.card, text, [section(text)], event_type=MessageMetadata.DUPLICATE_NOTE, key=key
                )
