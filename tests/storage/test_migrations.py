"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL, and move data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.amends import AmendsState
from bot.amends.effects import offer_requests
from bot.followup_request import FollowUpRequest
from storage.db import Database
from storage.followups import FollowUpRow, dedupe_key
from storage.migrate import alembic_config, upgrade_to_head
from storage.schema import metadata


def _diff(connection: Any) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_models_and_migrations_agree(db: Database) -> None:
    async with db.engine.connect() as conn:
        differences = await conn.run_sync(_diff)
    assert differences == [], "a model changed without a migration (or the reverse)"


NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
cases = sa.table(
    "cases",
    *(sa.column(c) for c in ("team_id", "state", "severity", "category", "summary", "reporter_user_id")),
    sa.column("owner_user_id"),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
amends = sa.table(
    "amends",
    *(sa.column(c) for c in ("case_id", "team_id", "customer_key", "kind", "justification", "source")),
    sa.column("reasons", sa.JSON),
    sa.column("requester_user_id"),
    sa.column("state"),
    sa.column("requested_at", sa.DateTime(timezone=True)),
)
jobs = sa.table(
    "amends_jobs",
    sa.column("kind"),
    sa.column("due_at", sa.DateTime(timezone=True)),
    sa.column("dedupe_key"),
    sa.column("payload", sa.JSON),
    sa.column("state"),
)


def _seed_stand_in_jobs(connection: Any) -> None:
    """At revision 0007: one request with a pending reminder and backups, a job done already, an orphan."""
    command.upgrade(alembic_config(connection), "0007")
    connection.execute(
        sa.insert(cases).values(
            team_id="T1",
            state="open",
            severity="major",
            category="delivery",
            summary="Late",
            reporter_user_id="U1",
            owner_user_id="U1",
            created_at=NOW,
            updated_at=NOW,
        )
    )
    case_id = connection.execute(sa.text("SELECT max(id) FROM cases")).scalar_one()
    connection.execute(
        sa.insert(amends).values(
            case_id=case_id,
            team_id="T1",
            customer_key="#4411",
            kind="refund",
            justification="x",
            source="agent",
            reasons=[],
            requester_user_id="U1",
            state="pending",
            requested_at=NOW,
        )
    )
    amends_id = connection.execute(sa.text("SELECT max(id) FROM amends")).scalar_one()
    connection.execute(
        sa.insert(jobs),
        [
            {
                "kind": "amends_remind",
                "due_at": NOW + timedelta(hours=4),
                "dedupe_key": f"amends:{amends_id}:remind",
                "payload": {"amends_id": amends_id},
                "state": "pending",
            },
            {
                "kind": "amends_ask_backups",
                "due_at": NOW + timedelta(hours=8),
                "dedupe_key": f"amends:{amends_id}:backups",
                "payload": {"amends_id": amends_id},
                "state": "pending",
            },
            {
                "kind": "amends_remind",
                "due_at": NOW - timedelta(days=1),
                "dedupe_key": "amends:999:remind-done",
                "payload": {"amends_id": amends_id},
                "state": "done",
            },
            {
                "kind": "amends_remind",
                "due_at": NOW,
                "dedupe_key": "amends:999:remind",
                "payload": {"amends_id": 999},  # its request is gone
                "state": "pending",
            },
        ],
    )


async def test_pending_amends_jobs_move_onto_the_follow_up_engine(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(_seed_stand_in_jobs)
        await upgrade_to_head(db)
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
        assert "amends_jobs" not in tables and "follow_ups" in tables
        async with db.transaction() as session:
            rows = list((await session.execute(select(FollowUpRow).order_by(FollowUpRow.due_at))).scalars())
            case_id, amends_id = (await session.execute(sa.text("SELECT case_id, id FROM amends"))).one()
        assert [(r.kind, r.dedupe_key, r.due_at, r.state, r.case_id, r.payload) for r in rows] == [
            (
                "amends_remind",
                f"case:{case_id}:amends:{amends_id}:remind",
                NOW + timedelta(hours=4),
                "pending",
                case_id,
                {"amends_id": amends_id},
            ),
            (
                "amends_backups",
                f"case:{case_id}:amends:{amends_id}:backups",
                NOW + timedelta(hours=8),
                "pending",
                case_id,
                {"amends_id": amends_id},
            ),
        ]
        # The rows are exactly what the new code stages for a request, so it never stages them twice.
        assert rows[0].dedupe_key == dedupe_key(reminder_row(amends_id), case_id)
    finally:
        await db.dispose()


def reminder_row(amends_id: int) -> FollowUpRequest:
    [remind] = [
        r
        for r in offer_requests(amends_id, AmendsState.PENDING, [], NOW, NOW + timedelta(hours=4))
        if r.kind == "amends_remind"
    ]
    return remind


alerts = sa.table(
    "recurrence_alerts",
    *(sa.column(c) for c in ("team_id", "category", "bucket", "window_seconds")),
    sa.column("cases", sa.JSON),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
fixes = sa.table(
    "process_fixes",
    *(
        sa.column(c)
        for c in ("alert_id", "team_id", "category", "description", "owner_user_id", "created_by")
    ),
    sa.column("due_on", sa.Date),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("submission_key"),
)


def _fix(alert_id: int, description: str, **key: str) -> dict[str, Any]:
    return {
        "alert_id": alert_id,
        "team_id": "T1",
        "category": "carrier_logistics",
        "description": description,
        "owner_user_id": "U1",
        "created_by": "U2",
        "due_on": NOW.date(),
        "created_at": NOW,
        **key,
    }


def _seed_a_process_fix(connection: Any) -> None:
    """At revision 0009: an alert with one process fix, stored before fixes had a submission key."""
    command.upgrade(alembic_config(connection), "0009")
    connection.execute(
        sa.insert(alerts).values(
            team_id="T1",
            category="carrier_logistics",
            bucket=1,
            window_seconds=604800,
            cases=[],
            created_at=NOW,
        )
    )
    alert_id = connection.execute(sa.text("SELECT max(id) FROM recurrence_alerts")).scalar_one()
    connection.execute(sa.insert(fixes), [_fix(alert_id, "Cooled vans")])


async def test_process_fixes_get_a_submission_key_that_stores_each_submission_once(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(_seed_a_process_fix)
        await upgrade_to_head(db)
        async with db.transaction() as session:
            alert_id, old_key = (
                await session.execute(sa.text("SELECT alert_id, submission_key FROM process_fixes"))
            ).one()
        assert old_key is None  # the fix from before keeps its place, with no key
        async with db.transaction() as session:  # keys are optional: another fix without one is fine
            await session.execute(sa.insert(fixes), [_fix(alert_id, "Check the vans", submission_key=None)])
            await session.execute(
                sa.insert(fixes), [_fix(alert_id, "Train the couriers", submission_key="V1")]
            )
        with pytest.raises(IntegrityError):  # the same submission twice is refused by the database itself
            async with db.transaction() as session:
                await session.execute(
                    sa.insert(fixes), [_fix(alert_id, "Train the couriers", submission_key="V1")]
                )
        async with db.transaction() as session:
            count = (await session.execute(sa.text("SELECT count(*) FROM process_fixes"))).scalar_one()
        assert count == 3
    finally:
        await db.dispose()
