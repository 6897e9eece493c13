"""Mend as a real process: `python app.py` serves, migrates, answers Slack, and stops cleanly on SIGTERM;
`LOG_FORMAT=json` logs one JSON object a line and the scheduler's ticks log nothing."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from handlers.ids import Command, ReportBlock
from slack_double.server import SlackDouble
from slack_double.user import SlackSender
from storage.db import Database
from storage.migrate import upgrade_to_head

ROOT = Path(__file__).resolve().parents[2]
SECRET = "process-signing-secret-42"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def double() -> AsyncIterator[SlackDouble]:
    async with SlackDouble() as running:
        yield running


async def wait_for_health(url: str, proc: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            if proc.returncode is not None:
                raise AssertionError(f"Mend exited early with {proc.returncode}")
            try:
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("Mend did not become healthy")


async def test_app_serves_then_stops_cleanly_on_sigterm(
    double: SlackDouble, database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    alice = double.add_user("alice")
    channel = double.add_channel("support", members=[alice])
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(
        SLACK_BOT_TOKEN=double.bot_token,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=double.api_url,
        DATABASE_URL=database_url,
        PORT=str(port),
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "app.py"),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await wait_for_health(f"http://127.0.0.1:{port}/healthz", proc)
        sender = SlackSender(f"http://127.0.0.1:{port}/slack/events", SECRET, double)
        person = sender.person(alice)
        response = await person.slash_command(Command.RECOVER.value, "Lost parcel", channel_id=channel)
        assert response.status == 200
        for _ in range(100):
            if double.open_views(alice):
                break
            await asyncio.sleep(0.05)
        submitted = await person.submit_view(
            {
                ReportBlock.CUSTOMER_NAME.value: "Dana",
                ReportBlock.SEVERITY.value: "minor",
                ReportBlock.CATEGORY.value: "delivery",
            }
        )
        assert submitted.status == 200 and submitted.field_errors == {}
        await sender.close()
        proc.send_signal(signal.SIGTERM)  # at once: the card is posted after the ack, during shutdown
        output, _ = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    log = output.decode()
    assert proc.returncode == 0, log
    assert "Shutting down" in log and "Traceback" not in log
    # The in-flight announcement finished before the process left.
    cards = [m for m in double.messages(channel) if m.get("metadata")]
    assert len(cards) == 1 and len(double.thread(channel, cards[0]["ts"])) == 3  # card, opening, step 1


async def test_json_logs_one_object_a_line_and_the_ticking_clock_stays_quiet(
    double: SlackDouble, database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    alice = double.add_user("alice")
    channel = double.add_channel("support", members=[alice])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LOG_"))}
    env.update(
        SLACK_BOT_TOKEN=double.bot_token,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=double.api_url,
        DATABASE_URL=database_url,
        PORT=str(port),
        LOG_FORMAT="json",
        # The clock ticks five times a second, and its ticks must be seen to work: an ack nudge a second
        # after the report is sent only by a tick of the follow-up poller.
        FOLLOW_UP_POLL="0.2s",
        ACK_NUDGE_AFTER="1s",
        WORKING_HOURS="always",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "app.py"),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await wait_for_health(f"http://127.0.0.1:{port}/healthz", proc)
        async with SlackSender(f"http://127.0.0.1:{port}/slack/events", SECRET, double) as sender:
            person = sender.person(alice)
            await person.slash_command(Command.RECOVER.value, "Lost parcel", channel_id=channel)
            for _ in range(200):
                if double.open_views(alice):
                    break
                await asyncio.sleep(0.05)
            values = {
                ReportBlock.CUSTOMER_NAME.value: "Dana",
                ReportBlock.SEVERITY.value: "minor",
                ReportBlock.CATEGORY.value: "delivery",
            }
            assert (await person.submit_view(values)).field_errors == {}
        nudged = False
        for _ in range(600):
            cards = [m for m in double.messages(channel) if m.get("metadata")]
            thread = double.thread(channel, cards[0]["ts"]) if cards else []
            if any("no apology yet" in json.dumps(m) for m in thread):
                nudged = True
                break
            await asyncio.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, output.decode()
    assert nudged, "the follow-up poller's ticks sent the ack nudge"
    records = [json.loads(line) for line in output.decode().splitlines() if line.strip()]
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    messages = [r["message"] for r in records]
    assert any(m.startswith("Mend is serving on") for m in messages) and any(
        "Shutting down" in m for m in messages
    )
    assert not [m for m in messages if "Running job" in m or "executed successfully" in m]
    # APScheduler's warnings (a tick skipped on a busy machine) still show; nothing below them does.
    assert not [
        r for r in records if r["logger"].startswith("apscheduler") and r["level"] in ("DEBUG", "INFO")
    ]
    assert double.bot_token not in output.decode()


async def test_release_step_migrates(database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "storage.migrate",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, output.decode()
    db = Database(database_url)
    try:
        await upgrade_to_head(db)  # already at head: nothing to do, no error
    finally:
        await db.dispose()
