"""Recovery cases: what a report must contain, how a case is opened and announced, and the ports it needs."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from bot.clock import Clock
from bot.errors import CaseNotFound, InvalidInput, NoCardChannel
from bot.events import CaseAnnounced, CaseWasClosed, Events
from bot.followup_request import FollowUpRequest
from bot.playbook import DEFAULT_PLAYBOOK, Playbook, Step
from bot.workspaces import WorkspaceStatus

log = logging.getLogger(__name__)

# Slack's plain_text_input takes at most 3000 characters; the database keeps whatever arrives within them.
MAX_LONG_TEXT = 3000
MAX_SHORT_TEXT = 200


class Severity(StrEnum):
    """How hard the failure hit the customer, from the doctrine's 'mildly irritated' to 'serious harm'."""

    MINOR = "minor"
    MODERATE = "moderate"
    MAJOR = "major"
    CRITICAL = "critical"

    @property
    def label(self) -> str:
        return _SEVERITY_LABELS[self]

    @property
    def rank(self) -> int:
        return list(Severity).index(self) + 1


_SEVERITY_LABELS = {
    Severity.MINOR: "Mildly irritated",
    Severity.MODERATE: "Upset: the failure got in their way",
    Severity.MAJOR: "Badly let down: lost time or money",
    Severity.CRITICAL: "Serious harm / legal or safety risk",
}


class CaseState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Category(BaseModel):
    """A failure category: `key` is stored and sent in Slack option values, `label` is shown."""

    model_config = ConfigDict(frozen=True)

    key: str
    label: str


DEFAULT_CATEGORY_LABELS = (
    "Delivery",
    "Billing",
    "Product defect",
    "Staff conduct",
    "Wait time",
    "Communication",
    "Other",
)


DEFAULT_ROOT_CAUSE_LABELS = (
    "Carrier / logistics",
    "Billing error",
    "Product defect",
    "Staff conduct",
    "Policy",
    "System outage",
    "Communication",
    "Other",
)


def category_key(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.strip().lower()).strip("_")[:60]


def categories_from_labels(labels: Sequence[str]) -> tuple[Category, ...]:
    """Build the category list from configured labels; blank and repeated labels are errors, not ignored."""
    cats: list[Category] = []
    seen: set[str] = set()
    for raw in labels:
        label = raw.strip()
        key = category_key(label)
        if not key:
            raise ValueError(f"category {raw!r} has no letters or digits")
        if len(label) > 75:
            raise ValueError(f"category {label!r} is longer than Slack's 75-character option limit")
        if key in seen:
            raise ValueError(f"category {label!r} is listed twice")
        seen.add(key)
        cats.append(Category(key=key, label=label))
    if not cats:
        raise ValueError("at least one failure category is needed")
    if len(cats) > 100:
        raise ValueError("Slack shows at most 100 options in a menu")
    return tuple(cats)


class CaseConfig(BaseModel):
    """The team's choices that shape reporting."""

    model_config = ConfigDict(frozen=True)

    categories: tuple[Category, ...] = Field(
        default_factory=lambda: categories_from_labels(DEFAULT_CATEGORY_LABELS)
    )
    recovery_channel_id: str | None = None

    def category(self, key: str) -> Category | None:
        return next((c for c in self.categories if c.key == key), None)


class ReportField(StrEnum):
    """The parts of a failure report; the Slack edge maps each to the modal block that holds it."""

    CUSTOMER_NAME = "customer_name"
    CUSTOMER_REF = "customer_ref"
    SUMMARY = "summary"
    CUSTOMER_WORDS = "customer_words"
    IMPACT = "impact"
    SEVERITY = "severity"
    CATEGORY = "category"


class CaseReport(BaseModel):
    """A validated failure report, as the responder gave it."""

    model_config = ConfigDict(frozen=True)

    customer_name: str | None = None
    customer_ref: str | None = None
    summary: str
    customer_words: str | None = None
    impact: str | None = None
    severity: Severity
    category: str
    source_permalink: str | None = None

    @property
    def customer_display(self) -> str:
        if self.customer_name and self.customer_ref:
            return f"{self.customer_name} ({self.customer_ref})"
        return self.customer_name or self.customer_ref or "Unknown customer"


# C0 control characters other than tab and newline: invisible, never typed into a Slack form, and trouble
# for whatever reads the database later (exports, terminals). PostgreSQL refuses NUL outright.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = _CONTROL.sub("", str(value)).strip()
    return text or None


