"""The follow-up queue on real databases: same-transaction staging, dedupe, atomic claims and leases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.cases import CaseReport, MessageRef, NewCase, Severity
from bot.followups import FollowUpPolicy, FollowUpRequest, FollowUpState
from bot.playbook import DEFAULT_STEPS
from storage.cases import SqlCaseRepository
from storage.db import Database
from storage.followups import FollowUpRow, SqlFollowUpRepository, stage

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def new_case(key: str | None = "V1") -> NewCase:
    return NewCase(
        team_id="T1",
        report=CaseReport(
            summary="Cake crushed", severity=Severity.MAJOR, category="delivery", customer_name="Dana"
        ),
        reporter_user_id="U1",
        origin_channel_id="C1",
        report_key=key,
        at=NOW,
        steps=DEFAULT_STEPS,
        follow_ups=FollowUpPolicy(approver_ids=("UAPPROVER1",)).on_new_case(NOW),
    )


async def count(db: Database) -> int:
    async with db.transaction() as session:
        return int((await session.execute(select(func.count()).select_from(FollowUpRow))).scalar_one())


async def add_notices(db: Database, n: int, due: datetime = NOW) -> None:
    requests = [
        FollowUpRequest(kind="notice", key=f"n:{i}", due_at=due, payload={"channel_id": "C1", "text": str(i)})
        for i in range(n)
    ]
    async with db.transaction() as session:
        await stage(session, requests, case_id=None, now=NOW)


async def test_a_case_stages_its_nudges_in_its_own_transaction_once(db: Database) -> None:
    cases = SqlCaseRepository(db)
    case, created = await cases.add(new_case())
    assert created and await count(db) == 2  # the nudge and one escalation
    _, created_again = await cases.add(new_case())  # a replayed submission
    assert not created_again and await count(db) == 2
    rows = await SqlFollowUpRepository(db).for_case(case.id)
    assert sorted(r.dedupe_key for r in rows) == [
        f"case:{case.id}:ack_escalation:UAPPROVER1",
        f"case:{case.id}:ack_nudge",
    ]


async def test_staging_the_same_key_twice_keeps_one_row(db: Database) -> None:
    await add_notices(db, 3)
    await add_notices(db, 3)
    assert await count(db) == 3


async def test_concurrent_claims_never_share_a_row(db: Database) -> None:
    await add_notices(db, 60)
    repos = [SqlFollowUpRepository(db) for _ in range(4)]
    batches = await asyncio.gather(
        *(r.claim(NOW, 20, NOW + timedelta(seconds=30), f"p{i}") for i, r in enumerate(repos))
    )
    ids = [item.id for batch in batches for item in batch]
    assert len(ids) == len(set(ids)) == 60


async def test_a_lease_expires_and_only_its_new_holder_may_send(db: Database) -> None:
    await add_notices(db, 1)
    repo = SqlFollowUpRepository(db)
    [first] = await repo.claim(NOW, 10, NOW + timedelta(seconds=30), "crashed")
    assert await repo.claim(NOW + timedelta(seconds=10), 10, NOW + timedelta(seconds=40), "other") == []
    [second] = await repo.claim(NOW + timedelta(seconds=31), 10, NOW + timedelta(seconds=61), "other")
    assert second.id == first.id
    assert not await repo.begin_send(first, NOW, NOW + timedelta(seconds=60))  # the old holder lost it
    assert await repo.begin_send(second, NOW, NOW + timedelta(seconds=60))
    ref = MessageRef(channel_id="C1", ts="1.1")
    assert not await repo.mark_sent(first, ref, NOW)
    assert await repo.mark_sent(second, ref, NOW)
    got = await repo.get(first.id)
    assert got is not None and got.state is FollowUpState.SENT and got.message == ref


async def test_an_interrupted_send_is_claimed_again_as_unknown(db: Database) -> None:
    await add_notices(db, 1)
    repo = SqlFollowUpRepository(db)
    [item] = await repo.claim(NOW, 10, NOW + timedelta(seconds=30), "crashed")
    assert await repo.begin_send(item, NOW, NOW + timedelta(seconds=30))
    [again] = await repo.claim(NOW + timedelta(minutes=1), 10, NOW + timedelta(minutes=2), "next")
    assert again.state is FollowUpState.UNKNOWN and again.attempted_at == NOW


async def test_claims_take_the_oldest_due_first_and_leave_future_rows(db: Database) -> None:
    await add_notices(db, 5, due=NOW + timedelta(hours=1))
    async with db.transaction() as session:
        await stage(
            session,
            [FollowUpRequest(kind="notice", key="old", due_at=NOW - timedelta(days=2))],
            case_id=None,
            now=NOW,
        )
    repo = SqlFollowUpRepository(db)
    claimed = await repo.claim(NOW, 10, NOW + timedelta(seconds=30), "p")
    assert [c.dedupe_key for c in claimed] == ["old"]
