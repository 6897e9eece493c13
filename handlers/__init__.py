"""The whole Slack surface of Mend in one place: every command, shortcut, action, view and event."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.cases import CaseListeners
from handlers.deliveries import EventDeduplication
from handlers.errors import ErrorPolicy
from handlers.ids import Action, Command, Event, Shortcut, View
from handlers.workspaces import WorkspaceListeners


def register(
    app: AsyncApp,
    *,
    cases: CaseListeners,
    workspaces: WorkspaceListeners,
    deliveries: EventDeduplication,
    errors: ErrorPolicy,
) -> None:
    # Before any listener: a retried Events API delivery is acked and dropped.
    app.use(deliveries.skip_repeated_events)
    app.command(Command.RECOVER.value)(cases.handle_recover_command)
    app.shortcut(Shortcut.START_RECOVERY.value)(cases.start_recovery_from_message)
    app.action(Action.REPORT_FROM_TEXT.value)(cases.open_report_from_button)
    app.view_submission(View.REPORT.value)(cases.submit_report)
    app.event(Event.APP_UNINSTALLED.value)(workspaces.record_uninstall)
    app.event(Event.TOKENS_REVOKED.value)(workspaces.record_revoked_tokens)
    app.error(errors.handle_listener_error)
