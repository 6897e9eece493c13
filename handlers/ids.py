"""Every Slack identifier Mend sends or listens for, typed exactly once."""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    RECOVER = "/recover"


class Shortcut(StrEnum):
    START_RECOVERY = "start_recovery"


class Event(StrEnum):
    """Events API event types Mend subscribes to (manifest.json's bot_events)."""

    APP_UNINSTALLED = "app_uninstalled"
    TOKENS_REVOKED = "tokens_revoked"


class View(StrEnum):
    """`callback_id`s of Mend's modals."""

    REPORT = "report_failure"


class Action(StrEnum):
    """`action_id`s of buttons and other interactive elements outside modal inputs."""

    REPORT_FROM_TEXT = "report_from_text"
    OPEN_REPORT = "open_report"
    CASE_LINK = "case_link"


class ReportBlock(StrEnum):
    """`block_id`s of the report modal; each input's `action_id` is the same string with `_input`."""

    CUSTOMER_NAME = "customer_name"
    CUSTOMER_REF = "customer_ref"
    SUMMARY = "summary"
    CUSTOMER_WORDS = "customer_words"
    IMPACT = "impact"
    SEVERITY = "severity"
    CATEGORY = "category"
    SOURCE = "source"

    @property
    def action_id(self) -> str:
        return f"{self.value}_input"


class MessageMetadata(StrEnum):
    """`metadata.event_type` on messages Mend posts, so they can be found again without a database."""

    CASE_CARD = "mend_case_card"
    CASE_THREAD = "mend_case_thread"
