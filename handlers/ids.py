"""Every Slack identifier Mend sends or listens for, typed exactly once."""

from __future__ import annotations

from enum import StrEnum


class InputId(StrEnum):
    """A `block_id` whose input's `action_id` is the same string with `_input`: one rule for every form."""

    @property
    def action_id(self) -> str:
        return f"{self.value}_input"


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
    CLOSE_AS_DUPLICATE = "close_as_duplicate"


class Action(StrEnum):
    """`action_id`s of buttons and other interactive elements outside modal inputs."""

    REPORT_FROM_TEXT = "report_from_text"
    OPEN_REPORT = "open_report"
    CASE_LINK = "case_link"
    CLOSE_AS_DUPLICATE = "case_close_duplicate"


class ReportBlock(InputId):
    """`block_id`s of the report modal."""

    CUSTOMER_NAME = "customer_name"
    CUSTOMER_REF = "customer_ref"
    SUMMARY = "summary"
    CUSTOMER_WORDS = "customer_words"
    IMPACT = "impact"
    SEVERITY = "severity"
    CATEGORY = "category"
    SOURCE = "source"
    # Shown when the customer has an open case already: add the report to it, or open a new case anyway.
    DUPLICATE = "duplicate"
    DUPLICATE_CHOICE = "duplicate_choice"


class DuplicateBlock(InputId):
    """`block_id`s of the close-as-duplicate modal."""

    OTHER = "duplicate_of"


class MessageMetadata(StrEnum):
    """`metadata.event_type` on messages Mend posts, so they can be found again without a database."""

    CASE_CARD = "mend_case_card"
    CASE_THREAD = "mend_case_thread"
    STEP_PROMPT = "mend_step_prompt"
    CASE_CLOSED = "mend_case_closed"
    CASE_REOPENED = "mend_case_reopened"
    RECURRENCE_ALERT = "mend_recurrence_alert"
    CHECK_IN = "mend_check_in"
    AMENDS_REQUEST = "mend_amends_request"
    AMENDS_NOTICE = "mend_amends_notice"
    AMENDS_OUTCOME = "mend_amends_outcome"
    AMENDS_REMINDER = "mend_amends_reminder"
    FOLLOW_UP = "mend_follow_up"
    REPORT_ADDED = "mend_report_added"
    ORIGIN_REPLY = "mend_origin_reply"
    DUPLICATE_NOTE = "mend_duplicate_note"


class StepAction(StrEnum):
    """`action_id`s of the buttons on a step prompt and on the case card."""

    DONE = "step_done"
    SKIP = "step_skip"
    DRAFT_APOLOGY = "step_draft_apology"
    TAKE_OWNERSHIP = "step_take_ownership"
    ASSIGN_OWNER = "step_assign_owner"
    RECORD_ROOT_CAUSE = "step_record_root_cause"
    CLOSE_CASE = "case_close"
    REOPEN_CASE = "case_reopen"
    WRITE_RECORD = "step_write_record"
    APOLOGY_TEMPLATE = "apology_template"


class StepView(StrEnum):
    """`callback_id`s of the playbook's modals."""

    SKIP = "step_skip"
    APOLOGY = "step_apology"
    ASSIGN_OWNER = "step_assign_owner"
    ROOT_CAUSE = "step_root_cause"
    RECORD = "case_record"
    REOPEN = "case_reopen"


class StepBlock(InputId):
    """`block_id`s inside the playbook's modals."""

    REASON = "skip_reason"
    APOLOGY_DRAFT = "apology_draft"
    APOLOGY_OVERRIDE = "apology_override"
    APOLOGY_TEMPLATES = "apology_templates"
    OWNER = "owner"
    ROOT_CAUSE_CATEGORY = "root_cause_category"
    ROOT_CAUSE_DETAILS = "root_cause_details"
    STEP_ACTIONS = "step_actions"
    STEP_NOTE = "step_note"  # the one line a step `asks` for, typed on its prompt and read with Done
    CARD_ACTIONS = "card_actions"
    RECORD_ROOT_CAUSE = "record_root_cause"
    RECORD_WHAT_HAPPENED = "record_what_happened"
    RECORD_WHAT_FIXED = "record_what_fixed"
    RECORD_PREVENTION = "record_prevention"
    RECORD_PROCESS_OWNER = "record_process_owner"
    RECORD_LESSON = "record_lesson"
    REOPEN_REASON = "reopen_reason"
    REOPEN_STEPS = "reopen_steps"


class LearningId(InputId):
    """Ids of the learning loop's surfaces: the recurrence alert's button and the process-fix modal."""

    CREATE_FIX = "create_process_fix"
    FIX_VIEW = "process_fix"
    FIX_DESCRIPTION = "fix_description"
    FIX_OWNER = "fix_owner"
    FIX_DUE = "fix_due"
    ALERT_ACTIONS = "alert_actions"


class AmendsAction(StrEnum):
    """`action_id`s of the amends buttons: on the step prompt, the case card, the offer modal, approvals."""

    OFFER = "amends_offer"
    INVOKE_GUARANTEE = "amends_invoke_guarantee"
    APPROVE = "amends_approve"
    REJECT = "amends_reject"
    ADJUST = "amends_adjust"


class AmendsView(StrEnum):
    """`callback_id`s of the amends modals."""

    OFFER = "amends_offer"
    REJECT = "amends_reject"
    ADJUST = "amends_adjust"
    GUARANTEE_DONE = "amends_guarantee_done"


class AmendsBlock(InputId):
    """`block_id`s of the amends modals and messages."""

    KIND = "amends_kind"
    AMOUNT = "amends_amount"
    JUSTIFICATION = "amends_justification"
    CUSTOMER_COST = "amends_customer_cost"
    APPROVER = "amends_approver"
    GUARANTEE = "amends_guarantee"
    REASON = "amends_reason"
    NEW_AMOUNT = "amends_new_amount"
    DECISION = "amends_decision"


class FollowUpAction(StrEnum):
    """`action_id`s of the buttons on nudges, and of the follow-up buttons on step prompts."""

    DONE = "followup_done"
    SNOOZE = "followup_snooze"
    REASSIGN = "followup_reassign"
    SATISFIED = "followup_satisfied"
    NOT_YET = "followup_not_yet"
    RECORD_OUTCOME = "followup_record_outcome"
    RECORD_PROMISE = "step_record_promise"
    SCHEDULE_FOLLOW_UP = "step_schedule_follow_up"


class FollowUpView(StrEnum):
    """`callback_id`s of the follow-up modals."""

    SNOOZE = "followup_snooze"
    REASSIGN = "followup_reassign"
    RESURVEY = "followup_resurvey"
    PROMISE = "step_promise"
    SCHEDULE = "step_schedule_follow_up"


class FollowUpBlock(InputId):
    """`block_id`s of nudges and of the follow-up modals."""

    NUDGE_ACTIONS = "nudge_actions"
    DATE = "followup_date"
    TIME = "followup_time"
    ASSIGNEE = "followup_assignee"
    PROMISE_TEXT = "promise_text"
    NOTE = "followup_note"
    OUTCOME = "resurvey_outcome"
    SCORE = "resurvey_score"
