"""The database can blink: a real PostgreSQL restarted under a running Mend, and a busy SQLite file.

PostgreSQL here is a private server (initdb in a temp dir, its own port) so that stopping it never
disturbs the machine's shared server; the tests skip, saying why, where one can't run.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from handlers.ids import ReportBlock
from handlers.interaction import SLOW_SAVE_MESSAGE
from storage.tables import CaseEventRow
from tests.conftest import reset_postgres
from tests.e2e.conftest import Stack, running_stack
from tests.e2e.test_report_case import REPORT, customer, open_report, state_of
from tests.e2e.test_report_resilience import cards_in
from tests.reliability.private_postgres import (
    PrivatePostgres,
    PrivatePostgresUnavailable,
    start_private_postgres,
)

COMPLETE_CASE = ["reported", "owner_assigned", "card_posted", "thread_opened"]


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    try:
        server = start_private_postgres()
    except PrivatePostgresUnavailable as exc:
        pytest.skip(f"no private PostgreSQL server for the restart test: {exc}")
    try:
        yield server
    finally:
        server.destroy()


async def report(stack: Stack, view: dict[str, Any], n: int) -> Any:
    """Submit the real report modal under a view id of its own (as n different modals would be)."""
    # A customer per modal: one customer's second report would be asked to join the open case instead.
    values = state_of({**REPORT, **customer(n)})
    return await stack.forge_view_submission(stack.alice, {**view, "id": f"V0BLINK{n:05d}"}, values)


async def events_by_case(stack: Stack) -> dict[int, list[str]]:
    async with stack.mend.db.transaction() as session:
        rows = (await session.execute(select(CaseEventRow).order_by(CaseEventRow.id))).scalars()
        found: dict[int, list[str]] = {}
        for row in rows:
            found.setdefault(row.case_id, []).append(row.kind)
        return found


async def test_postgres_restarted_under_mend(private_postgres: PrivatePostgres) -> None:
    await reset_postgres(private_postgres.url)
    async with running_stack(private_postgres.url) as stack:
        view = await open_report(stack)

        await private_postgres.astop()
        try:
            refused = await stack.alice.submit_view(REPORT)
            # The modal stays open with the reporter's words, and says why.
            assert refused.status == 200
            assert "try again" in refused.field_errors[ReportBlock.SUMMARY.value]
            assert stack.alice.current_view()["id"] == view["id"]
            assert (await stack.health())[0] == 503
        finally:
            await private_postgres.astart()

        # Back without restarting Mend: pooled connections to the old server are pinged and replaced.
        assert await stack.count_cases() == 0, "nothing was half-written during the outage"
        accepted = await stack.alice.submit_view(REPORT)
        assert accepted.field_errors == {}
        await stack.settle()

        # Restarts while idle: each next request works at the first attempt.
        view = await open_report(stack)
        for n in range(3):
            await private_postgres.arestart()
            response = await report(stack, view, n)
            assert response.status == 200 and response.field_errors == {}, response.body
            await stack.settle()
        assert await stack.health() == (200, {"ok": True, "database": "ok"})
        assert await stack.count_cases() == 4
        assert list((await events_by_case(stack)).values()) == [COMPLETE_CASE] * 4
        assert len(cards_in(stack, stack.recovery)) == 4  # type: ignore[arg-type]


async def test_postgres_restarted_in_the_middle_of_a_burst(private_postgres: PrivatePostgres) -> None:
    await reset_postgres(private_postgres.url)
    async with running_stack(private_postgres.url) as stack:
        view = await open_report(stack)
        burst = [asyncio.ensure_future(report(stack, view, n)) for n in range(12)]
        await asyncio.sleep(0.01)
        await private_postgres.arestart()
        responses = await asyncio.gather(*burst)
        await stack.settle()
        # Every answer is either "opened" or "try again"; those asked try again, as people would.
        assert {r.status for r in responses} == {200}
        refused = [n for n, r in enumerate(responses) if r.field_errors]
        for n in refused:
            assert "try again" in responses[n].field_errors[ReportBlock.SUMMARY.value]
            assert (await report(stack, view, n)).field_errors == {}
        await stack.settle()
        # One case per modal, none half-written: each has its report, and a card at most once.
        assert await stack.count_cases() == 12
        for kinds in (await events_by_case(stack)).values():
            assert kinds[:2] == COMPLETE_CASE[:2] and len(kinds) == len(set(kinds))
        posted = [str(c["metadata"]["event_payload"]["key"]) for c in cards_in(stack, stack.recovery)]  # type: ignore[arg-type]
        assert len(posted) == len(set(posted))


# ---- SQLite: one file, many writers --------------------------------------------------------------


async def test_sqlite_concurrent_reports_never_see_a_locked_database(tmp_path: Path) -> None:
    async with running_stack(f"sqlite:///{tmp_path / 'busy.db'}") as stack:
        view = await open_report(stack)
        responses = await asyncio.gather(*(report(stack, view, n) for n in range(30)))
        await stack.settle()
        # On a busy machine 30 writers queued on one file may miss the 2 s save deadline: the person is
        # then asked to try again (the save goes on behind), and the retry finds what was stored. What
        # must never happen is "database is locked", another error, or a second case for one modal.
        slow = {ReportBlock.SUMMARY.value: SLOW_SAVE_MESSAGE}
        assert all(r.field_errors in ({}, slow) for r in responses), [r.field_errors for r in responses]
        for n, r in enumerate(responses):
            if r.field_errors:
                assert (await report(stack, view, n)).field_errors == {}
        await stack.settle()
        assert await stack.count_cases() == 30
        assert list((await events_by_case(stack)).values()) == [COMPLETE_CASE] * 30


async def test_sqlite_held_by_another_writer_makes_reports_wait_not_fail(tmp_path: Path) -> None:
    path = tmp_path / "held.db"
    async with running_stack(f"sqlite:///{path}") as stack:
        view = await open_report(stack)
        locked, release = threading.Event(), threading.Event()

        def hold_the_write_lock() -> None:
            # Another process writing for a second: a backup, a migration, a second Mend.
            other = sqlite3.connect(path, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            locked.set()
            release.wait(5)
            other.execute("COMMIT")
            other.close()

        holder = threading.Thread(target=hold_the_write_lock)
        holder.start()
        await asyncio.to_thread(locked.wait, 5)
        burst = [asyncio.ensure_future(report(stack, view, n)) for n in range(10)]
        await asyncio.sleep(1.0)
        release.set()
        responses = await asyncio.gather(*burst)
        await asyncio.to_thread(holder.join, 5)
        await stack.settle()
        # They waited out the other writer. On a busy machine the last of them may pass the save deadline
        # and be asked to try again (see the test above); none is told the database is locked.
        slow = {ReportBlock.SUMMARY.value: SLOW_SAVE_MESSAGE}
        assert all(r.field_errors in ({}, slow) for r in responses), [r.field_errors for r in responses]
        for n, r in enumerate(responses):
            if r.field_errors:
                assert (await report(stack, view, n)).field_errors == {}
        await stack.settle()
        assert await stack.count_cases() == 10
        told = " ".join(e.text for e in stack.double.ephemerals())
        assert "locked" not in told and "went wrong" not in told
