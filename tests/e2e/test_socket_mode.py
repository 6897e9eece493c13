"""End to end over Socket Mode: the same journey, guard, deduplication, error policy and ack-first as HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from handlers.ids import Command, ReportBlock, Shortcut, StepAction
from slack_double.server import SlackDouble
from slack_double.user import SlackSender, Transport
from tests.e2e.conftest import SIGNING_SECRET, Stack, running_stack
from tests.e2e.test_events import count_mentions, mention
from tests.e2e.test_playbook import test_a_case_walked_from_report_to_closed as walk_a_case_to_closed
from tests.e2e.test_report_case import REPORT, open_report

BOTH = pytest.mark.parametrize("transport", ["http", "socket"])
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def transport() -> Transport:
    return "socket"


@pytest.fixture
async def stack(database_url: str, transport: Transport) -> AsyncIterator[Stack]:
    """Mend taking Slack's requests over its Socket Mode link (or over HTTP where a test says so)."""
    async with running_stack(database_url, transport=transport) as running:
        yield running


@BOTH
async def test_a_case_walked_from_report_to_closed_over_either_transport(
    stack: Stack, transport: str
) -> None:
    await walk_a_case_to_closed(stack)
    envelopes = stack.double.socket_mode.envelopes
    if transport == "socket":
        # Every request of the journey went down the link, and every one was acked there.
        assert {e.type for e in envelopes} == {"slash_commands", "interactive"}
        assert len(envelopes) > 10 and all(e.acked for e in envelopes)
        assert [link.id for link in stack.double.socket_mode.links] == ["L1"]
    else:
        assert envelopes == [] and stack.double.socket_mode.links == []


async def test_mend_opens_its_link_through_the_api_url_with_the_app_token(stack: Stack) -> None:
    [opened] = stack.double.calls_to("apps.connections.open")
    assert opened.ok
    [link] = stack.double.socket_mode.links
    assert link.live and stack.double.socket_mode.refused_tickets == []
    # The bot token still does the Web API work; the app-level token only opened the link.
    assert all(c.error != "not_allowed_token_type" for c in stack.double.calls)


@BOTH
async def test_the_ack_is_sent_before_the_modal_is_opened(stack: Stack) -> None:
    held = stack.double.hold("views.open")
    # Were the ack waiting for views.open, it would never come: views.open answers only once released.
    response = await stack.alice.slash_command(Command.RECOVER.value, "", channel_id=stack.support)
    assert response.status == 200 and not response.timed_out and not response.body
    assert stack.double.calls_to("views.open") == []
    held.set()
    await stack.settle()
    assert stack.alice.current_view()["callback_id"] == "report_failure"


async def test_an_event_delivered_again_is_handled_once(stack: Stack) -> None:
    seen = count_mentions(stack.mend)
    first = await stack.sender.send_event(mention(stack), event_id="Ev0SOCKET1")
    again = [
        await stack.sender.send_event(
            mention(stack), event_id="Ev0SOCKET1", retry_num=n, retry_reason="timeout"
        )
        for n in (1, 2)
    ]
    other = await stack.sender.send_event(mention(stack), event_id="Ev0SOCKET2")
    assert [r.status for r in (first, *again, other)] == [200] * 4
    assert seen == ["Ev0SOCKET1", "Ev0SOCKET2"]
    envelopes = stack.double.socket_mode.envelopes
    assert [(e.type, e.retry_attempt, e.retry_reason) for e in envelopes] == [
        ("events_api", 0, ""),
        ("events_api", 1, "timeout"),
        ("events_api", 2, "timeout"),
        ("events_api", 0, ""),
    ]
    assert all(e.acked and not e.accepts_response_payload for e in envelopes)


