"""What people do with a case's follow-ups: Done, Snooze, Reassign, the customer's answer, promises."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from bot.cases import Case
from bot.clock import Clock
from bot.errors import InvalidInput, MendError
from bot.followup_request import FollowUpRequest
from bot.followups.calendar import SnoozeChoice, local_to_utc, snooze_until
from bot.followups.case_kinds import NudgeAction, case_kind
from bot.followups.case_rules import addressee
from bot.followups.models import FollowUp, FollowUpKind, FollowUpState, NewPromise, Promise, ResurveyOutcome
from bot.followups.policy import FollowUpPolicy
from bot.followups.ports import CaseLoader, FollowUpRepository, PeopleDirectory, RecoveryActions
from bot.permissions import CaseChange


class StaleFollowUp(MendError):
    def __init__(self) -> None:
        super().__init__("That reminder was already handled, so nothing changed.")


class CaseFollowUpActions:
    """What acting on a sent nudge changes (conditionally on its round, so a stale or double click changes
    nothing), and the follow-ups an agent asks for on a case: promises and "follow up with them at ..."."""

    def __init__(
        self,
        repo: FollowUpRepository,
        people: PeopleDirectory,
        clock: Clock,
        policy: FollowUpPolicy,
        *,
        cases: CaseLoader | None = None,
        recovery: RecoveryActions | None = None,
    ) -> None:
        self._repo = repo
        self._people = people
        self._clock = clock
        self.policy = policy
        self._cases = cases
        self._recovery = recovery

    # ---- what people do with a nudge ------------------------------------------------------------

    async def get(self, follow_up_id: int) -> FollowUp:
        item = await self._repo.get(follow_up_id)
        if item is None:
            raise MendError("I can't find that reminder any more.")
        return item

    async def acted_on(
        self,
        follow_up_id: int,
        round_: int,
        action: NudgeAction,
        *,
        actor_user_id: str,
        team_id: str,
        change: CaseChange | None = None,
    ) -> FollowUp:
        """The follow-up a button is about, if it still waits for someone of `team_id` to act on it, its kind
        offers `action` (a button it never showed, forged or from an older version, changes nothing), and
        `actor_user_id` is the person it is addressed to or an approver (and may make `change` to the case)."""
        item = await self.get(follow_up_id)
        case = None
        if item.case_id is not None and self._cases is not None:
            loaded = await self._cases.load(item.case_id)
            if loaded is None or loaded[0].team_id != team_id:
                raise MendError("That reminder belongs to another workspace.")
            case = loaded[0]
        if item.state is not FollowUpState.SENT or item.round != round_:
            raise StaleFollowUp()
        rules = case_kind(item.kind)
        if rules is None or action not in rules.accepts:
            raise MendError("That reminder has no such button, so nothing changed.")
        change = change or rules.guarded_by
        if case is not None and self._recovery is not None:  # the person it is for, or an approver
            await self._recovery.check_addressed(case, addressee(item, case), actor_user_id)
            if change is not None:
                await self._recovery.check(case, change, actor_user_id)
        return item

    async def done(self, follow_up_id: int, round_: int, *, actor_user_id: str, team_id: str) -> FollowUp:
        """Done on a nudge: what it asked for happened; what that means is the kind's own rule."""
        item = await self.acted_on(
            follow_up_id, round_, NudgeAction.DONE, actor_user_id=actor_user_id, team_id=team_id
        )
        rules = case_kind(item.kind)
        assert rules is not None  # acted_on refuses kinds without rules
        resolution = await rules.done(self, item, actor_user_id, team_id)
        return await self.resolve(item.id, item.round, resolution, actor_user_id=actor_user_id)

    async def complete_apology(self, case_id: int, *, actor_user_id: str, team_id: str) -> None:
        if self._recovery is not None:
            await self._recovery.complete_apology(case_id, actor_user_id=actor_user_id, team_id=team_id)

    async def customer_answer(
        self, follow_up_id: int, round_: int, *, satisfied: bool, actor_user_id: str, team_id: str
    ) -> FollowUp:
        """Is the customer satisfied? Not yet reopens the fix step, so the case cannot close on it."""
        item = await self.acted_on(
            follow_up_id, round_, NudgeAction.ANSWER, actor_user_id=actor_user_id, team_id=team_id
        )
        if not satisfied and item.case_id is not None and self._recovery is not None:
            await self._recovery.reopen_fix(
                item.case_id,
                actor_user_id=actor_user_id,
                team_id=team_id,
                reason="customer not satisfied yet",
            )
        return await self.resolve(
            item.id, item.round, "satisfied" if satisfied else "not_yet", actor_user_id=actor_user_id
        )

    async def record_resurvey(
        self,
        follow_up_id: int,
        round_: int,
        *,
        outcome: str | None,
        score: str | None,
        actor_user_id: str,
        team_id: str,
    ) -> FollowUp:
        """The outcome weeks later: stayed and satisfied / neutral / left, and an optional 1-5 score."""
        try:
            chosen = ResurveyOutcome(outcome or "")
        except ValueError:
            raise InvalidInput("outcome", "Choose what became of the customer.") from None
        parsed = parse_score(score)
        item = await self.acted_on(
            follow_up_id, round_, NudgeAction.RECORD_OUTCOME, actor_user_id=actor_user_id, team_id=team_id
        )
        return await self.resolve(
            item.id,
            item.round,
            "recorded",
            actor_user_id=actor_user_id,
            data={"outcome": chosen.value, "score": parsed},
        )

    async def resolve(
        self,
        follow_up_id: int,
        round_: int,
        resolution: str,
        *,
        actor_user_id: str,
        data: dict[str, Any] | None = None,
    ) -> FollowUp:
        done = await self._repo.resolve(
            follow_up_id,
            round_,
            resolution=resolution,
            actor_user_id=actor_user_id,
            now=self._clock.now(),
            data=data,
        )
        if done is None:
            raise StaleFollowUp()
        return done

    async def snooze(
        self,
        follow_up_id: int,
        round_: int,
        choice: SnoozeChoice,
        *,
        actor_user_id: str,
        team_id: str,
        day: date | None = None,
        at: time | None = None,
    ) -> FollowUp:
        await self.acted_on(follow_up_id, round_, NudgeAction.SNOOZE, actor_user_id=actor_user_id, team_id=team_id)
        now = self._clock.now()
        if choice is SnoozeChoice.PICK:
            until, exact = await self._deadline(actor_user_id, day, at), True
        else:
            until = snooze_until(choice, now, self.policy.hours, await self._people.timezone(actor_user_id))
            exact = False
        item = await self._repo.rearm(
            follow_up_id,
            round_,
            due_at=until,
            exact=exact,
            recipient_user_id=None,
            actor_user_id=actor_user_id,
            now=now,
            event_kind="follow_up_snoozed",
            event_data={"until": until.isoformat(), "choice": choice.value},
        )
        if item is None:
            raise StaleFollowUp()
        return item

    async def reassign(
        self, follow_up_id: int, round_: int, *, to_user_id: str | None, actor_user_id: str, team_id: str
    ) -> FollowUp:
        if not to_user_id:
            raise InvalidInput("assignee", "Choose who should take this on.")
        await self.acted_on(
            follow_up_id,
            round_,
            NudgeAction.REASSIGN,
            actor_user_id=actor_user_id,
            team_id=team_id,
            change=CaseChange.REASSIGN,
        )
        now = self._clock.now()
        item = await self._repo.rearm(
            follow_up_id,
            round_,
            due_at=now,
            exact=False,
            recipient_user_id=to_user_id,
            actor_user_id=actor_user_id,
            now=now,
            event_kind="follow_up_reassigned",
            event_data={"to": to_user_id},
        )
        if item is None:
            raise StaleFollowUp()
        return item

    # ---- promises and the agent's own follow-ups ------------------------------------------------

    async def record_promise(
        self,
        case: Case,
        *,
        actor_user_id: str,
        text: str | None,
        day: date | None,
        at: time | None,
        view_key: str | None,
    ) -> Promise:
        """A promise made to the customer, its deadline read in the agent's own time zone."""
        text = (text or "").strip()
        if not text:
            raise InvalidInput("text", "Say what you promised the customer.")
        if len(text) > 500:
            raise InvalidInput("text", "Please keep the promise under 500 characters.")
        if not case.is_open:
            raise MendError(f"Case {case.reference} is closed, so nothing was recorded.")
        deadline = await self._deadline(actor_user_id, day, at)
        now = self._clock.now()
        tz = await self._people.timezone(case.owner_user_id)
        return await self._repo.add_promise(
            NewPromise(
                case_id=case.id,
                text=text,
                due_at=deadline,
                created_by=actor_user_id,
                at=now,
                view_key=view_key,
                remind_at=self.policy.promise_reminder_at(deadline, now, tz),
            )
        )

    async def schedule_follow_up(
        self,
        case: Case,
        *,
        actor_user_id: str,
        day: date | None,
        at: time | None,
        note: str | None,
        view_key: str | None,
    ) -> datetime:
        note = (note or "").strip() or None
        if note and len(note) > 500:
            raise InvalidInput("note", "Please keep the note under 500 characters.")
        if not case.is_open:
            raise MendError(f"Case {case.reference} is closed, so nothing was scheduled.")
        when = await self._deadline(actor_user_id, day, at)
        key = f"{FollowUpKind.SCHEDULED_FOLLOW_UP.value}:{view_key or int(when.timestamp())}"
        await self._repo.stage(
            [
                FollowUpRequest(
                    kind=FollowUpKind.SCHEDULED_FOLLOW_UP,
                    key=key,
                    due_at=when,
                    payload={"note": note, "by": actor_user_id},
                    recipient_user_id=actor_user_id,
                    exact=True,  # the agent chose the moment
                ),
                FollowUpRequest(  # its confirmation in the case thread, posted once at once
                    kind=FollowUpKind.FOLLOW_UP_PLANNED,
                    key=f"{FollowUpKind.FOLLOW_UP_PLANNED.value}:{key}",
                    due_at=self._clock.now(),
                    payload={"note": note, "by": actor_user_id, "at": when.isoformat()},
                    exact=True,
                ),
            ],
            case.id,
            self._clock.now(),
        )
        return when

    async def _deadline(self, actor_user_id: str, day: date | None, at: time | None) -> datetime:
        if day is None:
            raise InvalidInput("date", "Pick the date.")
        if at is None:
            raise InvalidInput("time", "Pick the time.")
        when = local_to_utc(day, at, await self._people.timezone(actor_user_id))
        if when <= self._clock.now():
            raise InvalidInput("date", "That moment has passed: pick a time in the future.")
        return when

    async def keep_promise(self, promise_id: int, *, actor_user_id: str) -> bool:
        return await self._repo.keep_promise(promise_id, actor_user_id, self._clock.now())

    async def kept_elsewhere(self, kept: FollowUp, *, actor_user_id: str) -> list[FollowUp]:
        """A promise was kept through one of its messages: its other messages still waiting for a click
        (the confirmation, the reminder, the deadline flag) are resolved as kept too, to be redrawn."""
        promise_id = kept.payload.get("promise_id")
        if kept.case_id is None or promise_id is None:
            return []
        settled = []
        for other in await self._repo.for_case(kept.case_id):
            if (
                other.id != kept.id
                and other.payload.get("promise_id") == promise_id
                and other.state is FollowUpState.SENT
            ):
                try:
                    settled.append(await self.resolve(other.id, other.round, "kept", actor_user_id=actor_user_id))
                except StaleFollowUp:  # someone acted on that one meanwhile; it is redrawn by that click
                    continue
        return settled

    async def break_promise(self, promise_id: int) -> bool:
        return await self._repo.break_promise(promise_id, self._clock.now())

    async def promise(self, promise_id: int) -> Promise | None:
        return await self._repo.promise(promise_id)


def parse_score(raw: str | None) -> int | None:
    if raw is None or not str(raw).strip():
        return None
    try:
        score = int(str(raw).strip())
    except ValueError:
        raise InvalidInput("score", "The score is a number from 1 to 5.") from None
    if not 1 <= score <= 5:
        raise InvalidInput("score", "The score is a number from 1 to 5.")
    return score
