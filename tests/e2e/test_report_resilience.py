"""End to end: signatures, Slack faults, channel membership and a database that is not there."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from sqlalchemy import text

from handlers.ids import Command, MessageMetadata, ReportBlock
from storage.db import Database
from tests.e2e.conftest import Stack
from tests.e2e.test_report_case import REPORT, open_report

StackFactory = Callable[..., AbstractAsyncContextManager[Stack]]


def cards_in(stack: Stack, channel_id: str) -> list[dict[str, Any]]:
    return [
        m
        for m in stack.double.messages(channel_id)
        if (m.get("metadata") or {}).get("event_type") == MessageMetadata.CASE_CARD.value
    ]


async def report_case(stack: Stack) -> None:
    await open_report(stack)
    response = await stack.alice.submit_view(REPORT)
    assert response.status == 200 and response.field_errors == {}
    await stack.settle()


async def test_forged_and_stale_requests_get_401_and_do_nothing(stack: Stack) -> None:
    forged = await stack.alice.slash_command(
        Command.RECOVER.value, "", channel_id=stack.support, signature="forged"
    )
    missing = await stack.alice.slash_command(
        Command.RECOVER.value, "", channel_id=stack.support, signature="missing"
    )
    stale = await stack.alice.slash_command(
        Command.RECOVER.value, "", channel_id=stack.support, timestamp=int(time.time()) - 6 * 60
    )
    future = await stack.alice.slash_command(
        Command.RECOVER.value, "", channel_id=stack.support, timestamp=int(time.time()) + 6 * 60
    )
    assert [r.status for r in (forged, missing, stale, future)] == [401, 401, 401, 401]
    await stack.settle()
    assert stack.double.calls_to("views.open") == []
    assert stack.double.open_views(stack.alice.id) == []


async def test_rate_limited_card_is_posted_once_after_retry_after(stack: Stack) -> None:
    stack.double.faults.add("chat.postMessage", "ratelimited", times=1, retry_after=1)
    await report_case(stack)
    assert stack.double.ratelimited["chat.postMessage"] == 1
    assert len(cards_in(stack, stack.recovery)) == 1  # type: ignore[arg-type]
    [row] = await stack.case_rows()
    assert row.card_ts == cards_in(stack, stack.recovery)[0]["ts"]  # type: ignore[arg-type]


async def test_dropped_connection_after_posting_does_not_post_the_card_twice(stack: Stack) -> None:
    # Slack posted the card, but the connection dropped before the answer came back.
    stack.double.faults.add("chat.postMessage", "disconnect", times=1, applied=True)
    await report_case(stack)
    [card] = cards_in(stack, stack.recovery)  # type: ignore[arg-type]
    [row] = await stack.case_rows()
    assert row.card_ts == card["ts"]
    assert len(stack.double.thread(stack.recovery, card["ts"])) == 3  # type: ignore[arg-type]
    assert await stack.event_kinds(row.id) == ["reported", "owner_assigned", "card_posted", "thread_opened"]


async def test_server_error_before_posting_is_retried_once_checked(stack: Stack) -> None:
    stack.double.faults.add("chat.postMessage", "server_error", times=1, status=503, applied=False)
    await report_case(stack)
    assert len(cards_in(stack, stack.recovery)) == 1  # type: ignore[arg-type]
    assert stack.double.calls_to("conversations.history"), "the history was checked before posting again"


async def test_mend_joins_a_public_channel_it_is_not_in(make_stack: StackFactory) -> None:
    async with make_stack(with_recovery_channel=False) as stack:
        lobby = stack.double.add_channel("lobby", members=[stack.alice.id], bot_member=False)
        await stack.alice.slash_command(Command.RECOVER.value, "", channel_id=lobby)
        await stack.settle()
        await stack.alice.submit_view(REPORT)
        await stack.settle()
        assert stack.double.calls_to("conversations.join")
        assert len(cards_in(stack, lobby)) == 1


async def test_private_channel_without_mend_explains_how_to_invite(make_stack: StackFactory) -> None:
    async with make_stack(with_recovery_channel=False) as stack:
        secret = stack.double.add_channel("vip", is_private=True, members=[stack.alice.id], bot_member=False)
        await stack.alice.slash_command(Command.RECOVER.value, "", channel_id=secret)
        await stack.settle()
        await stack.alice.submit_view(REPORT)
        await stack.settle()
        [row] = await stack.case_rows()  # the report is kept ...
        assert row.card_ts is None
        # ... and Alice learns why there is no card, in Mend's DM since Mend can't reach the channel.
        dm = stack.double.dm_channel_id(stack.alice.id)
        assert dm is not None
        told = " ".join(str(m.get("text")) for m in stack.double.messages(dm))
        assert "/invite @Mend" in told


@asynccontextmanager
async def database_down(stack: Stack, database_url: str) -> AsyncIterator[None]:
    """Make the database refuse Mend: PostgreSQL stops taking connections; SQLite is locked by a writer."""
    if database_url.startswith("postgresql"):
        name = stack.mend.db.engine.url.database
        admin = Database(database_url.rsplit("/", 1)[0] + "/postgres")
        async with admin.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
        try:
            yield
        finally:
            async with admin.engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
            await admin.dispose()
    else:
        import sqlite3

        path = stack.mend.db.engine.url.database
        assert path
        locker = sqlite3.connect(path, timeout=0.1, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            locker.execute("ROLLBACK")
            locker.close()


async def test_database_outage_keeps_the_modal_open_and_loses_nothing(
    stack: Stack, database_url: str
) -> None:
    await open_report(stack)
    async with database_down(stack, database_url):
        response = await stack.alice.submit_view(REPORT)
        assert response.status == 200
        assert "try again" in response.field_errors[ReportBlock.SUMMARY.value]
        assert stack.alice.current_view()["callback_id"] == "report_failure"  # the words are still there
        status, _ = await stack.health()
        # A locked SQLite file still answers reads; an unreachable PostgreSQL is unhealthy.
        assert status == (503 if database_url.startswith("postgresql") else 200)
    # Once the database is back, the same modal submits and the case opens.
    response = await stack.alice.submit_view(REPORT)
    assert response.field_errors == {}
    await stack.settle()
    assert await stack.count_cases() == 1
    assert len(cards_in(stack, stack.recovery)) == 1  # type: ignore[arg-type]


async def test_healthz_reports_the_database(stack: Stack) -> None:
    assert await stack.health() == (200, {"ok": True, "database": "ok"})


async def test_expired_trigger_is_explained_to_the_user(stack: Stack) -> None:
    original = stack.double.issue_trigger_id

    def stale_trigger(user_id: str) -> str:
        trigger = original(user_id)
        stack.double.clock.advance(4)  # the modal opens after Slack's 3 seconds are up
        return trigger

    stack.double.issue_trigger_id = stale_trigger  # type: ignore[method-assign]
    await stack.alice.slash_command(Command.RECOVER.value, "", channel_id=stack.support)
    await stack.settle()
    assert stack.double.open_views(stack.alice.id) == []
    [notice] = stack.double.ephemerals(user_id=stack.alice.id)
    assert "try `/recover` again" in notice.text
    await asyncio.sleep(0)