def validate_report(
    raw: dict[ReportField, Any], config: CaseConfig, *, source_permalink: str | None = None
) -> tuple[CaseReport | None, dict[ReportField, str]]:
    """Check a submitted report; returns the report or, per field, a message the reporter can act on."""
    values = {field: _clean(raw.get(field)) for field in ReportField}
    errors: dict[ReportField, str] = {}

    if not values[ReportField.CUSTOMER_NAME] and not values[ReportField.CUSTOMER_REF]:
        errors[ReportField.CUSTOMER_NAME] = (
            "Who was affected? Give the customer's name, or an account or order reference below."
        )
    if not values[ReportField.SUMMARY]:
        errors[ReportField.SUMMARY] = "Say in a sentence what went wrong for the customer."
    for field, limit in (
        (ReportField.CUSTOMER_NAME, MAX_SHORT_TEXT),
        (ReportField.CUSTOMER_REF, MAX_SHORT_TEXT),
        (ReportField.SUMMARY, MAX_LONG_TEXT),
        (ReportField.CUSTOMER_WORDS, MAX_LONG_TEXT),
        (ReportField.IMPACT, MAX_LONG_TEXT),
    ):
        text = values[field]
        if text and len(text) > limit:
            errors[field] = f"Please keep this under {limit} characters (it has {len(text)})."

    severity: Severity | None = None
    try:
        severity = Severity(values[ReportField.SEVERITY] or "")
    except ValueError:
        errors[ReportField.SEVERITY] = "Choose how hard this hit the customer."
    category = config.category(values[ReportField.CATEGORY] or "")
    if category is None:
        errors[ReportField.CATEGORY] = "Choose the kind of failure from the list."

    if errors or severity is None or category is None:
        return None, errors
    return (
        CaseReport(
            customer_name=values[ReportField.CUSTOMER_NAME],
            customer_ref=values[ReportField.CUSTOMER_REF],
            summary=values[ReportField.SUMMARY] or "",
            customer_words=values[ReportField.CUSTOMER_WORDS],
            impact=values[ReportField.IMPACT],
            severity=severity,
            category=category.key,
            source_permalink=source_permalink,
        ),
        {},
    )


# Invisible, yet not format characters (Cf): default-ignorable marks and fillers, and unassigned code points
# reserved as default-ignorable, as listed in Unicode's DerivedCoreProperties.
_IGNORABLE = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2065\u3164\ufe00-\ufe0f\uffa0\ufff0-\ufff8"
    "\U000e0000-\U000e0fff]"
)
CUSTOMER_KEY_LENGTH = 200


def fold_customer(text: str) -> str:
    """One spelling for one customer: NFKC, case-folded, invisible characters and punctuation dropped,
    whitespace folded to single spaces; `order #4411`, `ORDER #4411 ` and `order #4411` + a zero-width
    space (or in full-width digits) are one key."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    kept = "".join(" " if ch.isspace() else ch for ch in folded if _visible(ch))
    return " ".join(kept.split())[:CUSTOMER_KEY_LENGTH].rstrip()


def _visible(ch: str) -> bool:
    category = unicodedata.category(ch)
    if ch.isspace():
        return True
    return not (category[0] == "P" or category in {"Cc", "Cf", "Cs"} or _IGNORABLE.match(ch))


def same_customer(a: CaseReport, b: CaseReport) -> bool:
    """Whether two reports are about one customer: the same reference, or the same name (`fold_customer`)."""
    for first, second in ((a.customer_ref, b.customer_ref), (a.customer_name, b.customer_name)):
        key = fold_customer(first or "")
        if key and key == fold_customer(second or ""):
            return True
    return False


class MessageRef(BaseModel):
    """Where a message Mend posted lives in Slack."""

    model_config = ConfigDict(frozen=True)

    channel_id: str
    ts: str


class Case(BaseModel):
    """A recovery case as the domain sees it; storage maps its rows to this."""

    model_config = ConfigDict(frozen=True)

    id: int
    team_id: str
    report: CaseReport
    state: CaseState
    reporter_user_id: str
    owner_user_id: str
    origin_channel_id: str | None
    card: MessageRef | None
    thread_opened: bool
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    acknowledged_at: datetime | None = None
    root_cause_category: str | None = None
    root_cause_details: str | None = None
    reopen_count: int = 0
    closed_notice_ts: str | None = None
    amends_note: str | None = None
    version: int = 0
    card_version: int = 0

    @property
    def reference(self) -> str:
        return format_reference(self.id)

    @property
    def is_open(self) -> bool:
        return self.state is CaseState.OPEN


def format_reference(case_id: int) -> str:
    return f"R-{case_id:04d}"


def parse_reference(text: str) -> int | None:
    match = re.fullmatch(r"\s*R-?(\d{1,12})\s*", text, flags=re.IGNORECASE)
    return int(match.group(1)) if match else None


class CaseEvent(BaseModel):
    """One line of a case's audit trail: who did what, when."""

    model_config = ConfigDict(frozen=True)

    case_id: int
    kind: str
    actor_user_id: str | None
    at: datetime
    data: dict[str, Any] = Field(default_factory=dict)


