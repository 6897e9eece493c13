"""Follow-up benchmark (run by hand): drain 10,000 due follow-ups over 100 channels against the Slack double
enforcing Slack's per-channel chat.postMessage rate, and start Mend with 100,000 pending follow-ups.

    python bench/followups.py [--database-url postgresql://...] [--rows 10000] [--channels 100]

Mend runs as its own `python app.py` process; the double runs here. Figures: drain time against the
rate-limit floor (each channel takes one post per second, so N posts per channel need N-1 seconds),
duplicates, 429s, Mend's peak RSS; then time from spawn to a healthy /healthz and RSS with 100,000 pending.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.followups import FollowUpRequest  # noqa: E402
from slack_double.server import SlackDouble  # noqa: E402
from storage.db import Database, normalise_database_url  # noqa: E402
from storage.followups import FollowUpRow, stage  # noqa: E402
from storage.migrate import upgrade_to_head  # noqa: E402

SECRET = "bench-signing-secret-0123"


def rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


async def reset(url: str) -> Database:
    db = Database(url)
    if db.dialect == "postgresql":
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await upgrade_to_head(db)
    return db


async def fill(db: Database, channels: list[str], n: int, due_at: datetime, prefix: str) -> None:
    for start in range(0, n, 1000):
        requests = [
            FollowUpRequest(
                kind="notice",
                key=f"{prefix}:{i}",
                due_at=due_at,
                payload={"channel_id": channels[i % len(channels)], "text": f"Follow-up {i}"},
            )
            for i in range(start, min(start + 1000, n))
        ]
        async with db.transaction() as session:
            await stage(session, requests, case_id=None, now=due_at)


async def spawn(double: SlackDouble, url: str, port: int, tmp: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(
        SLACK_BOT_TOKEN=double.bot_token,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=double.api_url,
        DATABASE_URL=url,
        PORT=str(port),
        WORKING_HOURS="always",
        FOLLOW_UP_POLL="1s",
        LOG_LEVEL="WARNING",
    )
    log = (tmp / f"mend-{port}.log").open("wb")
    return await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "app.py"), cwd=tmp, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT
    )


async def wait_healthy(port: int, proc: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as http:
        while True:
            if proc.returncode is not None:
                raise SystemExit(f"Mend exited with {proc.returncode}")
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.02)


async def count_sent(db: Database) -> int:
    async with db.transaction() as session:
        query = select(func.count()).select_from(FollowUpRow).where(FollowUpRow.state == "sent")
        return int((await session.execute(query)).scalar_one())


async def drain(url: str, rows: int, n_channels: int, tmp: Path) -> None:
    db = await reset(url)
    async with SlackDouble(seed=3) as double:
        double.enforce_post_rate(per_second=1.0, burst=1)
        channels = [double.add_channel(f"bench-{i}") for i in range(n_channels)]
        await fill(db, channels, rows, datetime.now(UTC) - timedelta(minutes=5), "drain")
        port = 39000 + os.getpid() % 1000
        started = time.monotonic()
        proc = await spawn(double, url, port, tmp)
        await wait_healthy(port, proc)
        serving = time.monotonic() - started
        peak = 0
        while (sent := await count_sent(db)) < rows:
            peak = max(peak, rss_kb(proc.pid, "VmHWM"))
            await asyncio.sleep(0.5)
        elapsed = time.monotonic() - started
        peak = max(peak, rss_kb(proc.pid, "VmHWM"))
        proc.terminate()
        await proc.wait()
        keys: Counter[str] = Counter()
        for channel in channels:
            for message in double.messages(channel):
                keys[str(((message.get("metadata") or {}).get("event_payload") or {}).get("key"))] += 1
        per_channel = -(-rows // n_channels)
        floor = per_channel - 1  # one post per second per channel; the first goes at once
        drained = elapsed - serving
        print(f"drain: {rows:,} follow-ups over {n_channels} channels, {db.dialect}")
        print(
            f"  sent {sent:,} in {elapsed:.1f} s from spawn ({serving:.2f} s to serving, {drained:.1f} s draining)"
        )
        print(
            f"  floor {floor} s -> ratio {drained / floor:.3f} (draining) / {elapsed / floor:.3f} (from spawn)"
        )
        print(f"  duplicates {sum(c - 1 for c in keys.values() if c > 1)}, distinct delivered {len(keys):,}")
        print(f"  429s received {double.ratelimited['chat.postMessage']}, Mend peak RSS {peak / 1024:.0f} MB")
    await db.dispose()


async def start_up(url: str, pending: int, tmp: Path) -> None:
    db = await reset(url)
    async with SlackDouble(seed=4) as double:
        channels = [double.add_channel(f"later-{i}") for i in range(100)]
        filled = time.monotonic()
        await fill(db, channels, pending, datetime.now(UTC) + timedelta(days=1), "later")
        print(
            f"start-up: {pending:,} pending follow-ups ({time.monotonic() - filled:.0f} s to insert), {db.dialect}"
        )
        port = 38000 + os.getpid() % 1000
        started = time.monotonic()
        proc = await spawn(double, url, port, tmp)
        await wait_healthy(port, proc)
        serving = time.monotonic() - started
        await asyncio.sleep(3)  # a few poller ticks over the full table
        print(f"  {serving:.2f} s from spawn to serving; RSS {rss_kb(proc.pid, 'VmRSS') / 1024:.0f} MB")
        print(
            f"  (peak {rss_kb(proc.pid, 'VmHWM') / 1024:.0f} MB) after 3 s of polling; sent {await count_sent(db)}"
        )
        proc.terminate()
        await proc.wait()
    await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--skip-drain", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        url = normalise_database_url(args.database_url or f"sqlite:///{tmp / 'bench.db'}")
        if not args.skip_drain:
            await drain(url, args.rows, args.channels, tmp)
        if args.database_url is None:
            url = normalise_database_url(f"sqlite:///{tmp / 'startup.db'}")
        await start_up(url, args.pending, tmp)


if __name__ == "__main__":
    asyncio.run(main())
