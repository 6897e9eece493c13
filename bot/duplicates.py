"""Closing a case as a duplicate of another open case about the same failure: no required steps asked,
since the recovery goes on in the other case; both audit trails say so."""

from __future__ import annotations

from bot.cases import Case, CaseService, format_reference, parse_reference
from bot.errors import InvalidInput
from bot.permissions import CaseChange
from bot.recovery import CaseClosed, RecoveryService

#: The form field the other case's reference is typed into.
OTHER = "other"
CLOSED_AS_DUPLICATE = "closed_as_duplicate"
DUPLICATE_CLOSED = "duplicate_closed"


class DuplicateService:
    def __init__(self, cases: CaseService, recovery: RecoveryService) -> None:
        self._cases = cases
        self._recovery = recovery

    async def may_close(self, case_id: int, *, actor_user_id: str, team_id: str) -> Case:
        """The case, if it is open and this person may close it (CASE_EDITORS); asked before the form opens."""
        case, _ = await self._recovery.load(case_id, team_id)
        if not case.is_open:
            raise CaseClosed(case)
        await self._recovery.check(case, CaseChange.CLOSE, actor_user_id)
        return case

    async def sync(self, case_id: int) -> None:
        """Show the closed case as closed: its closing summary, its card (RecoveryService.sync)."""
        await self._recovery.sync(case_id)

    async def other_case(self, case_id: int, typed: str | None, *, team_id: str) -> Case:
        """The open case `typed` names, checked: a reference, of this workspace, open, not the case itself."""
        other_id = parse_reference(typed or "")
        if other_id is None:
            raise InvalidInput(OTHER, "Give the reference of the open case it duplicates, like R-0001.")
        if other_id == case_id:
            raise InvalidInput(OTHER, "That is this case. Give the reference of the other open case.")
        other = await self._cases.get(other_id, team_id)
        if other is None:
            raise InvalidInput(OTHER, f"There is no case {format_reference(other_id)} in this workspace.")
        if not other.is_open:
            raise InvalidInput(
                OTHER, f"{other.reference} is closed. A duplicate is closed in favour of an open case."
            )
        return other

    async def close(
        self, case_id: int, typed: str | None, *, actor_user_id: str, team_id: str
    ) -> tuple[Case, Case]:
        """Close `case_id` as a duplicate of the open case `typed` names; returns (closed, kept)."""
        other = await self.other_case(case_id, typed, team_id=team_id)
        case = await self._recovery.close_as_duplicate(case_id, actor_user_id=actor_user_id, team_id=team_id)
        # After the close, so a refused close leaves no trace; each is written once (keyed).
        await self._cases.record(
            case.id, CLOSED_AS_DUPLICATE, actor_user_id, {"key": "duplicate", "of": other.id}
        )
        await self._cases.record(
            other.id, DUPLICATE_CLOSED, actor_user_id, {"key": str(case.id), "duplicate": case.id}
        )
        return case, other
