"""Repository tests for cases on a real database (SQLite always, PostgreSQL when configured)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect

from bot.cases import CaseReport, MessageRef, NewCase, Severity
from storage.cases import SqlCaseRepository
from storage.db import Database
from storage.migrate import upgrade_to_head

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def new_case(key: str | None = "V1", summary: str = "Parcel never arrived") -> NewCase:
    return NewCase(
        team_id="T1",
        report=CaseReport(
            customer_name="Dana <!channel> Cole",
            customer_ref="#4411",
            summary=summary,
            customer_words="“Where is it?” 😡 — 包裹在哪里",
            severity=Severity.CRITICAL,
            category="delivery",
        ),
        reporter_user_id="U1",
        origin_channel_id="C1",
        report_key=key,
        at=NOW,
    )


async def test_add_and_get_round_trip(db: Database) -> None:
    repo = SqlCaseRepository(db)
    case, created = await repo.add(new_case())
    assert created and case.id >= 1 and case.reference.startswith("R-")
    loaded = await repo.get(case.id)
    assert loaded is not None
    assert loaded.report == case.report
    assert loaded.created_at == NOW and loaded.created_at.tzinfo is not None
    assert loaded.owner_user_id == "U1" and loaded.card is None and not loaded.thread_opened
    assert [e.kind for e in await repo.events(case.id)] == ["reported", "owner_assigned"]


async def test_full_text_is_kept_beyond_slack_display_limits(db: Database) -> None:
    repo = SqlCaseRepository(db)
    long = "word " * 600
    case, _ = await repo.add(new_case(summary=long.strip()))
    loaded = await repo.get(case.id)
    assert loaded is not None and loaded.report.summary == long.strip()


async def test_same_report_key_returns_the_existing_case(db: Database) -> None:
    repo = SqlCaseRepository(db)
    first, created = await repo.add(new_case("VDUP"))
    results = await asyncio.gather(*(repo.add(new_case("VDUP")) for _ in range(5)))
    assert created and all(not c for _, c in results) and {case.id for case, _ in results} == {first.id}


async def test_record_card_only_once(db: Database) -> None:
    repo = SqlCaseRepository(db)
    case, _ = await repo.add(new_case())
    one = await repo.record_card(
        case.id, MessageRef(channel_id="C9", ts="1.000001"), NOW + timedelta(seconds=1)
    )
    two = await repo.record_card(
        case.id, MessageRef(channel_id="C9", ts="2.000002"), NOW + timedelta(seconds=2)
    )
    assert one.card == two.card == MessageRef(channel_id="C9", ts="1.000001")
    opened = await repo.record_thread_opened(case.id, NOW + timedelta(seconds=3))
    again = await repo.record_thread_opened(case.id, NOW + timedelta(seconds=4))
    assert opened.thread_opened and again.thread_opened
    kinds = [e.kind for e in await repo.events(case.id)]
    assert kinds == ["reported", "owner_assigned", "card_posted", "thread_opened"]


async def test_unknown_case_is_none(db: Database) -> None:
    assert await SqlCaseRepository(db).get(999_999) is None


async def test_migrations_are_idempotent_and_create_the_schema(db: Database) -> None:
    await upgrade_to_head(db)  # a second start must be a no-op
    async with db.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {"cases", "case_events", "alembic_version"} <= tables
