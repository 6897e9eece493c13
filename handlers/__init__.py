"""The whole Slack surface of Mend in one place: every command, shortcut, action, view and event."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.amends import AmendsListeners
from handlers.cases import CaseListeners
from handlers.deliveries import EventDeduplication
from handlers.errors import ErrorPolicy
from handlers.followups import FollowUpListeners
from handlers.home import HomeListeners
from handlers.ids import (
    Action,
    AmendsAction,
    AmendsView,
    Command,
    Event,
    FollowUpAction,
    FollowUpView,
    LearningId,
    Shortcut,
    StepAction,
    StepView,
    View,
)
from handlers.learning import LearningListeners
from handlers.recovery import RecoveryListeners
from handlers.workspaces import WorkspaceListeners


def register(
    app: AsyncApp,
    *,
    cases: CaseListeners,
    recovery: RecoveryListeners,
    home: HomeListeners,
    learning: LearningListeners,
    amends: AmendsListeners,
    workspaces: WorkspaceListeners,
    deliveries: EventDeduplication,
    followups: FollowUpListeners,
    errors: ErrorPolicy,
) -> None:
    # Before any listener: a retried Events API delivery is acked and dropped.
    app.use(deliveries.skip_repeated_events)

    # Reporting
    app.command(Command.RECOVER.value)(cases.handle_recover_command)
    app.shortcut(Shortcut.START_RECOVERY.value)(cases.start_recovery_from_message)
    app.action(Action.REPORT_FROM_TEXT.value)(cases.open_report_from_button)
    app.view_submission(View.REPORT.value)(cases.submit_report)
    app.action(Action.OPEN_REPORT.value)(cases.open_report_from_home)
    app.action(Action.CLOSE_AS_DUPLICATE.value)(cases.open_duplicate_close)
    app.view_submission(View.CLOSE_AS_DUPLICATE.value)(cases.submit_duplicate_close)

    # The playbook, in the case thread; "Apology sent" on a nudge opens the same apology form
    recovery.resolve_nudges_with(followups.apology_recorded)
    followups.open_apology_with(recovery.open_apology_form)
    app.action(StepAction.DONE.value)(recovery.complete_step)
    app.action(StepAction.SKIP.value)(recovery.open_skip_modal)
    app.view_submission(StepView.SKIP.value)(recovery.submit_skip)
    app.action(StepAction.DRAFT_APOLOGY.value)(recovery.open_apology_modal)
    app.action(StepAction.APOLOGY_TEMPLATE.value)(recovery.choose_apology_template)
    app.view_submission(StepView.APOLOGY.value)(recovery.submit_apology)
    app.action(StepAction.TAKE_OWNERSHIP.value)(recovery.take_ownership)
    app.action(StepAction.ASSIGN_OWNER.value)(recovery.open_assign_owner_modal)
    app.view_submission(StepView.ASSIGN_OWNER.value)(recovery.submit_assign_owner)
    app.action(StepAction.RECORD_ROOT_CAUSE.value)(recovery.open_root_cause_modal)
    app.view_submission(StepView.ROOT_CAUSE.value)(recovery.submit_root_cause)
    app.action(StepAction.WRITE_RECORD.value)(recovery.open_record_modal)
    app.view_submission(StepView.RECORD.value)(recovery.submit_record)
    app.action(StepAction.CLOSE_CASE.value)(recovery.close_case)
    app.action(StepAction.REOPEN_CASE.value)(recovery.open_reopen_modal)
    app.view_submission(StepView.REOPEN.value)(recovery.submit_reopen)

    # The learning loop
    app.action(LearningId.CREATE_FIX.value)(learning.open_fix_modal)
    app.view_submission(LearningId.FIX_VIEW.value)(learning.submit_fix)

    # App Home
    app.event("app_home_opened")(home.show_home)
    app.action(Action.CASE_LINK.value)(home.open_case_link)

    # Amends: offered from the step prompt or the card, decided by approvers in a channel or their DMs
    app.action(AmendsAction.OFFER.value)(amends.open_offer_modal)
    app.view_submission(AmendsView.OFFER.value)(amends.submit_offer)
    app.action(AmendsAction.INVOKE_GUARANTEE.value)(amends.invoke_guarantee)
    app.action(AmendsAction.APPROVE.value)(amends.approve)
    app.action(AmendsAction.REJECT.value)(amends.open_reject_modal)
    app.view_submission(AmendsView.REJECT.value)(amends.submit_reject)
    app.action(AmendsAction.ADJUST.value)(amends.open_adjust_modal)
    app.view_submission(AmendsView.ADJUST.value)(amends.submit_adjust)

    # The workspace itself
    app.event(Event.APP_UNINSTALLED.value)(workspaces.record_uninstall)
    app.event(Event.TOKENS_REVOKED.value)(workspaces.record_revoked_tokens)

    # Follow-ups: promises and scheduled check-ins from step prompts, then the nudges' own buttons
    app.action(FollowUpAction.RECORD_PROMISE.value)(followups.open_promise_modal)
    app.view_submission(FollowUpView.PROMISE.value)(followups.submit_promise)
    app.action(FollowUpAction.SCHEDULE_FOLLOW_UP.value)(followups.open_schedule_modal)
    app.view_submission(FollowUpView.SCHEDULE.value)(followups.submit_schedule)
    app.action(FollowUpAction.DONE.value)(followups.mark_done)
    app.action(FollowUpAction.SNOOZE.value)(followups.snooze)
    app.view_submission(FollowUpView.SNOOZE.value)(followups.submit_snooze)
    app.action(FollowUpAction.REASSIGN.value)(followups.open_reassign_modal)
    app.view_submission(FollowUpView.REASSIGN.value)(followups.submit_reassign)
    app.action(FollowUpAction.SATISFIED.value)(followups.customer_satisfied)
    app.action(FollowUpAction.NOT_YET.value)(followups.customer_not_yet)
    app.action(FollowUpAction.RECORD_OUTCOME.value)(followups.open_resurvey_modal)
    app.view_submission(FollowUpView.RESURVEY.value)(followups.submit_resurvey)

    app.error(errors.handle_listener_error)
