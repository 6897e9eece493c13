"""Follow-up rules on a frozen clock: durations, working hours across zones and DST, snooze, what gets
scheduled, cancellation, and FollowUpService's exactly-once delivery on in-memory fakes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from bot.cases import MessageRef
from bot.clock import FrozenClock, parse_duration
from bot.followups import (
    ALWAYS,
    Cancel,
    Deliver,
    FollowUp,
    FollowUpKind,
    FollowUpPolicy,
    FollowUpRequest,
    FollowUpService,
    FollowUpState,
    NotPosted,
    OutcomeUnknown,
    OutgoingMessage,
    SnoozeChoice,
    Verdict,
    WorkingHours,
    cancel_reason,
    format_duration,
    kind_table,
    local_to_utc,
    snooze_until,
)
from bot.playbook import DEFAULT_STEPS, CaseStep, Step, StepRole, StepStatus

LONDON, NEW_YORK, TOKYO = "Europe/London", "America/New_York", "Asia/Tokyo"
HOURS = WorkingHours.parse("09:00-18:00 Mon-Fri")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ---- durations and settings syntax ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("15m", 900),
        ("2h", 7200),
        ("1d", 86400),
        ("1h30m", 5400),
        ("0.5s", 0.5),
        (" 14d ", 14 * 86400),
    ],
)
def test_durations_in_human_syntax(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "15", "m15", "15 minutes", "0s", "-5m", "1x", "1h 30"])
def test_bad_durations_say_what_works(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|longer than zero"):
        parse_duration(text)


def test_durations_read_back() -> None:
    assert [format_duration(parse_duration(t)) for t in ("15m", "2h", "1d", "90s")] == [
        "15m",
        "2h",
        "1d",
        "90s",
    ]


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("09:00-18:00 Mon-Fri", {0, 1, 2, 3, 4}),
        ("08:30-17:00 Sun-Thu", {6, 0, 1, 2, 3}),
        ("10:00-16:00 Mon,Wed,Fri", {0, 2, 4}),
        ("09:00-18:00", {0, 1, 2, 3, 4}),
    ],
)
def test_working_hours_syntax(text: str, days: set[int]) -> None:
    assert WorkingHours.parse(text).days == frozenset(days)


@pytest.mark.parametrize("text", ["9-5", "18:00-09:00 Mon-Fri", "09:00-25:00", "09:00-18:00 Funday"])
def test_bad_working_hours_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        WorkingHours.parse(text)


def test_always_switches_working_hours_off() -> None:
    assert WorkingHours.parse("always").always
    at = utc(2026, 11, 28, 3, 0)  # a Saturday night
    assert ALWAYS.next_open(at, NEW_YORK) == at


# ---- working hours across time zones and DST -----------------------------------------------------


@pytest.mark.parametrize(
    ("at", "tz", "expected"),
    [
        (utc(2026, 11, 24, 10, 0), LONDON, utc(2026, 11, 24, 10, 0)),  # Tuesday 10:00 in London: now
        (utc(2026, 11, 24, 10, 0), NEW_YORK, utc(2026, 11, 24, 14, 0)),  # 05:00 in New York: 09:00 EST
        (utc(2026, 11, 24, 10, 0), TOKYO, utc(2026, 11, 25, 0, 0)),  # 19:00 in Tokyo: tomorrow 09:00 JST
        (utc(2026, 11, 27, 18, 30), LONDON, utc(2026, 11, 30, 9, 0)),  # Friday evening: Monday morning
        (utc(2026, 11, 28, 23, 0), TOKYO, utc(2026, 11, 30, 0, 0)),  # Sunday 08:00 in Tokyo: Monday 09:00
    ],
)
def test_next_working_moment_in_the_persons_zone(at: datetime, tz: str, expected: datetime) -> None:
    assert HOURS.next_open(at, tz) == expected


def test_working_hours_follow_daylight_saving() -> None:
    # New York springs forward on Sunday 8 March 2026: Monday 09:00 is 13:00 UTC, not 14:00 as the week before.
    assert HOURS.next_open(utc(2026, 3, 6, 23, 0), NEW_YORK) == utc(2026, 3, 9, 13, 0)
    assert HOURS.next_open(utc(2026, 2, 27, 23, 0), NEW_YORK) == utc(2026, 3, 2, 14, 0)
    # London springs forward on 29 March: Monday 09:00 BST is 08:00 UTC.
    assert HOURS.next_open(utc(2026, 3, 28, 12, 0), LONDON) == utc(2026, 3, 30, 8, 0)
    # Between the two changes New York is 4 hours behind London instead of 5.
    assert HOURS.next_open(utc(2026, 3, 10, 12, 0), NEW_YORK) == utc(2026, 3, 10, 13, 0)


def test_local_times_that_do_not_exist_or_happen_twice() -> None:
    # 02:30 on 8 March 2026 does not exist in New York: it is read as 03:30 EDT.
    assert local_to_utc(date(2026, 3, 8), time(2, 30), NEW_YORK) == utc(2026, 3, 8, 7, 30)
    # 01:30 on 1 November 2026 happens twice: the first (EDT) is meant.
    assert local_to_utc(date(2026, 11, 1), time(1, 30), NEW_YORK) == utc(2026, 11, 1, 5, 30)
    # An unknown zone is UTC rather than an error.
    assert local_to_utc(date(2026, 11, 1), time(9, 0), "Mars/Olympus") == utc(2026, 11, 1, 9, 0)


def test_last_working_moment_before() -> None:
    monday_0830_london = utc(2026, 11, 30, 8, 30)
    assert HOURS.last_open_before(monday_0830_london, LONDON) == utc(2026, 11, 27, 17, 59)
    assert HOURS.last_open_before(utc(2026, 11, 24, 12, 0), LONDON) == utc(2026, 11, 24, 12, 0)


# ---- snooze ---------------------------------------------------------------------------------------


def test_snooze_choices() -> None:
    friday_1600_london = utc(2026, 11, 27, 16, 0)
    assert snooze_until(SnoozeChoice.HOUR, friday_1600_london, HOURS, LONDON) == utc(2026, 11, 27, 17, 0)
    # Tomorrow morning from a Friday is the next working morning: Monday.
    assert snooze_until(SnoozeChoice.TOMORROW, friday_1600_london, HOURS, LONDON) == utc(2026, 11, 30, 9, 0)
    # ... in the snoozer's own zone: for New York, Saturday 09:00 would be off, so Monday 09:00 EST.
    assert snooze_until(SnoozeChoice.TOMORROW, friday_1600_london, HOURS, NEW_YORK) == utc(
        2026, 11, 30, 14, 0
    )
    assert snooze_until(SnoozeChoice.TOMORROW, friday_1600_london, ALWAYS, LONDON) == utc(2026, 11, 28, 9, 0)
    with pytest.raises(ValueError):
        snooze_until(SnoozeChoice.PICK, friday_1600_london, HOURS, LONDON)


# ---- what gets scheduled --------------------------------------------------------------------------

POLICY = FollowUpPolicy(
    ack_nudge_after=timedelta(minutes=15),
    follow_up_after=timedelta(days=1),
    resurvey_after=timedelta(days=14),
    promise_reminder_lead=timedelta(hours=1),
    hours=HOURS,
    approver_ids=("UAPPROVER1", "UAPPROVER2"),
)


def test_a_new_case_schedules_the_nudge_and_one_escalation_per_approver() -> None:
    at = utc(2026, 11, 24, 10, 0)
    nudge, *escalations = POLICY.on_new_case(at)
    assert (nudge.kind, nudge.key, nudge.due_at) == ("ack_nudge", "ack_nudge", at + timedelta(minutes=15))
    assert [(e.key, e.recipient_user_id, e.due_at) for e in escalations] == [
        ("ack_escalation:UAPPROVER1", "UAPPROVER1", at + timedelta(minutes=30)),
        ("ack_escalation:UAPPROVER2", "UAPPROVER2", at + timedelta(minutes=30)),
    ]


def test_finishing_the_fix_step_schedules_the_customer_follow_up_even_renamed() -> None:
    at = utc(2026, 11, 24, 10, 0)
    renamed = Step(key="repair", title="Repair it", what="Do it", action=StepRole.FIX)
    [request] = POLICY.on_step_finished(renamed, StepStatus.DONE, at)
    assert (request.kind, request.due_at) == ("customer_follow_up", at + timedelta(days=1))
    assert POLICY.on_step_finished(renamed, StepStatus.SKIPPED, at) == ()
    listen = next(s for s in DEFAULT_STEPS if s.key == "listen")
    assert POLICY.on_step_finished(listen, StepStatus.DONE, at) == ()
    # Cases opened before the FIX role existed carry the plain "fix" step: it still counts.
    legacy = next(s for s in DEFAULT_STEPS if s.key == "fix").model_copy(update={"action": None})
    assert len(POLICY.on_step_finished(legacy, StepStatus.DONE, at)) == 1


def test_closing_schedules_the_resurvey() -> None:
    at = utc(2026, 11, 24, 10, 0)
    [request] = POLICY.on_close(at)
    assert (request.kind, request.due_at) == ("resurvey", at + timedelta(days=14))


def test_promise_reminders_move_earlier_into_working_hours_and_deadlines_never_move() -> None:
    now = utc(2026, 11, 24, 10, 0)
    # Due Thursday 15:00 London: reminded at 14:00.
    assert POLICY.promise_reminder_at(utc(2026, 11, 26, 15, 0), now, LONDON) == utc(2026, 11, 26, 14, 0)
    # Due Monday 09:30: 08:30 is before work, so Friday's last working minute.
    assert POLICY.promise_reminder_at(utc(2026, 11, 30, 9, 30), now, LONDON) == utc(2026, 11, 27, 17, 59)
    # Due in 20 minutes: remind now; due a moment ago: no reminder.
    assert POLICY.promise_reminder_at(now + timedelta(minutes=20), now, LONDON) == now
    assert POLICY.promise_reminder_at(now, now, LONDON) is None


# ---- cancellation ---------------------------------------------------------------------------------


def _case_and_steps(
    *, closed: bool = False, apology: StepStatus = StepStatus.PENDING
) -> tuple[Any, list[CaseStep]]:
    from bot.cases import Case, CaseReport, CaseState, Severity

    now = utc(2026, 11, 24, 10, 0)
    case = Case(
        id=1,
        team_id="T1",
        report=CaseReport(summary="s", severity=Severity.MINOR, category="delivery", customer_name="Dana"),
        state=CaseState.CLOSED if closed else CaseState.OPEN,
        reporter_user_id="U1",
        owner_user_id="U1",
        origin_channel_id="C1",
        card=MessageRef(channel_id="C1", ts="1.0"),
        thread_opened=True,
        created_at=now,
        updated_at=now,
    )
    steps = [CaseStep(case_id=1, position=i, step=s) for i, s in enumerate(DEFAULT_STEPS)]
    steps[0] = steps[0].model_copy(update={"status": apology})
    return case, steps


def test_a_nudge_whose_reason_went_away_is_cancelled() -> None:
    now = utc(2026, 11, 24, 10, 0)
    case, steps = _case_and_steps()
    assert cancel_reason("ack_nudge", case, steps, None, now) is None
    assert cancel_reason("ack_nudge", *_case_and_steps(apology=StepStatus.DONE), None, now) == "apology done"
    assert (
        cancel_reason("ack_escalation", *_case_and_steps(apology=StepStatus.SKIPPED), None, now)
        == "apology skipped"
    )
    assert cancel_reason("ack_nudge", *_case_and_steps(closed=True), None, now) == "case closed"
    assert cancel_reason("customer_follow_up", *_case_and_steps(closed=True), None, now) == "case closed"
    assert cancel_reason("resurvey", *_case_and_steps(closed=True), None, now) is None


# ---- FollowUpService on fakes: exactly once -------------------------------------------------------


class FakeRepo:
    """Just enough of the repository port, with the same lease conditions as the SQL one."""

    def __init__(self) -> None:
        self.rows: dict[int, FollowUp] = {}
        self.leases: dict[int, tuple[str, datetime]] = {}

    def add(self, request: FollowUpRequest, now: datetime) -> FollowUp:
        item = FollowUp(
            id=len(self.rows) + 1,
            kind=request.kind,
            case_id=None,
            dedupe_key=request.key,
            payload=request.payload,
            due_at=request.due_at,
            state=FollowUpState.PENDING,
            created_at=now,
        )
        self.rows[item.id] = item
        return item

    def _set(self, item: FollowUp, **changes: Any) -> None:
        self.rows[item.id] = self.rows[item.id].model_copy(update=changes)

    def _held(self, item: FollowUp) -> bool:
        return self.rows[item.id].lease_token == item.lease_token

    async def claim(self, now: datetime, limit: int, lease_until: datetime, token: str) -> list[FollowUp]:
        due = [
            r
            for r in self.rows.values()
            if r.state in (FollowUpState.PENDING, FollowUpState.UNKNOWN)
            and r.due_at <= now
            and (r.id not in self.leases or self.leases[r.id][1] <= now)
        ][:limit]
        for r in due:
            self.leases[r.id] = (token, lease_until)
            self._set(r, lease_token=token)
        return [self.rows[r.id] for r in due]

    async def renew(self, tokens: Sequence[str], lease_until: datetime) -> int:
        held = [i for i, (token, _) in self.leases.items() if token in tokens]
        for i in held:
            self.leases[i] = (self.leases[i][0], lease_until)
        return len(held)

    async def begin_send(self, item: FollowUp, now: datetime, lease_until: datetime) -> bool:
        if not self._held(item):
            return False
        self._set(item, state=FollowUpState.UNKNOWN, attempted_at=now, attempts=item.attempts + 1)
        self.leases[item.id] = (str(item.lease_token), lease_until)
        return True

    async def mark_sent(self, item: FollowUp, ref: MessageRef, now: datetime) -> bool:
        if not self._held(item):
            return False
        self._set(item, state=FollowUpState.SENT, message=ref, lease_token=None)
        self.leases.pop(item.id, None)
        return True

    async def retry_later(
        self, item: FollowUp, due_at: datetime, error: str, *, state: FollowUpState, now: datetime
    ) -> None:
        if self._held(item):
            self._set(item, state=state, due_at=due_at, outcome=error, lease_token=None)
            self.leases.pop(item.id, None)

    async def postpone(self, item: FollowUp, due_at: datetime, reason: str, now: datetime) -> None:
        await self.retry_later(item, due_at, reason, state=FollowUpState(self.rows[item.id].state), now=now)

    async def release(self, item: FollowUp) -> None:
        if self._held(item):
            self._set(item, lease_token=None)
            self.leases.pop(item.id, None)

    async def cancel(self, item: FollowUp, reason: str, now: datetime) -> bool:
        if not self._held(item):
            return False
        self._set(item, state=FollowUpState.CANCELLED, outcome=reason, lease_token=None)
        return True

    async def get(self, follow_up_id: int) -> FollowUp | None:
        return self.rows.get(follow_up_id)


class FakeMessenger:
    def __init__(self) -> None:
        self.posted: list[str] = []
        self.landed: dict[str, MessageRef] = {}
        self.fail_with: list[Exception] = []
        self.gate = asyncio.Event()
        self.gate.set()

    @asynccontextmanager
    async def turn(self, channel_id: str) -> AsyncIterator[None]:
        await self.gate.wait()
        yield

    async def post(
        self, channel_id: str, thread_ts: str | None, message: OutgoingMessage, key: str
    ) -> MessageRef:
        if self.fail_with:
            exc = self.fail_with.pop(0)
            if isinstance(exc, OutcomeUnknown) and "landed" in str(exc):
                self.landed[key] = MessageRef(channel_id=channel_id, ts=f"9.{len(self.landed)}")
            raise exc
        self.posted.append(key)
        ref = MessageRef(channel_id=channel_id, ts=f"1.{len(self.posted)}")
        self.landed[key] = ref
        return ref

    async def find(
        self, channel_id: str, thread_ts: str | None, key: str, since: datetime
    ) -> MessageRef | None:
        return self.landed.get(key)

    async def update(self, ref: MessageRef, message: OutgoingMessage) -> None:
        pass


class FakePeople:
    async def timezone(self, user_id: str) -> str | None:
        return {"UNY": NEW_YORK}.get(user_id, LONDON)


class Notice:
    def __init__(self, to: str | None = None, cancel: bool = False) -> None:
        self.to = to
        self.cancel = cancel

    async def check(self, item: FollowUp) -> Verdict:
        return Cancel("gone") if self.cancel else Deliver(channel_id="C1", to=self.to)

    def render(self, item: FollowUp, deliver: Deliver) -> OutgoingMessage:
        return OutgoingMessage(text="hello")


def make_service(
    clock: FrozenClock,
    *,
    to: str | None = None,
    hours: WorkingHours = ALWAYS,
    cancel: bool = False,
    on: tuple[FakeRepo, FakeMessenger] | None = None,
) -> tuple[FollowUpService, FakeRepo, FakeMessenger]:
    """A process on a fresh table, or (`on`) another process on the same table and Slack."""
    repo, messenger = on or (FakeRepo(), FakeMessenger())
    service = FollowUpService(
        repo,  # type: ignore[arg-type]
        messenger,
        FakePeople(),
        clock,
        FollowUpPolicy(hours=hours),
        kinds={"notice": Notice(to=to, cancel=cancel)},
        lease=timedelta(seconds=30),
    )
    return service, repo, messenger


async def run_once(service: FollowUpService) -> int:
    items = await service.claim_due()
    await asyncio.gather(*(service.process(i) for i in items), return_exceptions=True)
    return len(items)


def notice(repo: FakeRepo, clock: FrozenClock, due: timedelta = timedelta(0)) -> FollowUp:
    return repo.add(
        FollowUpRequest(kind="notice", key=f"n{len(repo.rows)}", due_at=clock.now() + due), clock.now()
    )


NOW = utc(2026, 11, 24, 10, 0)


async def test_due_rows_are_sent_once() -> None:
    clock = FrozenClock(NOW)
    service, repo, messenger = make_service(clock)
    item = notice(repo, clock)
    notice(repo, clock, timedelta(hours=1))
    assert await run_once(service) == 1
    assert await run_once(service) == 0
    assert messenger.posted == [f"fu:{item.id}:0"] and repo.rows[item.id].state is FollowUpState.SENT


async def test_an_unknown_outcome_is_reconciled_not_resent() -> None:
    clock = FrozenClock(NOW)
    service, repo, messenger = make_service(clock)
    item = notice(repo, clock)
    messenger.fail_with = [OutcomeUnknown("landed, but the connection dropped")]
    await run_once(service)
    assert repo.rows[item.id].state is FollowUpState.UNKNOWN and messenger.posted == []
    clock.advance(timedelta(minutes=5))
    await run_once(service)
    assert repo.rows[item.id].state is FollowUpState.SENT
    assert messenger.posted == []  # found by its key; never posted a second time


async def test_an_unknown_outcome_that_did_not_land_is_posted_again_once() -> None:
    clock = FrozenClock(NOW)
    service, repo, messenger = make_service(clock)
    item = notice(repo, clock)
    messenger.fail_with = [OutcomeUnknown("502")]
    await run_once(service)
    clock.advance(timedelta(minutes=5))
    await run_once(service)
    assert messenger.posted == [f"fu:{item.id}:0"] and repo.rows[item.id].state is FollowUpState.SENT


async def test_rate_limited_posts_wait_for_retry_after_and_permanent_refusals_fail() -> None:
    clock = FrozenClock(NOW)
    service, repo, messenger = make_service(clock)
    item = notice(repo, clock)
    messenger.fail_with = [NotPosted("rate limited", retry_after=7)]
    await run_once(service)
    assert repo.rows[item.id].state is FollowUpState.PENDING
    assert repo.rows[item.id].due_at == NOW + timedelta(seconds=7)
    other = notice(repo, clock)
    messenger.fail_with = [NotPosted("channel_not_found", permanent=True)]
    clock.advance(timedelta(seconds=1))
    await run_once(service)
    assert repo.rows[other.id].state is FollowUpState.FAILED


async def test_a_row_whose_lease_was_taken_over_is_not_posted() -> None:
    clock = FrozenClock(NOW)
    service, repo, messenger = make_service(clock)
    notice(repo, clock)
    messenger.gate.clear()  # the channel is busy: our post waits past the lease
    [item] = await service.claim_due()
    sending = asyncio.create_task(service.process(item))
    await asyncio.sleep(0)
    clock.advance(timedelta(seconds=31))
    # A second process on the same table takes the expired lease and sends.
    other, _, _ = make_service(clock, on=(repo, messenger))
    [taken] = await other.claim_due()
    messenger.gate.set()
    await sending
    await other.process(taken)
    assert messenger.posted == [f"fu:{item.id}:0"]


async def test_outside_working_hours_waits_for_the_recipients_morning() -> None:
    clock = FrozenClock(NOW)  # 05:00 in New York
    service, repo, messenger = make_service(clock, to="UNY", hours=HOURS)
    item = notice(repo, clock)
    await run_once(service)
    assert messenger.posted == [] and repo.rows[item.id].due_at == utc(2026, 11, 24, 14, 0)


async def test_cancelled_rows_are_never_sent() -> None:
    clock = FrozenClock(NOW)
    service, repo, messenger = make_service(clock, cancel=True)
    item = notice(repo, clock)
    await run_once(service)
    assert messenger.posted == [] and repo.rows[item.id].state is FollowUpState.CANCELLED


async def test_stopping_hands_back_claimed_rows_that_have_not_started() -> None:
    clock = FrozenClock(NOW)
    service, repo, messenger = make_service(clock)
    item = notice(repo, clock)
    messenger.gate.clear()
    [claimed] = await service.claim_due()
    task = asyncio.create_task(service.process(claimed))
    await asyncio.sleep(0)
    service.stop_claiming()
    await asyncio.gather(task, return_exceptions=True)
    assert messenger.posted == [] and repo.rows[item.id].lease_token is None
    assert await service.claim_due() == []  # and nothing new is claimed
    assert service.in_flight == 0


def test_unknown_kinds_are_left_for_a_version_that_knows_them() -> None:
    service, _, _ = make_service(FrozenClock(NOW))
    with pytest.raises(ValueError):  # one handler per kind: the kind table refuses a second
        kind_table((["notice"], Notice()), (["notice", "other"], Notice()))
    assert service.handler(FollowUpKind.RESURVEY) is None


async def test_an_unknown_row_is_not_looked_for_before_its_post_has_surely_finished() -> None:
    clock = FrozenClock(NOW)
    service, repo, messenger = make_service(clock)
    item = notice(repo, clock)
    [claimed] = await repo.claim(NOW, 1, NOW + timedelta(seconds=1), "stalled")
    assert await repo.begin_send(claimed, NOW, NOW + timedelta(seconds=1))  # its post is on the wire ...
    clock.advance(timedelta(seconds=2))  # ... when another process finds the lease expired
    await run_once(service)
    assert messenger.posted == [] and repo.rows[item.id].due_at == NOW + service.settle
    clock.advance(service.settle)
    await run_once(service)
    assert messenger.posted == [f"fu:{item.id}:0"]


async def test_a_database_failure_after_posting_leaves_the_row_to_reconcile_not_resend() -> None:
    clock = FrozenClock(NOW)
    service, repo, messenger = make_service(clock)
    item = notice(repo, clock)
    real_mark_sent = repo.mark_sent

    async def database_down(*args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("database went away")

    repo.mark_sent = database_down  # type: ignore[method-assign]
    await run_once(service)
    assert messenger.posted == [f"fu:{item.id}:0"] and repo.rows[item.id].state is FollowUpState.UNKNOWN
    repo.mark_sent = real_mark_sent  # type: ignore[method-assign]
    clock.advance(timedelta(minutes=5))
    await run_once(service)
    assert messenger.posted == [f"fu:{item.id}:0"] and repo.rows[item.id].state is FollowUpState.SENT


def test_the_closing_timeline_names_each_roles_moment_even_on_an_old_fix_step() -> None:
    from datetime import timedelta as td

    from bot.records import timeline_of

    case, steps = _case_and_steps(apology=StepStatus.DONE)
    at = case.created_at
    done = {"apologize": td(minutes=5), "fix": td(hours=2), "amends": td(hours=3), "follow_up": td(days=1)}
    steps = [
        s.model_copy(update={"status": StepStatus.DONE, "at": at + done[s.key]}) if s.key in done else s
        for s in steps
    ]
    assert [e.label for e in timeline_of(case, steps)] == [
        "Reported",
        "Apologised",
        "Fixed",
        "Amends",
        "Followed up",
    ]
    # Cases opened before the FIX role existed carry the default fix step without it: it is still the fix.
    legacy = [
        s.model_copy(update={"step": s.step.model_copy(update={"action": None})}) if s.key == "fix" else s
        for s in steps
    ]
    assert "Fixed" in [e.label for e in timeline_of(case, legacy)]
