"""Fault tests for follow-ups with real `python app.py` processes against one database and the Slack double:
kill -9 mid-batch, four pollers on 2,000 due rows, rows due while Mend was down, 429s and 5xx in a backlog.
Every due follow-up is delivered, none twice (counted by the metadata key on the double's messages)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import func, select

from bot.followups import FollowUpRequest
from handlers.ids import MessageMetadata
from slack_double.server import SlackDouble
from storage.db import Database
from storage.followups import FollowUpRow, stage
from storage.migrate import upgrade_to_head
from tests.e2e.test_process import ROOT, SECRET, free_port


@pytest.fixture
async def double() -> AsyncIterator[SlackDouble]:
    async with SlackDouble(seed=11) as running:
        yield running


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await upgrade_to_head(database)
    yield database
    await database.dispose()


class Fleet:
    """Mend processes pointed at one database and one Slack double; logs go to files, not pipes."""

    def __init__(self, double: SlackDouble, database_url: str, tmp: Path) -> None:
        self.double = double
        self.database_url = database_url
        self.tmp = tmp
        self.procs: list[asyncio.subprocess.Process] = []
        self._logs: list[IO[bytes]] = []

    async def start(self, n: int = 1) -> None:
        for _ in range(n):
            env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
            env.update(
                SLACK_BOT_TOKEN=self.double.bot_token,
                SLACK_SIGNING_SECRET=SECRET,
                SLACK_API_URL=self.double.api_url,
                DATABASE_URL=self.database_url,
                PORT=str(free_port()),
                WORKING_HOURS="always",
                FOLLOW_UP_POLL="0.3s",
                FOLLOW_UP_LEASE="3s",
                LOG_LEVEL="WARNING",
            )
            log = (self.tmp / f"mend-{len(self.procs)}.log").open("wb")
            self._logs.append(log)
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                str(ROOT / "app.py"),
                cwd=self.tmp,
                env=env,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
            self.procs.append(proc)

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        for log in self._logs:
            log.close()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.tmp.glob("mend-*.log")))


@pytest.fixture
async def fleet(double: SlackDouble, database_url: str, tmp_path: Path) -> AsyncIterator[Fleet]:
    running = Fleet(double, database_url, tmp_path)
    try:
        yield running
    finally:
        await running.stop()


async def stage_notices(db: Database, channels: list[str], n: int, due_at: datetime) -> None:
    requests = [
        FollowUpRequest(
            kind="notice",
            key=f"fault:{i}",
            due_at=due_at,
            payload={"channel_id": channels[i % len(channels)], "text": f"notice {i}"},
        )
        for i in range(n)
    ]
    async with db.transaction() as session:
        for start in range(0, n, 500):
            await stage(session, requests[start : start + 500], case_id=None, now=due_at)


async def sent(db: Database) -> int:
    async with db.transaction() as session:
        query = select(func.count()).select_from(FollowUpRow).where(FollowUpRow.state == "sent")
        return int((await session.execute(query)).scalar_one())


async def wait_until_sent(db: Database, n: int, fleet: Fleet, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await sent(db) >= n:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"only {await sent(db)} of {n} sent\n{fleet.logs()}")


def delivered(double: SlackDouble, channels: list[str]) -> Counter[str]:
    keys: Counter[str] = Counter()
    for channel in channels:
        for message in double.messages(channel):
            meta = message.get("metadata") or {}
            if meta.get("event_type") == MessageMetadata.FOLLOW_UP.value:
                keys[str((meta.get("event_payload") or {}).get("key"))] += 1
    return keys


async def assert_exactly_once(db: Database, double: SlackDouble, channels: list[str], n: int) -> None:
    keys = delivered(double, channels)
    twice = {k: c for k, c in keys.items() if c > 1}
    if twice:
        async with db.transaction() as session:
            ids = [int(k.split(":")[1]) for k in twice]
            rows = (await session.execute(select(FollowUpRow).where(FollowUpRow.id.in_(ids)))).scalars()
            detail = [(r.id, r.state, r.attempts, r.outcome, r.last_error, r.message_ts) for r in rows]
        ts = {
            k: [
                m["ts"]
                for c in channels
                for m in double.messages(c)
                if (m.get("metadata") or {}).get("event_payload", {}).get("key") == k
            ]
            for k in twice
        }
        raise AssertionError(f"delivered more than once: {twice} {detail} {ts}")
    async with db.transaction() as session:
        ids = list((await session.execute(select(FollowUpRow.id))).scalars())
    assert len(ids) == n and set(keys) == {f"fu:{i}:0" for i in ids}


async def test_kill_9_mid_batch_then_restart_delivers_each_once(
    fleet: Fleet, db: Database, double: SlackDouble
) -> None:
    channels = [double.add_channel(f"c{i}") for i in range(30)]
    n = 240
    await stage_notices(db, channels, n, datetime.now(UTC) - timedelta(minutes=1))
    await fleet.start(1)
    await wait_until_sent(db, n // 3, fleet, within=60)
    fleet.procs[0].kill()  # kill -9 while posts are in flight
    await fleet.procs[0].wait()
    assert await sent(db) < n
    await fleet.start(1)
    await wait_until_sent(db, n, fleet, within=60)
    await assert_exactly_once(db, double, channels, n)


async def test_four_processes_on_2000_due_rows_deliver_each_once(
    fleet: Fleet, db: Database, double: SlackDouble
) -> None:
    channels = [double.add_channel(f"c{i}") for i in range(500)]
    n = 2000
    await stage_notices(db, channels, n, datetime.now(UTC) - timedelta(minutes=1))
    await fleet.start(4)
    await wait_until_sent(db, n, fleet, within=120)
    await assert_exactly_once(db, double, channels, n)


async def test_a_follow_up_due_while_mend_was_down_is_sent_when_it_comes_back(
    fleet: Fleet, db: Database, double: SlackDouble
) -> None:
    channels = [double.add_channel("support")]
    await stage_notices(db, channels, 1, datetime.now(UTC) + timedelta(seconds=1))
    await fleet.start(1)
    fleet.procs[0].kill()  # down before it fell due
    await fleet.procs[0].wait()
    await asyncio.sleep(1.5)
    assert await sent(db) == 0
    await fleet.start(1)
    await wait_until_sent(db, 1, fleet, within=30)
    await assert_exactly_once(db, double, channels, 1)


async def test_429s_and_5xx_during_a_backlog(fleet: Fleet, db: Database, double: SlackDouble) -> None:
    channels = [double.add_channel(f"c{i}") for i in range(20)]
    n = 120
    double.enforce_post_rate(per_second=1.0, burst=1)  # two processes share the channels: 429s will come
    double.faults.add(
        "chat.postMessage", "server_error", status=503, applied=True, times=4
    )  # posted, said 503
    double.faults.add("chat.postMessage", "server_error", status=500, times=4)  # not posted, said 500
    double.faults.add("chat.postMessage", "disconnect", applied=True, times=3)  # posted, connection dropped
    double.faults.add("chat.postMessage", "ratelimited", retry_after=2, times=3)
    await stage_notices(db, channels, n, datetime.now(UTC) - timedelta(minutes=1))
    await fleet.start(2)
    await wait_until_sent(db, n, fleet, within=90)
    await assert_exactly_once(db, double, channels, n)
    assert double.ratelimited["chat.postMessage"] >= 3
    assert all(f.exhausted for f in double.faults.faults)
