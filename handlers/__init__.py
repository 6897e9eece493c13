"""The whole Slack surface of Mend in one place: every command, shortcut, action, view and event."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.cases import CaseListeners
from handlers.errors import ErrorPolicy
from handlers.ids import Action, Command, Shortcut, View


def register(app: AsyncApp, *, cases: CaseListeners, errors: ErrorPolicy) -> None:
    app.command(Command.RECOVER.value)(cases.handle_recover_command)
    app.shortcut(Shortcut.START_RECOVERY.value)(cases.start_recovery_from_message)
    app.action(Action.REPORT_FROM_TEXT.value)(cases.open_report_from_button)
    app.view_submission(View.REPORT.value)(cases.submit_report)
    app.error(errors.handle_listener_error)
