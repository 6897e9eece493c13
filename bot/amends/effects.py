"""What an amends change leaves to do later, as follow-up rows: the kinds, the rows each change stages, and
whether each row is still due (`AmendsEffects`). The follow-up engine delivers them; handlers/ renders them.

Every Slack-side effect of an offer or a decision (each approver's copy posted or redrawn, the notices in
the case thread, the requester's DM, the reminders and the backups) is a row staged in the same
transaction as the change, so neither a Slack failure nor a crash after the commit can lose it. The row
says which effect; `check` looks at what the database says NOW, so a late or repeated row does only what
is still missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.amends.models import Amends, AmendsState, ApprovalCopy, Approvers
from bot.amends.ports import AmendsRepository
from bot.cases import Case, MessageRef
from bot.clock import Clock
from bot.followup_request import FollowUpRequest
from bot.followups.models import Cancel, Defer, Deliver, FollowUp, Verdict


class AmendsEffect(StrEnum):
    NOTICE = "amends_notice"  # "awaiting approval" in the case thread
    COPY = "amends_copy"  # post one approver's copy, or redraw it to show the newest version
    OUTCOME = "amends_outcome"  # the decision in the case thread
    TELL_REQUESTER = "amends_tell_requester"  # the requester's DM about the decision
    REMIND = "amends_remind"  # undecided after APPROVAL_ESCALATE_AFTER: stage a reminder per copy
    COPY_REMINDER = "amends_copy_reminder"  # one reminder, in the thread of one copy
    BACKUPS = "amends_backups"  # still undecided: add copies for the backup approvers

    @property
    def is_step(self) -> bool:
        """Changes only the database (stages more rows); nothing of its own appears in Slack."""
        return self in {AmendsEffect.REMIND, AmendsEffect.BACKUPS}


#: A row waiting for something another row must do first (the case thread, a copy's first post) gives up
#: after this long, so a thread never created or a copy refused for good leaves nothing waiting for ever.
WAIT = timedelta(minutes=2)
GIVE_UP_AFTER = timedelta(days=2)


#: How many of the customer's other amends an approval request lists.
OTHERS_SHOWN = 5


@dataclass(frozen=True)
class OtherAmends:
    """Another amends request for the same customer, and where its case's thread is."""

    amends: Amends
    case_reference: str
    card: MessageRef | None


def key_prefix(amends_id: int) -> str:
    """Every row of one request has a key starting with this (see `FollowUpEngine.deliver_now`)."""
    return f"amends:{amends_id}:"


def _request(
    kind: AmendsEffect, amends_id: int, suffix: str, at: datetime, **payload: Any
) -> FollowUpRequest:
    return FollowUpRequest(
        kind=kind.value,
        key=f"{key_prefix(amends_id)}{suffix}",
        due_at=at,
        payload={"amends_id": amends_id, **payload},
    )


def copy_requests(
    amends_id: int, copy_ids: Sequence[int], version: int, at: datetime, *, post: bool
) -> list[FollowUpRequest]:
    """Make each copy show `version`: post it (a new copy), or redraw it (a decision)."""
    return [
        _request(
            AmendsEffect.COPY, amends_id, f"copy:{c}:v{version}", at, copy_id=c, version=version, post=post
        )
        for c in copy_ids
    ]


def offer_requests(
    amends_id: int,
    state: AmendsState,
    copy_ids: Sequence[int],
    at: datetime,
    remind_at: datetime | None,
    *,
    announced: bool = False,
) -> list[FollowUpRequest]:
    """What a new request stages: granted at once, its outcome (none when `announced`: the amends step it
    finished is redrawn in the thread saying so); pending, the notice, the copies, the reminder."""
    if state.given:
        return [] if announced else [_request(AmendsEffect.OUTCOME, amends_id, "outcome", at)]
    requests = [
        _request(AmendsEffect.NOTICE, amends_id, "notice", at),
        *copy_requests(amends_id, copy_ids, 1, at, post=True),
    ]
    if remind_at is not None:
        requests.append(_request(AmendsEffect.REMIND, amends_id, "remind", remind_at))
    return requests