class NewCase(BaseModel):
    """What the repository needs to store a reported case."""

    model_config = ConfigDict(frozen=True)

    team_id: str
    report: CaseReport
    reporter_user_id: str
    origin_channel_id: str | None
    # Identifies the submission (Slack's view id) so that a replayed submission opens no second case.
    report_key: str | None
    at: datetime
    # The playbook as it is when the case opens: later edits of the playbook leave open cases alone.
    steps: tuple[Step, ...] = ()
    # Written in the same transaction as the case (the acknowledgement nudge and its escalation).
    follow_ups: tuple[FollowUpRequest, ...] = ()
    # The message the case was started from (Start recovery), answered in its thread once announced.
    origin_message: MessageRef | None = None


class CaseRepository(Protocol):
    async def add(self, new: NewCase) -> tuple[Case, bool]:
        """Store a case with its 'reported' event; returns the case and whether it was new."""
        ...

    async def get(self, case_id: int) -> Case | None: ...

    async def record_card(
        self, case_id: int, card: MessageRef, at: datetime, *, drawn_version: int = 0
    ) -> Case:
        """The case's card, posted showing the case at `drawn_version` (so it isn't redrawn at once)."""
        ...

    async def record_thread_opened(self, case_id: int, at: datetime) -> Case: ...

    async def events(self, case_id: int) -> list[CaseEvent]: ...

    async def open_cases(self, team_id: str, *, except_report_key: str | None = None) -> list[Case]:
        """The workspace's open cases, oldest first; not the one `except_report_key` opened."""
        ...

    async def add_event(
        self, case_id: int, kind: str, actor_user_id: str | None, at: datetime, data: dict[str, Any]
    ) -> bool:
        """Append to the audit trail; an event of this kind with the same `data["key"]` is not added twice."""
        ...


class NewCasePlanner(Protocol):
    """Decides what a new case schedules (bot/followups/policy.py's FollowUpPolicy)."""

    def on_new_case(self, at: datetime) -> tuple[FollowUpRequest, ...]: ...


class CaseNotifier(Protocol):
    """What the domain needs from the chat surface to announce a case."""

    async def post_case_card(self, case: Case, channel_id: str) -> MessageRef: ...

    async def open_case_thread(self, case: Case) -> None: ...

    async def tell_reporter_case_opened(self, case: Case) -> None: ...

    async def post_added_report(
        self, case: Case, report: CaseReport, reporter_user_id: str, key: str
    ) -> None:
        """Show a further report about the customer in the open case's thread."""
        ...

    async def reply_to_origin(self, case: Case, origin: MessageRef) -> MessageRef | None:
        """Answer the message the case started from, in its thread; None where Mend can't post there."""
        ...

    async def update_origin_reply(self, case: Case, reply: MessageRef) -> None: ...


#: Audit-trail kinds of the report flow beyond 'reported'.
REPORT_ADDED = "report_added"
ORIGIN_ANSWERED = "origin_answered"


