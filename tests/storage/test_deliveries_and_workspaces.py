"""Repository tests on real databases: the delivery log's unique claim, and workspace install status."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.workspaces import InstallStatus
from storage.db import Database
from storage.deliveries import SqlDeliveryLog
from storage.workspaces import SqlWorkspaceRepository

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


async def test_a_delivery_is_claimed_once(db: Database) -> None:
    log = SqlDeliveryLog(db)
    assert await log.claim("Ev1", team_id="T1", at=NOW) is True
    assert await log.claim("Ev1", team_id="T1", at=NOW + timedelta(seconds=1)) is False
    assert await log.claim("Ev2", team_id=None, at=NOW) is True


async def test_two_processes_racing_for_one_delivery_get_one_claim(database_url: str, db: Database) -> None:
    # Each Database has its own engine and pool: as close to two processes as one test gets.
    others = [Database(database_url) for _ in range(4)]
    try:
        logs = [SqlDeliveryLog(d) for d in (db, *others)]
        for n in range(5):
            results = await asyncio.gather(*(log.claim(f"Ev{n}", team_id="T1", at=NOW) for log in logs))
            assert sorted(results) == [False, False, False, False, True]
    finally:
        for other in others:
            await other.dispose()


async def test_old_deliveries_are_forgotten(db: Database) -> None:
    log = SqlDeliveryLog(db)
    await log.claim("EvOld", team_id="T1", at=NOW - timedelta(days=2))
    await log.claim("EvNew", team_id="T1", at=NOW)
    assert await log.forget_before(NOW - timedelta(days=1)) == 1
    assert await log.claim("EvOld", team_id="T1", at=NOW) is True
    assert await log.claim("EvNew", team_id="T1", at=NOW) is False


async def test_workspace_status_changes_only_when_it_changes(db: Database) -> None:
    repo = SqlWorkspaceRepository(db)
    assert await repo.is_active("T1")
    assert await repo.get("T1") is None
    assert await repo.set_status("T1", InstallStatus.UNINSTALLED, NOW) is True
    assert await repo.set_status("T1", InstallStatus.UNINSTALLED, NOW + timedelta(hours=1)) is False
    workspace = await repo.get("T1")
    assert workspace is not None
    assert (workspace.status, workspace.changed_at) == (InstallStatus.UNINSTALLED, NOW)
    assert not await repo.is_active("T1")
    assert await repo.set_status("T1", InstallStatus.ACTIVE, NOW + timedelta(days=1)) is True
    assert await repo.is_active("T1")
    assert await repo.is_active("T2")