async def test_field_errors_come_back_in_the_ack_payload(stack: Stack) -> None:
    await open_report(stack)
    refused = await stack.alice.submit_view({**REPORT, ReportBlock.SUMMARY.value: "  \n "})
    assert set(refused.field_errors) == {ReportBlock.SUMMARY.value}
    envelope = stack.double.socket_mode.envelopes[-1]
    assert envelope.accepts_response_payload and envelope.envelope_id == refused.envelope_id
    assert envelope.ack is not None and envelope.ack["payload"]["response_action"] == "errors"
    assert stack.alice.current_view()["callback_id"] == "report_failure"  # still open, words kept
    assert await stack.count_cases() == 0
    accepted = await stack.alice.submit_view(REPORT)
    assert accepted.status == 200 and accepted.body is None  # a bare ack closes the modal
    assert stack.double.open_views(stack.alice.id) == []
    await stack.settle()
    assert await stack.count_cases() == 1


async def test_a_refused_click_is_explained_by_the_error_policy(stack: Stack) -> None:
    row = await stack.report_case()
    response = await stack.alice.click(StepAction.CLOSE_CASE.value)
    assert response.status == 200
    await stack.settle()
    [notice] = [e for e in stack.double.ephemerals(user_id=stack.alice.id) if "can't be closed" in e.text]
    assert "Acknowledge and apologize" in notice.text
    [case] = await stack.case_rows()
    assert (case.id, case.state) == (row.id, "open")


@BOTH
async def test_a_listener_that_fails_is_told_by_the_error_policy(stack: Stack) -> None:
    async def failing(ack: Any) -> None:
        await ack()
        raise RuntimeError("the listener broke")

    stack.mend.bolt.command("/mend-probe")(failing)
    stack.sender.ack_timeout = 2.0  # a failed listener is not acked with a 200, over either transport
    await stack.alice.slash_command("/mend-probe", "", channel_id=stack.support)
    told = await stack.double.wait_for(
        lambda: [e for e in stack.double.ephemerals(user_id=stack.alice.id) if "went wrong" in e.text],
        within=5,
    )
    assert "ref `" in told[0].text and "Traceback" not in told[0].text and "broke" not in told[0].text


MALFORMED: list[tuple[str, Any]] = [
    ("interactive", {"type": "block_actions", "actions": []}),
    ("interactive", {"type": "block_actions", "user": 5, "actions": [{"action_id": 1}]}),
    ("interactive", {"type": "view_submission", "view": "not a view"}),
    ("interactive", {"type": "view_submission"}),
    ("events_api", {"type": "event_callback", "event": "app_uninstalled"}),
    ("events_api", {"type": "event_callback", "event": {"type": "message", "user": []}}),
    ("slash_commands", {"command": 7, "text": "report"}),
    ("interactive", "not an object"),
    ("interactive", ["block_actions"]),
    ("events_api", None),
]


async def test_malformed_envelopes_are_acked_and_change_nothing(stack: Stack) -> None:
    calls_before = len(stack.double.calls)
    for kind, payload in MALFORMED:
        response = await stack.sender.send_envelope(kind, payload)
        assert response.status == 200 and not response.timed_out, (kind, payload)
    await stack.settle()
    assert len(stack.double.calls) == calls_before  # nothing was posted, opened or looked up
    assert stack.double.ephemerals() == [] and await stack.count_cases() == 0
    workspace = await stack.mend.workspaces.get(stack.double.team_id)
    assert workspace is None or workspace.status.value == "active"
    # The link is still good for a real request.
    await open_report(stack)


async def test_what_nothing_handles_is_acked(stack: Stack) -> None:
    unknown_click = {
        "type": "block_actions",
        "user": {"id": stack.alice.id, "team_id": stack.double.team_id},
        "team": {"id": stack.double.team_id},
        "actions": [{"type": "button", "action_id": "open_docs_link", "block_id": "b", "action_ts": "1"}],
    }
    reaction = {"type": "reaction_added", "user": stack.alice.id, "reaction": "tada", "event_ts": "1.2"}
    for response in (
        await stack.sender.post_interaction(unknown_click),
        await stack.sender.send_event(reaction),
    ):
        assert response.status == 200 and not response.timed_out and response.body is None
    await stack.settle()
    assert stack.double.ephemerals() == []


