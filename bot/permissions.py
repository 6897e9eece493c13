"""Who may change a case: close it, skip a required step, reopen it, give it to someone else (CASE_EDITORS),
and who may act on a message addressed to one person. Refusals are told in words and kept in the case's trail.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from bot.cases import Case
from bot.clock import Clock
from bot.errors import NotAllowed


class Editor(StrEnum):
    """Who CASE_EDITORS can name: the case's owner, its reporter, the approvers, or anyone at all."""

    OWNER = "owner"
    REPORTER = "reporter"
    APPROVERS = "approvers"
    ANYONE = "anyone"


class CaseChange(StrEnum):
    """The changes CASE_EDITORS guards; each value is the verb the refusal uses ("... can close R-0001")."""

    CLOSE = "close"
    SKIP_REQUIRED = "skip a required step of"
    REOPEN = "reopen"
    REASSIGN = "reassign"
    KEEP_PROMISE = "mark a promise kept on"


DEFAULT_EDITORS = "owner,reporter,approvers"


@dataclass(frozen=True)
class CaseEditors:
    """The CASE_EDITORS rule: who may make a guarded change to a case."""

    roles: frozenset[Editor] = frozenset({Editor.OWNER, Editor.REPORTER, Editor.APPROVERS})

    @classmethod
    def parse(cls, text: str) -> CaseEditors:
        """`owner,reporter,approvers` (any of them, in any order) or `anyone`; anything else is a ValueError."""
        names = [n.strip().lower() for n in text.split(",") if n.strip()]
        if not names:
            raise ValueError("is empty: name who may change a case, e.g. owner,reporter,approvers or anyone")
        roles: set[Editor] = set()
        for name in names:
            try:
                roles.add(Editor(name))
            except ValueError:
                known = ", ".join(e.value for e in Editor)
                raise ValueError(f"has {name!r}, which is not one of {known}") from None
        if Editor.ANYONE in roles and len(roles) > 1:
            raise ValueError("names anyone together with others: anyone already includes everybody")
        return cls(frozenset(roles))

    @property
    def anyone(self) -> bool:
        return Editor.ANYONE in self.roles

    def may(self, case: Case, user_id: str, *, is_approver: bool) -> bool:
        return (
            self.anyone
            or (Editor.OWNER in self.roles and user_id == case.owner_user_id)
            or (Editor.REPORTER in self.roles and user_id == case.reporter_user_id)
            or (Editor.APPROVERS in self.roles and is_approver)
        )

    def who(self, case: Case) -> str:
        """Who may, in words: "the case owner <@U1>, the reporter <@U2> or an approver"."""
        people: list[str] = []
        if Editor.OWNER in self.roles:
            people.append(f"the case owner <@{case.owner_user_id}>")
        if Editor.REPORTER in self.roles:
            same = Editor.OWNER in self.roles and case.reporter_user_id == case.owner_user_id
            people.append("the reporter" if same else f"the reporter <@{case.reporter_user_id}>")
        if Editor.APPROVERS in self.roles:
            people.append("an approver")
        if len(people) == 1:
            return people[0]
        return ", ".join(people[:-1]) + " or " + people[-1]

    def refusal(self, case: Case, change: CaseChange) -> str:
        return f"Only {self.who(case)} can {change.value} {case.reference}. Nothing changed."


class CaseAudit(Protocol):
    """Where refusals are written: a line in the case's audit trail (its events)."""

    async def audit(
        self, case_id: int, kind: str, actor_user_id: str | None, at: datetime, **data: Any
    ) -> None: ...


ApproverCheck = Callable[[str], Awaitable[bool]]


class CaseGuard:
    """Applies the rules to a person and a case: a refusal is audited, then raised as `NotAllowed`.

    Who is an approver is asked at each check (`is_approver`: the approver group may change)."""

    def __init__(
        self, editors: CaseEditors, audit: CaseAudit, clock: Clock, is_approver: ApproverCheck
    ) -> None:
        self.editors = editors
        self._audit = audit
        self._clock = clock
        self._is_approver = is_approver

    async def is_approver(self, user_id: str) -> bool:
        return await self._is_approver(user_id)

    async def may(self, case: Case, user_id: str) -> bool:
        if self.editors.anyone:
            return True
        return self.editors.may(case, user_id, is_approver=await self.is_approver(user_id))

    async def check(self, case: Case, change: CaseChange, actor_user_id: str) -> None:
        """May `actor_user_id` make `change` to `case`? If not: audited, and refused in words that say who may."""
        if await self.may(case, actor_user_id):
            return
        await self._audit.audit(
            case.id, "case_change_refused", actor_user_id, self._clock.now(), change=change.name.lower()
        )
        raise NotAllowed(self.editors.refusal(case, change))

    async def check_addressed(
        self, case: Case, addressee: str | None, actor_user_id: str, *, what: str = "reminder"
    ) -> None:
        """A message addressed to one person works for that person and the approvers only."""
        if addressee is None or actor_user_id == addressee or await self.is_approver(actor_user_id):
            return
        await self._audit.audit(
            case.id, "follow_up_refused", actor_user_id, self._clock.now(), addressee=addressee, what=what
        )
        raise NotAllowed(
            f"This {what} on {case.reference} is for <@{addressee}>: only they or an approver can act on it. "
            "Nothing changed."
        )
