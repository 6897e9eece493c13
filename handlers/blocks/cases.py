"""Block Kit for reporting and announcing cases: pure functions from domain values to Slack payloads."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.cases import MAX_LONG_TEXT, MAX_SHORT_TEXT, Case, CaseConfig, CaseState, Severity
from bot.playbook import Progress, Step
from handlers import payloads
from handlers.blocks import fields
from handlers.blocks.kit import button, context, section
from handlers.blocks.recovery import build_card_progress
from handlers.blocks.refs import json_object
from handlers.blocks.text import (
    channel_mention,
    date_token,
    escape_mrkdwn,
    is_slack_permalink,
    mention,
    plain,
    safe_mrkdwn,
    safe_quote,
)
from handlers.ids import Action, ReportBlock
from handlers.ids import View as ViewId

SECTION_TEXT_LIMIT = 3000
FIELD_TEXT_LIMIT = 2000
HEADER_LIMIT = 150
BUTTON_VALUE_LIMIT = 2000
PRIVATE_METADATA_LIMIT = 3000
FALLBACK_TEXT_LIMIT = 300

SEVERITY_EMOJI = {
    Severity.MINOR: ":large_yellow_circle:",
    Severity.MODERATE: ":large_orange_circle:",
    Severity.MAJOR: ":red_circle:",
    Severity.CRITICAL: ":rotating_light:",
}

USAGE = (
    "*Mend helps you recover a customer after a service failure.*\n"
    "• `/recover` opens the report form.\n"
    "• `/recover <what went wrong>` opens it with that text filled in.\n"
    "• On any message, use the *Start recovery* shortcut (the ⋮ menu) to turn it into a case.\n"
    "• `/recover export [from] [to]` (approvers): CSV files of cases and amends, e.g. "
    "`/recover export 2026-10-01 2026-10-31`.\n"
    "• `/recover help` shows this message."
)


@dataclass(frozen=True)
class ReportOrigin:
    """Where a report started; travels through the modal's private_metadata."""

    channel_id: str | None = None
    permalink: str | None = None

    def __post_init__(self) -> None:
        # Only a link Slack gave us may be shown as a link; anything else is dropped here, once.
        if self.permalink is not None and not is_slack_permalink(self.permalink):
            object.__setattr__(self, "permalink", None)

    def to_metadata(self) -> str:
        data = {"c": self.channel_id, "p": self.permalink}
        return json.dumps({k: v for k, v in data.items() if v})

    @classmethod
    def from_metadata(cls, raw: object) -> ReportOrigin:
        """Read private_metadata defensively: it comes back from the client and may be anything."""
        # Slack keeps at most 3000 characters; anything longer (or not a string) is not what Mend wrote.
        data = json_object(raw, PRIVATE_METADATA_LIMIT)
        if data is None:
            return cls()
        channel = data.get("c")
        permalink = data.get("p")
        return cls(
            channel_id=payloads.channel_id(channel),
            permalink=permalink if isinstance(permalink, str) else None,
        )


def build_report_modal(
    config: CaseConfig, *, summary: str = "", origin: ReportOrigin | None = None
) -> dict[str, Any]:
    """The report modal as a views.open payload, prefilled with `summary` and remembering its origin.

    slack_sdk's `to_dict()` checks every limit but costs about 2 ms for this modal, on the path of every
    `/recover`; so the modal is built and checked once per configuration, and only the parts that vary
    (each already bounded: the prefill cut to the input's limit, metadata of ids and a checked link)
    are filled into a copy.
    """
    origin = origin or ReportOrigin()
    payload: dict[str, Any] = json.loads(
        _report_modal_template(config, with_source=origin.permalink is not None)
    )
    payload["private_metadata"] = origin.to_metadata()
    prefill = plain(summary, MAX_LONG_TEXT).strip()
    for block in payload["blocks"]:
        if block.get("block_id") == ReportBlock.SUMMARY.value and prefill:
            # Only after cleaning can we tell: a text of control characters leaves nothing to prefill, and
            # Slack refuses an empty initial_value.
            block["element"]["initial_value"] = prefill
        elif block.get("block_id") == ReportBlock.SOURCE.value:
            block["elements"][0]["text"] = _source_text(origin)
    return payload


def _source_text(origin: ReportOrigin) -> str:
    where = f" in {channel_mention(origin.channel_id)}" if origin.channel_id else ""
    return f":link: From <{origin.permalink}|this message>{where}"


@functools.lru_cache(maxsize=16)
def _report_modal_template(config: CaseConfig, *, with_source: bool) -> str:
    # The longest possible source line stands in for the real one, so the check covers it too.
    longest = ReportOrigin(channel_id="C" + "0" * 31, permalink="https://x.slack.com/archives/C0/p1")
    return json.dumps(
        _report_modal_view(config, source_text=_source_text(longest) if with_source else None).to_dict()
    )