@pytest.mark.parametrize("reason", ["refresh_requested", "warning"])
async def test_a_disconnect_then_reconnect_loses_no_request(stack: Stack, reason: str) -> None:
    seen = count_mentions(stack.mend)
    [old] = stack.double.socket_mode.links
    await stack.double.socket_mode.disconnect(reason)  # type: ignore[arg-type]
    # Sent at once: they wait for the new link, since Slack sends nothing more down a link told to go.
    responses = await asyncio.gather(
        stack.alice.slash_command(Command.RECOVER.value, "", channel_id=stack.support),
        *(stack.sender.send_event(mention(stack), event_id=f"Ev0REFRESH{n}") for n in range(3)),
    )
    assert all(r.status == 200 and not r.timed_out for r in responses)
    new = await stack.double.socket_mode.wait_for_links(opened=2)
    assert {e.link_id for e in stack.double.socket_mode.envelopes} == {new.id}
    assert sorted(seen) == ["Ev0REFRESH0", "Ev0REFRESH1", "Ev0REFRESH2"]
    # Mend closed the old link itself, well before Slack would have.
    await stack.double.wait_for(lambda: old.closed, within=5)
    assert len(stack.double.calls_to("apps.connections.open")) == 2
    await stack.settle()
    submitted = await stack.alice.submit_view(REPORT)
    assert submitted.field_errors == {}
    await stack.settle()
    assert await stack.count_cases() == 1


async def test_a_dropped_link_is_reopened_and_loses_no_request(stack: Stack) -> None:
    await stack.double.socket_mode.drop()  # no disconnect message: the network just went
    response = await stack.alice.slash_command(Command.RECOVER.value, "", channel_id=stack.support)
    assert response.status == 200 and not response.timed_out
    await stack.settle()
    assert stack.alice.current_view()["callback_id"] == "report_failure"
    assert len(stack.double.socket_mode.links) == 2


async def test_the_message_shortcut_works_over_the_link(stack: Stack) -> None:
    message = stack.double.post_as_user(stack.alice.id, stack.support, "The order arrived cold")
    response = await stack.alice.message_shortcut(Shortcut.START_RECOVERY.value, stack.support, message["ts"])
    assert response.status == 200 and not response.timed_out
    assert not stack.double.socket_mode.envelopes[-1].accepts_response_payload
    await stack.settle()
    view = stack.alice.current_view()
    assert view["callback_id"] == "report_failure" and "arrived cold" in str(view["blocks"])


async def test_the_app_process_serves_over_socket_mode_and_stops_on_sigterm(
    database_url: str, unused_tcp_port: int, tmp_path: Path
) -> None:
    """`python app.py` with SLACK_APP_TOKEN: SLACK_API_URL alone points its Socket Mode link at the double."""
    async with SlackDouble(seed=3) as double:
        alice = double.add_user("alice")
        support = double.add_channel("support", members=[alice])
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
        env.update(
            SLACK_BOT_TOKEN=double.bot_token,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_APP_TOKEN=double.app_token,
            SLACK_API_URL=double.api_url,
            DATABASE_URL=database_url,
            PORT=str(unused_tcp_port),
            # One poller tick, at start-up; SIGTERM lets a running tick finish (runtime/scheduler.py).
            FOLLOW_UP_POLL="1h",
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "app.py"),
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        lines: list[str] = []

        async def read_log() -> None:
            assert process.stderr is not None
            async for line in process.stderr:
                lines.append(line.decode())

        reader = asyncio.create_task(read_log())
        try:
            link = await double.socket_mode.wait_for_links(opened=1, within=60)
            async with SlackSender(
                "http://unused", SIGNING_SECRET, double, ack_timeout=10, transport="socket"
            ) as slack:
                response = await slack.person(alice).slash_command(
                    Command.RECOVER.value, "", channel_id=support
                )
            assert response.status == 200 and not response.timed_out
            await double.wait_for(lambda: double.open_views(alice), within=10)
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):  # a hang is killed below and fails with the log
                await asyncio.wait_for(process.wait(), 60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        await reader
        log = "".join(lines)
        assert process.returncode == 0, log
        assert "Connected to Slack in Socket Mode" in log and double.app_token not in log
        assert "mend.socket_mode" not in "".join(line for line in log.splitlines() if " ERROR " in line), log
        await double.wait_for(lambda: link.closed, within=10)
