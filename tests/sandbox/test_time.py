"""The sandbox's time: it starts at a weekday 09:00 (or `--start`), Next due jumps to what is due next within
working hours and sends it, and crossing Monday 09:00 runs the weekly digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from runtime.cli import main
from sandbox.start import default_start, parse_start
from storage.followups import FollowUpRow
from tests.sandbox.conftest import MakeClient, SandboxClient, channel
from tests.sandbox.test_api import REPORT, open_report

# Friday 4 December 2026 (London is on GMT then, so local time is UTC).
FRIDAY = datetime(2026, 12, 4, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "start"),
    [
        (FRIDAY.replace(hour=8), FRIDAY.replace(hour=9)),  # a weekday morning: today 09:00
        (FRIDAY.replace(hour=11, minute=59), FRIDAY.replace(hour=9)),
        (FRIDAY.replace(hour=20), FRIDAY.replace(day=7, hour=9)),  # Friday evening: Monday
        (FRIDAY.replace(day=5, hour=10), FRIDAY.replace(day=7, hour=9)),  # Saturday: Monday
        (FRIDAY.replace(day=1, hour=18), FRIDAY.replace(day=2, hour=9)),  # Tuesday evening: Wednesday
        # Summer time: 09:00 in London is 08:00 UTC.
        (datetime(2026, 7, 1, 19, tzinfo=UTC), datetime(2026, 7, 2, 8, tzinfo=UTC)),
    ],
)
def test_the_default_start_is_a_weekday_nine_in_the_personas_zone(now: datetime, start: datetime) -> None:
    assert default_start(now) == start


def test_start_takes_a_date_or_a_time() -> None:
    assert parse_start("2026-12-04") == FRIDAY.replace(hour=9)
    assert parse_start("2026-07-01") == datetime(2026, 7, 1, 8, tzinfo=UTC)
    assert parse_start("2026-07-01T14:30") == datetime(2026, 7, 1, 13, 30, tzinfo=UTC)
    assert parse_start("2026-07-01T14:30+00:00") == datetime(2026, 7, 1, 14, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="not a date or time"):
        parse_start("next monday")


def test_a_bad_start_is_refused_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--sandbox", "--start", "tomorrow-ish", "--port", "0"]) == 2
    assert "write e.g. 2026-03-02" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["--start", "2026-12-04"])
    assert exc.value.code == 2
    assert "--start only works with --sandbox" in capsys.readouterr().err


def sandbox_now(st: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(st["clock"]["now"])


async def test_the_clock_starts_when_asked(make_client: MakeClient) -> None:
    client = await make_client(start=FRIDAY.replace(hour=14, minute=30))
    st = await client.state()
    assert timedelta(0) <= sandbox_now(st) - FRIDAY.replace(hour=14, minute=30) < timedelta(minutes=5)
    assert st["clock"]["offset_seconds"] == 0  # nothing travelled yet


async def test_by_default_it_starts_in_working_hours(client: SandboxClient) -> None:
    now = sandbox_now(await client.state())
    assert now.weekday() < 5 and timedelta(0) <= now - default_start(now) < timedelta(minutes=5)
    # So an hour later is still in working hours: +1 hour is worth pressing.
    assert client.sandbox.mend.settings.follow_up_policy().hours.is_open(
        now + timedelta(hours=1), "Europe/London"
    )


async def open_case(client: SandboxClient) -> dict[str, Any]:
    alex = client.persona("alex")
    st = await open_report(client, alex)
    answer = await client.post("submit", {"as": alex, "view_id": st["modal"]["id"], "values": REPORT})
    assert answer["ok"], answer
    return answer["state"]


async def rows(client: SandboxClient) -> list[FollowUpRow]:
    async with client.sandbox.mend.db.transaction() as session:
        return list((await session.execute(select(FollowUpRow).order_by(FollowUpRow.id))).scalars())


async def test_next_due_jumps_to_the_nudge_in_working_hours_and_sends_it(make_client: MakeClient) -> None:
    """A case opened at 17:55 on a Friday: its nudge falls due after hours, so Next due lands on Monday 09:00."""
    client = await make_client(start=FRIDAY.replace(hour=17, minute=55))
    await open_case(client)
    nudge = next(r for r in await rows(client) if r.kind == "ack_nudge")
    assert nudge.state == "pending"
    answer = await client.post("clock/next-due", {})
    assert answer["ok"], answer
    now = sandbox_now(answer["state"])
    monday_nine = FRIDAY.replace(day=7, hour=9)
    assert timedelta(0) <= now - monday_nine < timedelta(minutes=5)
    nudge = next(r for r in await rows(client) if r.kind == "ack_nudge")
    assert nudge.state == "sent" and nudge.sent_at is not None
    [card] = channel(answer["state"], "recovery")["messages"]
    assert any(r["ts"] == nudge.message_ts for r in card["replies"])  # the nudge is in the case thread
    # The escalation to the approver fell due after hours too (18:25): it went out with it.
    escalation = next(r for r in await rows(client) if r.kind == "ack_escalation")
    assert escalation.state == "sent" and escalation.recipient_user_id == client.persona("morgan")
    client.sandbox.double.assert_no_rejections()


async def test_next_due_in_working_hours_takes_one_thing_at_a_time(make_client: MakeClient) -> None:
    client = await make_client(start=FRIDAY.replace(hour=10))
    await open_case(client)
    answer = await client.post("clock/next-due", {})  # 10:15: the owner's nudge
    assert (
        timedelta(minutes=15)
        <= sandbox_now(answer["state"]) - FRIDAY.replace(hour=10)
        < timedelta(minutes=20)
    )
    states = {r.kind: r.state for r in await rows(client)}
    assert states["ack_nudge"] == "sent" and states["ack_escalation"] == "pending"
    answer = await client.post("clock/next-due", {})  # 10:30: the escalation
    assert (
        timedelta(minutes=30)
        <= sandbox_now(answer["state"]) - FRIDAY.replace(hour=10)
        < timedelta(minutes=35)
    )
    assert {r.kind: r.state for r in await rows(client)}["ack_escalation"] == "sent"


async def test_next_due_with_nothing_waiting_says_so(client: SandboxClient) -> None:
    before = client.sandbox.clock.offset
    answer = await client.post("clock/next-due", {})
    assert not answer["ok"] and "Nothing is waiting" in answer["notice"]
    assert client.sandbox.clock.offset == before


async def test_crossing_monday_nine_runs_the_weekly_digest(make_client: MakeClient) -> None:
    client = await make_client(start=FRIDAY.replace(hour=10))
    await open_case(client)
    insights = client.sandbox.insights_channel
    assert client.sandbox.mend.settings.digest_channel == insights
    assert client.sandbox.mend.settings.process_channel == insights  # recurrence alerts are on too
    answer = await client.post("clock/advance", {"seconds": 2 * 86400})  # Sunday 10:00: not yet
    assert not channel(answer["state"], "support-leads")["messages"]
    answer = await client.post("clock/advance", {"seconds": 86400})  # Monday 10:00
    [digest] = channel(answer["state"], "support-leads")["messages"]
    assert "Mend weekly digest" in digest["text"] and "Cases opened: 1" in digest["text"]
    # Posted at Monday 09:00 itself, where the scheduler would have run it.
    assert abs(float(digest["ts"]) - FRIDAY.replace(day=7, hour=9).timestamp()) < 300
    answer = await client.post("clock/advance", {"seconds": 3600})  # once a week, not at every click
    assert len(channel(answer["state"], "support-leads")["messages"]) == 1
