"""Errors the domain raises, each carrying a message that is safe to show the person who acted."""

from __future__ import annotations


class MendError(Exception):
    """A problem the user can understand and act on; `user_message` is shown to them as it is."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class CaseNotFound(MendError):
    def __init__(self, case_id: int) -> None:
        super().__init__(f"I can't find case {case_id}: it may have been removed.")
        self.case_id = case_id


class NotAllowed(MendError):
    """The person may not do this; nothing was changed."""


class SlackUnavailable(MendError):
    """Slack did not accept a message; the database change stands and is retried later."""


class StorageUnavailable(MendError):
    """The database did not answer; nothing was saved and the person should try again."""

    def __init__(self) -> None:
        super().__init__(
            "Mend couldn't reach its database just now. Nothing was lost: please try again in a moment."
        )


class NoCardChannel(MendError):
    def __init__(self) -> None:
        super().__init__(
            "I don't know where to post this case. Use /recover in a channel, or ask an admin to set "
            "RECOVERY_CHANNEL."
        )


class InvalidInput(MendError):
    """A value in a form that can't be used; `field` names the domain field so the form can show it there."""

    def __init__(self, field: str, user_message: str) -> None:
        super().__init__(user_message)
        self.field = field