def decision_requests(
    amends_id: int, copy_ids: Sequence[int], version: int, at: datetime
) -> list[FollowUpRequest]:
    """What a decision stages, in the order people should see it: the copies, the thread, the requester."""
    return [
        *copy_requests(amends_id, copy_ids, version, at, post=False),
        _request(AmendsEffect.OUTCOME, amends_id, "outcome", at),
        _request(AmendsEffect.TELL_REQUESTER, amends_id, "requester", at),
    ]


def reminder_requests(
    amends_id: int, copy_ids: Sequence[int], at: datetime, backups_at: datetime | None
) -> list[FollowUpRequest]:
    """The reminder step: one reminder per approver's copy, and the backups after another wait."""
    requests = [
        _request(AmendsEffect.COPY_REMINDER, amends_id, f"reminder:{c}", at, copy_id=c) for c in copy_ids
    ]
    if backups_at is not None:
        requests.append(_request(AmendsEffect.BACKUPS, amends_id, "backups", backups_at))
    return requests


class AmendsEffects:
    """When each amends row is still due, where it goes, and what its delivery records."""

    def __init__(self, repo: AmendsRepository, clock: Clock, approvers: Approvers) -> None:
        self._repo = repo
        self._clock = clock
        self.approvers = approvers

    # ---- still due? -----------------------------------------------------------------------------

    async def check(self, item: FollowUp) -> Verdict:
        try:
            kind = AmendsEffect(item.kind)
        except ValueError:
            return Cancel(f"not an amends kind: {item.kind}")
        amends_id = item.payload.get("amends_id")
        amends = await self._repo.get(amends_id) if isinstance(amends_id, int) else None
        loaded = await self._repo.load_case(amends.case_id) if amends else None
        if amends is None or loaded is None:
            return Cancel("the amends request is gone")
        case = loaded[0]
        context: dict[str, Any] = {"amends": amends, "case": case}
        if kind in {AmendsEffect.COPY, AmendsEffect.COPY_REMINDER}:
            copy = next(
                (c for c in await self._repo.copies(amends.id) if c.id == item.payload.get("copy_id")), None
            )
            if copy is None:
                return Cancel("that copy of the request is gone")
            context["copy"] = copy
            if kind is AmendsEffect.COPY:
                context["others"] = await self.others_for_customer(amends)
                return self._check_copy(item, amends, copy, context)
            return self._check_reminder(item, amends, case, copy, context)
        if kind is AmendsEffect.NOTICE:
            if amends.state is not AmendsState.PENDING:
                return Cancel("decided before the notice went out; the outcome says it")
            if amends.request_notice is not None:
                return Cancel("posted already")
            return self._in_thread(item, case, context)
        if kind is AmendsEffect.OUTCOME:
            if amends.state is AmendsState.PENDING:
                return Cancel("not decided")
            if amends.outcome_notice is not None:
                return Cancel("posted already")
            return self._in_thread(item, case, context)
        if kind is AmendsEffect.TELL_REQUESTER:
            if amends.state in {AmendsState.PENDING, AmendsState.GRANTED}:
                return Cancel("nothing to tell: undecided, or granted by the requester")
            if amends.requester_told:
                return Cancel("told already")
            return Deliver(channel_id=amends.requester_user_id, context=context)
        # The steps: nobody needs chasing once it is decided or its case closed.
        if amends.state is not AmendsState.PENDING or not case.is_open:
            return Cancel("decided meanwhile, or the case closed")
        if kind is AmendsEffect.BACKUPS and not self._backups(amends):
            return Cancel("no backup approvers besides the requester")
        return Deliver(channel_id=f"amends:{amends.id}", context=context)

    async def others_for_customer(self, amends: Amends) -> list[OtherAmends]:
        """The customer's other amends that count (pending or given), newest first, for the approver to see."""
        others: list[OtherAmends] = []
        for entry in await self._repo.ledger(amends.team_id, amends.customer_key):
            other = entry.amends
            if other.id == amends.id or not (other.state is AmendsState.PENDING or other.state.given):
                continue
            loaded = await self._repo.load_case(other.case_id)
            others.append(OtherAmends(other, entry.case_reference, loaded[0].card if loaded else None))
            if len(others) == OTHERS_SHOWN:
                break
        return others

    def _check_copy(
        self, item: FollowUp, amends: Amends, copy: ApprovalCopy, context: dict[str, Any]
    ) -> Verdict:
        version = int(item.payload.get("version") or 1)
        if copy.rendered_version >= max(version, 1) and copy.ref is not None:
            return Cancel("the copy shows this already")
        if copy.ref is None:
            if not item.payload.get("post"):
                # Its first post is another row's job (still retrying, perhaps): redraw once it is there.
                return self._wait(item, "the copy is not posted yet")
            # A copy never posted is posted as the request stands now (decided, if it was meanwhile).
            return Deliver(channel_id=copy.recipient, context={**context, "redraw": False})
        return Deliver(channel_id=copy.ref.channel_id, context={**context, "redraw": True})

    def _check_reminder(
        self, item: FollowUp, amends: Amends, case: Case, copy: ApprovalCopy, context: dict[str, Any]
    ) -> Verdict:
        if amends.state is not AmendsState.PENDING or not case.is_open:
            return Cancel("decided meanwhile, or the case closed")
        if copy.ref is None:
            return self._wait(item, "the copy is not posted yet")
        return Deliver(channel_id=copy.ref.channel_id, thread_ts=copy.ref.ts, context=context)

    def _in_thread(self, item: FollowUp, case: Case, context: dict[str, Any]) -> Verdict:
        if case.card is None:
            return self._wait(item, "the case thread does not exist yet")
        return Deliver(channel_id=case.card.channel_id, thread_ts=case.card.ts, context=context)

    def _wait(self, item: FollowUp, reason: str) -> Verdict:
        now = self._clock.now()
        if now - item.created_at > GIVE_UP_AFTER:
            return Cancel(f"gave up: {reason}")
        return Defer(until=now + WAIT, reason=reason)

    def _backups(self, amends: Amends) -> list[str]:
        return [b for b in self.approvers.backup_ids if b != amends.requester_user_id]

    # ---- delivered ------------------------------------------------------------------------------

    async def delivered(
        self, item: FollowUp, deliver: Deliver, ref: MessageRef, *, found: bool = False
    ) -> None:
        """Record what Slack now shows, so the next sync or row does not do it again.

        `found`: an earlier attempt's message, found by its metadata; which version it shows is unknown, so
        it is recorded as the first, and a decision's redraw row brings it up to date."""
        kind = AmendsEffect(item.kind)
        amends: Amends = deliver.context["amends"]
        if kind is AmendsEffect.COPY:
            copy: ApprovalCopy = deliver.context["copy"]
            if deliver.context.get("redraw"):
                await self._repo.record_render(copy.id, amends.version)
            else:
                await self._repo.record_copy(copy.id, ref, 1 if found else amends.version)
        elif kind is AmendsEffect.NOTICE:
            await self._repo.record_notice(amends.id, "request", ref)
        elif kind is AmendsEffect.OUTCOME:
            await self._repo.record_notice(amends.id, "outcome", ref)
        elif kind is AmendsEffect.TELL_REQUESTER:
            await self._repo.record_notice(amends.id, "requester", None)

    async def run_step(self, item: FollowUp, deliver: Deliver) -> None:
        """The steps that only stage more rows; both are safe to run twice (dedupe keys, levels)."""
        amends: Amends = deliver.context["amends"]
        now = self._clock.now()
        if AmendsEffect(item.kind) is AmendsEffect.REMIND:
            backups_at = now + self.approvers.escalate_after if self._backups(amends) else None
            await self._repo.remind(amends.id, now, backups_at)
        else:
            await self._repo.add_copies(amends.id, self._backups(amends), backup=True, level=2, at=now)
