"""Secrets stay secret: a whole journey, faults included, logged at DEBUG, never shows a token or the secret."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from handlers.ids import Command, ReportBlock
from handlers.redaction import RedactSecrets
from slack_double.server import SlackDouble
from slack_double.user import AppResponse, SlackSender
from tests.e2e.conftest import SIGNING_SECRET, Stack
from tests.e2e.test_process import ROOT, free_port, wait_for_health
from tests.e2e.test_report_case import REPORT, customer, open_report

StackFactory = Callable[..., AbstractAsyncContextManager[Stack]]


def leaks(text: str, *secrets: str) -> list[str]:
    """Each secret, and any 16-character stretch of it, that shows up in `text`."""
    found = []
    for secret in secrets:
        fragments = {secret[i : i + 16] for i in range(0, max(len(secret) - 15, 1))}
        if secret in text or any(f in text for f in fragments):
            found.append(secret)
    return found


def test_leaks_finds_a_secret_whole_or_in_part() -> None:
    assert leaks("Bearer xoxb-1-abcdefghijklmnop", "xoxb-1-abcdefghijklmnop") == ["xoxb-1-abcdefghijklmnop"]
    assert leaks("...1-abcdefghijklmnop...", "xoxb-1-abcdefghijklmnop") == ["xoxb-1-abcdefghijklmnop"]
    assert leaks("nothing here", "xoxb-1-abcdefghijklmnop") == []


def test_redaction_covers_what_libraries_log() -> None:
    redact = RedactSecrets(["signing-secret-123456"]).redact
    assert "xoxb" not in redact("headers: {'Authorization': 'Bearer xoxb-123-456-abc'}")
    assert redact("body: token=legacy-abc&team_id=T1") == "body: token=(redacted)&team_id=T1"
    assert redact("token=legacy-abc&team_id=T1") == "token=(redacted)&team_id=T1"
    assert redact('{"token": "legacy-abc", "x": 1}') == '{"token": "(redacted)", "x": 1}'
    assert redact("key signing-secret-123456 here") == "key (redacted) here"
    assert redact("xapp-1-A0-abc and xoxp-9-z") == "(redacted) and (redacted)"
    # An interaction is `payload=` + URL-encoded JSON, so its legacy token is encoded too.
    encoded = "payload=%7B%22type%22%3A+%22block_actions%22%2C+%22token%22%3A+%22legacyABC123%22%2C+%22x%22"
    assert "legacyABC123" not in redact(encoded)
    assert "%22token%22%3A+%22(redacted)%22" in redact(encoded)
    assert "legacyABC123" not in redact("payload=%7B%22token%22%3A%22legacyABC123%22%7D")


async def journey(stack: Stack) -> list[AppResponse]:
    """Report cases through Slack's faults, a forged request, an expired trigger, a broken channel."""
    double = stack.double
    responses = [
        await stack.alice.slash_command(
            Command.RECOVER.value, "x", channel_id=stack.support, signature="forged"
        )
    ]
    double.faults.add("chat.postMessage", "ratelimited", times=1, retry_after=1)
    double.faults.add("chat.postMessage", "server_error", times=1, status=503)
    double.faults.add("conversations.history", "server_error", times=1, status=500)
    double.faults.add("chat.postMessage", "disconnect", times=1, applied=True)
    double.faults.add("chat.getPermalink", "server_error", times=2, status=502)
    for n in range(2):  # two customers: one customer's second report would be asked to join the first case
        await open_report(stack)
        responses.append(await stack.alice.submit_view({**REPORT, **customer(n)}))
        await stack.settle()
    responses.append(await stack.alice.slash_command(Command.RECOVER.value, "hepl", channel_id=stack.support))
    responses.append(await stack.alice.slash_command(Command.RECOVER.value, "help", channel_id=stack.support))
    # An ack that comes too late for Slack's trigger id, and a form whose save is refused.
    double.faults.add("views.open", "server_error", times=1, status=500)
    responses.append(await stack.alice.slash_command(Command.RECOVER.value, "", channel_id=stack.support))
    await stack.settle()
    view = await open_report(stack)
    responses.append(
        await stack.forge_view_submission(
            stack.alice, view, {ReportBlock.SUMMARY.value: {"summary_input": {"value": "x" * 9000}}}
        )
    )
    responses.append(await stack.sender.tokens_revoked(bot=[], oauth=[stack.bob.id]))
    await stack.settle()
    return responses


