"""Errors the domain raises, each carrying a message that is safe to show the person who acted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Person:
    """Someone a message names, by user id. The domain never writes how a person is shown: the edge does
    (a Slack mention of a checked id), and plain text says "someone"."""

    user_id: str

    def __str__(self) -> str:
        return "someone"


class MendError(Exception):
    """A problem the user can understand and act on; `user_message` is shown to them as it is.

    A message that names people is given in parts, `MendError("Done by ", Person(uid), ".")`:
    `user_message` is the plain text, and `render(person)` writes each person as the edge shows them.
    """

    def __init__(self, *parts: str | Person) -> None:
        self.parts = parts
        self.user_message = "".join(str(p) for p in parts)
        super().__init__(self.user_message)

    def render(self, person: Callable[[str], str]) -> str:
        return "".join(person(p.user_id) if isinstance(p, Person) else p for p in self.parts)


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