class CaseService:
    """Opens cases and announces them; the only place that decides where a case card goes."""

    def __init__(
        self,
        repo: CaseRepository,
        notifier: CaseNotifier,
        clock: Clock,
        config: CaseConfig,
        playbook: Playbook = DEFAULT_PLAYBOOK,
        planner: NewCasePlanner | None = None,
        *,
        workspaces: WorkspaceStatus | None = None,
        events: Events | None = None,
    ) -> None:
        self._events = events or Events()  # told CaseAnnounced once the thread is open (bot/events.py)
        self._repo = repo
        self._notifier = notifier
        self._clock = clock
        self._config = config
        self._playbook = playbook
        self._workspaces = workspaces
        self._planner = planner

    @property
    def config(self) -> CaseConfig:
        return self._config

    def card_channel_for(self, origin_channel_id: str | None) -> str | None:
        return self._config.recovery_channel_id or origin_channel_id

    async def open_case(
        self,
        report: CaseReport,
        *,
        team_id: str,
        reporter_user_id: str,
        origin_channel_id: str | None,
        report_key: str | None,
        origin_message: MessageRef | None = None,
    ) -> tuple[Case, bool]:
        """Save the report as a case owned by its reporter. Idempotent on `report_key`."""
        at = self._clock.now()
        return await self._repo.add(
            NewCase(
                team_id=team_id,
                report=report,
                reporter_user_id=reporter_user_id,
                origin_channel_id=origin_channel_id,
                report_key=report_key,
                at=at,
                steps=self._playbook.steps,
                follow_ups=self._planner.on_new_case(at) if self._planner else (),
                origin_message=origin_message,
            )
        )

    async def open_case_for_customer(
        self, report: CaseReport, *, team_id: str, report_key: str | None = None
    ) -> Case | None:
        """The workspace's oldest open case about the same customer as `report`, if there is one; the case
        this very submission opened (`report_key`: a replay) does not count."""
        cases = await self._repo.open_cases(team_id, except_report_key=report_key)
        return next((c for c in cases if same_customer(c.report, report)), None)

    async def add_report(
        self, case_id: int, report: CaseReport, *, team_id: str, reporter_user_id: str, report_key: str
    ) -> tuple[Case, bool]:
        """Append a further report to an open case's audit trail (idempotent on `report_key`)."""
        case = await self._repo.get(case_id)
        if case is None or case.team_id != team_id:
            raise CaseNotFound(case_id)
        if not case.is_open:
            raise InvalidInput(
                "duplicate_choice", f"{case.reference} was closed meanwhile. Choose to open a new case."
            )
        added = await self._repo.add_event(
            case.id,
            REPORT_ADDED,
            reporter_user_id,
            self._clock.now(),
            {"key": report_key, **report.model_dump(mode="json", exclude_none=True)},
        )
        return case, added

    async def post_added_report(
        self, case: Case, report: CaseReport, reporter_user_id: str, key: str
    ) -> None:
        await self._notifier.post_added_report(case, report, reporter_user_id, key)

    async def _answer_origin(self, case: Case) -> None:
        reported = next((e for e in await self._repo.events(case.id) if e.kind == "reported"), None)
        origin = _message_ref(reported.data.get("origin") if reported else None)
        if origin is None:
            return
        reply = await self._notifier.reply_to_origin(case, origin)
        if reply is not None:
            data = {"key": "origin", "channel_id": reply.channel_id, "ts": reply.ts}
            await self._repo.add_event(case.id, ORIGIN_ANSWERED, None, self._clock.now(), data)

    async def case_was_closed(self, event: CaseWasClosed) -> None:
        """The reply under the message the case started from says it is closed now."""
        answered = next(
            (e for e in await self._repo.events(event.case.id) if e.kind == ORIGIN_ANSWERED), None
        )
        reply = _message_ref(answered.data if answered else None)
        if reply is not None:
            await self._notifier.update_origin_reply(event.case, reply)

    async def announce(self, case_id: int) -> Case:
        """Post the case card and open its thread, skipping whatever an earlier attempt already did."""
        case = await self._repo.get(case_id)
        if case is None:
            raise CaseNotFound(case_id)
        if self._workspaces is not None and not await self._workspaces.is_active(case.team_id):
            # Uninstalled or token revoked: every post would fail, and nobody there could see it.
            log.info("case %s: workspace %s is inactive, not announcing", case.reference, case.team_id)
            return case
        if case.card is None:
            channel_id = self.card_channel_for(case.origin_channel_id)
            if channel_id is None:
                raise NoCardChannel()
            # The card is posted complete, progress included: an edit right after shows it "(edited)".
            card = await self._notifier.post_case_card(case, channel_id)
            case = await self._repo.record_card(case.id, card, self._clock.now(), drawn_version=case.version)
        if not case.thread_opened:
            await self._notifier.open_case_thread(case)
            case = await self._repo.record_thread_opened(case.id, self._clock.now())
            await self._notifier.tell_reporter_case_opened(case)
            await self._answer_origin(case)
            await self._events.publish(CaseAnnounced(case.id))
        return case

    async def events(self, case_id: int) -> list[CaseEvent]:
        return await self._repo.events(case_id)

    async def get(self, case_id: int, team_id: str) -> Case | None:
        """The case, if it is this workspace's."""
        case = await self._repo.get(case_id)
        return case if case is not None and case.team_id == team_id else None

    async def record(self, case_id: int, kind: str, actor_user_id: str | None, data: dict[str, Any]) -> bool:
        """Append to the case's audit trail, once per `data["key"]`."""
        return await self._repo.add_event(case_id, kind, actor_user_id, self._clock.now(), data)


def _message_ref(data: Any) -> MessageRef | None:
    if not isinstance(data, dict):
        return None
    channel_id, ts = data.get("channel_id"), data.get("ts")
    return (
        MessageRef(channel_id=channel_id, ts=ts)
        if isinstance(channel_id, str) and isinstance(ts, str)
        else None
    )