async def test_a_journey_logged_at_debug_shows_no_secret(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # The filter `python app.py` puts on every log handler (the subprocess test below checks that wiring).
    caplog.handler.addFilter(RedactSecrets(stack.mend.settings.secrets()))
    token, secret, legacy = stack.double.bot_token, SIGNING_SECRET, stack.double.verification_token
    responses = await journey(stack)

    assert len([m for m in stack.double.messages(stack.recovery) if m.get("metadata")]) == 2  # type: ignore[arg-type]
    assert any("Sending a request" in r.getMessage() for r in caplog.records), "slack_sdk's DEBUG log ran"
    logged = (
        "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records) + caplog.text
    )
    assert leaks(logged, token, secret, legacy) == []
    told = [e.text + json.dumps(e.blocks) for e in stack.double.ephemerals()]
    sent = [json.dumps(c.args, default=str) for c in stack.double.calls]
    acks = [json.dumps(r.body) for r in responses]
    assert leaks("\n".join(told + sent + acks), token, secret, legacy) == []


async def test_python_app_py_at_debug_logs_no_secret(database_url: str, tmp_path: Path) -> None:
    token = "xoxb-9876543210-SECRET-TOKEN-abcdefABCDEF"
    secret = "signing-SECRET-0f1e2d3c4b5a6978"
    port = free_port()
    async with SlackDouble(bot_token=token) as double:
        alice = double.add_user("alice")
        channel = double.add_channel("support", members=[alice])
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
        env.update(
            SLACK_BOT_TOKEN=token,
            SLACK_SIGNING_SECRET=secret,
            SLACK_API_URL=double.api_url,
            DATABASE_URL=database_url,
            PORT=str(port),
            LOG_LEVEL="DEBUG",
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
            async with SlackSender(f"http://127.0.0.1:{port}/slack/events", secret, double) as sender:
                person = sender.person(alice)
                stale = await person.slash_command(
                    Command.RECOVER.value, "", channel_id=channel, timestamp=int(time.time()) - 600
                )
                assert stale.status == 401
                # A late (clock-skewed) interaction: its body is URL-encoded JSON with the legacy token.
                late = await sender.post_interaction(
                    {
                        "type": "block_actions",
                        "token": double.verification_token,
                        "user": {"id": alice},
                        "team": {"id": double.team_id},
                        "actions": [{"action_id": "x", "block_id": "b", "type": "button"}],
                    },
                    timestamp=int(time.time()) - 900,
                )
                assert late.status == 401
                double.faults.add("chat.postMessage", "server_error", times=1, status=500)
                double.faults.add("chat.postMessage", "disconnect", times=1, applied=True)
                await person.slash_command(Command.RECOVER.value, "Lost parcel", channel_id=channel)
                await double.wait_for(lambda: double.open_views(alice), within=5)
                await person.submit_view(
                    {
                        ReportBlock.CUSTOMER_NAME.value: "Dana",
                        ReportBlock.SEVERITY.value: "minor",
                        ReportBlock.CATEGORY.value: "delivery",
                    }
                )
                await double.wait_for(lambda: double.ephemerals(user_id=alice), within=10)
        finally:
            proc.terminate()
            output, _ = await asyncio.wait_for(proc.communicate(), 30)
    log = output.decode()
    assert "DEBUG" in log and "Sending a request" in log and "without a valid Slack signature" in log
    assert leaks(log, token, secret, double.verification_token) == [], [
        line for line in log.splitlines() if "legacy" in line or "SECRET" in line
    ][:3]