def _report_modal_view(config: CaseConfig, *, source_text: str | None) -> View:
    blocks: list[Block] = []
    if source_text is not None:
        blocks.append(
            ContextBlock(block_id=ReportBlock.SOURCE.value, elements=[MarkdownTextObject(text=source_text)])
        )
    blocks += [
        fields.text_input(
            ReportBlock.CUSTOMER_NAME,
            "Customer",
            max_length=MAX_SHORT_TEXT,
            optional=True,
            hint="Their name, or give an account or order reference below (one of the two is needed).",
            focus=True,
        ),
        fields.text_input(
            ReportBlock.CUSTOMER_REF,
            "Account or order reference",
            max_length=MAX_SHORT_TEXT,
            optional=True,
            placeholder="e.g. order #4411",
        ),
        fields.long_text_input(
            ReportBlock.SUMMARY,
            "What went wrong",
            max_length=MAX_LONG_TEXT,
            placeholder="The failure, as the customer experienced it",
        ),
        fields.long_text_input(
            ReportBlock.CUSTOMER_WORDS, "The customer's own words", max_length=MAX_LONG_TEXT, optional=True
        ),
        fields.long_text_input(
            ReportBlock.IMPACT,
            "How it affected them",
            max_length=MAX_LONG_TEXT,
            optional=True,
            placeholder="Time lost, money, a missed event, how they feel",
        ),
        fields.radio_input(
            ReportBlock.SEVERITY,
            "How hard did it hit them?",
            fields.options(((s.value, s.label) for s in Severity), emoji=True),
        ),
        fields.select_input(
            ReportBlock.CATEGORY,
            "Kind of failure",
            fields.options((c.key, c.label) for c in config.categories),
        ),
    ]
    return fields.modal(ViewId.REPORT.value, "Report a failure", blocks, submit="Open case")


def case_title(case: Case, config: CaseConfig) -> str:
    category = config.category(case.report.category)
    label = category.label if category else case.report.category
    return f"{case.reference} · {label} · {case.report.customer_display}"


def build_case_card(case: Case, config: CaseConfig, progress: Progress | None = None) -> list[Block]:
    """The thread's parent message: everything a responder needs at a glance, whatever the customer typed."""
    report = case.report
    state = ":white_check_mark: Closed" if case.state is CaseState.CLOSED else ":large_green_circle: Open"
    facts = [
        MarkdownTextObject(text=f"*Customer*\n{safe_mrkdwn(report.customer_display, FIELD_TEXT_LIMIT - 20)}"),
        MarkdownTextObject(text=f"*Severity*\n{SEVERITY_EMOJI[report.severity]} {report.severity.label}"),
        MarkdownTextObject(text=f"*Owner*\n{mention(case.owner_user_id)}"),
        MarkdownTextObject(text=f"*State*\n{state}"),
    ]
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=plain(case_title(case, config), HEADER_LIMIT))),
        SectionBlock(fields=facts),
        section(f"*What went wrong*\n{safe_mrkdwn(report.summary, 2900)}"),
    ]
    if report.customer_words:
        words = safe_quote(report.customer_words, 2800)
        blocks.append(section(f"*In the customer's words*\n{words}"))
    if report.impact:
        blocks.append(section(f"*How it affected them*\n{safe_mrkdwn(report.impact, 2900)}"))
    if case.amends_note:
        blocks.append(section(f":gift: *Amends granted:* {safe_mrkdwn(case.amends_note, 2800)}"))
    footer = f"Reported by {mention(case.reporter_user_id)} · {date_token(case.created_at)}"
    if report.source_permalink and is_slack_permalink(report.source_permalink):
        footer += f" · <{report.source_permalink}|original message>"
    blocks.append(context(footer))
    return blocks + build_card_progress(case, progress)


def case_card_text(case: Case, config: CaseConfig) -> str:
    """Notification and screen-reader text for the card (the `text` beside `blocks`)."""
    return safe_mrkdwn(f"New case {case_title(case, config)}", FALLBACK_TEXT_LIMIT)


def build_thread_opening(case: Case, steps: Sequence[Step]) -> list[Block]:
    """The first reply in the case thread: who owns it and what happens next."""
    lines = "\n".join(
        f"{i}. *{escape_mrkdwn(s.title)}*: {escape_mrkdwn(s.what)}" for i, s in enumerate(steps, 1)
    )
    return [
        section(
            f"Case *{case.reference}* is open and {mention(case.owner_user_id)} owns it. "
            "Mend will walk you through the recovery here, one step at a time."
        ),
        section(safe_mrkdwn_list(lines)),
        context("Start now: the first hours decide whether a failure turns into loyalty or a lost customer."),
    ]


def safe_mrkdwn_list(lines: str) -> str:
    # The list is built from escaped parts already; only its length needs guarding.
    return lines if len(lines) <= SECTION_TEXT_LIMIT else lines[: SECTION_TEXT_LIMIT - 1] + "…"


def build_case_opened_notice(case: Case, thread_link: str | None) -> tuple[str, list[Block]]:
    """What the reporter sees once the case exists: a link straight into its thread."""
    where = f"<{thread_link}|Open the case thread>" if thread_link and is_slack_permalink(thread_link) else ""
    where = where or (f"See {channel_mention(case.card.channel_id)}." if case.card else "")
    text = f":white_check_mark: Case *{case.reference}* is open. {where}".strip()
    return text, [section(text)]


def build_help() -> list[Block]:
    return [section(USAGE)]


def build_unknown_command(word: str, full_text: str) -> list[Block]:
    """An unknown single-word sub-command: say so, and offer to report it as a failure anyway."""
    blocks: list[Block] = [section(f"I don't know the command `{safe_mrkdwn(word, 60)}`.\n\n{USAGE}")]
    if full_text.strip():
        blocks.append(
            ActionsBlock(
                elements=[
                    button(
                        Action.REPORT_FROM_TEXT.value,
                        plain(f"Report “{full_text.strip()}” as a failure", 75),
                        full_text[:BUTTON_VALUE_LIMIT],
                        style="primary",
                    )
                ]
            )
        )
    return blocks


def blocks_payload(blocks: Sequence[Block]) -> list[dict[str, object]]:
    return [b.to_dict() for b in blocks]
