"""End to end: retried Events API deliveries are handled once, also across processes; uninstall stops sends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from app import Mend, build
from bot.workspaces import InstallStatus
from slack_double.user import SlackSender
from tests.e2e.conftest import SIGNING_SECRET, Stack
from tests.e2e.test_report_case import REPORT, open_report
from tests.e2e.test_report_resilience import cards_in, database_down


def mention(stack: Stack) -> dict[str, Any]:
    return {
        "type": "app_mention",
        "user": stack.alice.id,
        "text": f"<@{stack.double.bot_user_id}> hello",
        "channel": stack.support,
        "ts": "1700000000.000100",
        "event_ts": "1700000000.000100",
    }


def count_mentions(mend: Mend) -> list[str]:
    """A listener that only counts: global middleware runs before every listener, this one included."""
    seen: list[str] = []

    async def counted(body: dict[str, Any]) -> None:
        seen.append(body["event_id"])

    mend.bolt.event("app_mention")(counted)
    return seen


@asynccontextmanager
async def second_process(stack: Stack) -> AsyncIterator[tuple[Mend, SlackSender]]:
    """Another Mend on the same database and Slack, as behind a load balancer."""
    other = build(stack.mend.settings)
    port = await other.start(host="127.0.0.1", port=0)
    sender = SlackSender(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET, stack.double)
    try:
        yield other, sender
    finally:
        await sender.close()
        await other.stop()


async def test_retried_deliveries_are_acked_and_handled_once(stack: Stack) -> None:
    seen = count_mentions(stack.mend)
    first = await stack.sender.send_event(mention(stack), event_id="Ev0RETRY1")
    retries = [
        await stack.sender.send_event(mention(stack), event_id="Ev0RETRY1", retry_num=n, retry_reason=reason)
        for n, reason in ((1, "http_timeout"), (2, "http_error"), (3, "http_timeout"))
    ]
    other = await stack.sender.send_event(mention(stack), event_id="Ev0OTHER1")
    assert [r.status for r in (first, *retries, other)] == [200] * 5
    assert seen == ["Ev0RETRY1", "Ev0OTHER1"]


async def test_two_processes_given_the_same_delivery_handle_it_once(stack: Stack) -> None:
    async with second_process(stack) as (other, other_sender):
        seen_here, seen_there = count_mentions(stack.mend), count_mentions(other)
        for n in range(10):
            event_id = f"Ev0TWICE{n:02d}"
            responses = await asyncio.gather(
                stack.sender.send_event(mention(stack), event_id=event_id),
                other_sender.send_event(mention(stack), event_id=event_id, retry_num=1),
            )
            assert [r.status for r in responses] == [200, 200]
        assert sorted(seen_here + seen_there) == [f"Ev0TWICE{n:02d}" for n in range(10)]


async def test_events_mend_does_not_handle_yet_are_still_acked_200(stack: Stack) -> None:
    # Slack counts anything but 2xx as a failed delivery, retries it, and disables subscriptions that fail.
    response = await stack.alice.open_home()
    assert (response.status, response.body) == (200, None)


async def test_events_without_a_usable_event_id_are_dropped(stack: Stack) -> None:
    seen = count_mentions(stack.mend)
    for bad in ("Ev 1", "x" * 65, "Ev\x001", "Ev0é"):
        response = await stack.sender.send_event(mention(stack), event_id=bad)
        assert response.status == 200
    assert seen == []


async def test_uninstall_stops_announcing_cases_and_a_confirmed_token_restarts_them(stack: Stack) -> None:
    view = await open_report(stack)
    response = await stack.sender.app_uninstalled()
    assert response.status == 200
    workspace = await stack.mend.workspaces.get(stack.double.team_id)
    assert workspace is not None and workspace.status is InstallStatus.UNINSTALLED
    # A submission that was already on its way: the case is kept, nothing is sent to the gone workspace.
    posts_before = len(stack.double.calls_to("chat.postMessage"))
    submitted = await stack.alice.submit_view(REPORT)
    assert submitted.status == 200 and submitted.field_errors == {}
    await stack.settle()
    [row] = await stack.case_rows()
    assert row.card_ts is None
    assert len(stack.double.calls_to("chat.postMessage")) == posts_before
    assert stack.double.ephemerals(user_id=stack.alice.id) == []
    assert view["callback_id"] == "report_failure"
    # Reinstalled (a new token) and restarted: Slack accepts the token, so the workspace is active again.
    async with second_process(stack) as (restarted, _):
        assert await restarted.workspaces.is_active(stack.double.team_id)
        await restarted.cases.announce(row.id)
    assert len(cards_in(stack, stack.recovery)) == 1  # type: ignore[arg-type]


async def test_revoked_user_tokens_change_nothing_a_revoked_bot_token_stops_sends(stack: Stack) -> None:
    team = stack.double.team_id
    response = await stack.sender.tokens_revoked(bot=[], oauth=[stack.alice.id])
    assert response.status == 200
    assert await stack.mend.workspaces.is_active(team)
    response = await stack.sender.tokens_revoked()
    assert response.status == 200
    workspace = await stack.mend.workspaces.get(team)
    assert workspace is not None and workspace.status is InstallStatus.TOKENS_REVOKED


async def test_malformed_lifecycle_events_are_ignored(stack: Stack) -> None:
    for event in (
        {"type": "tokens_revoked", "tokens": "all of them"},
        {"type": "tokens_revoked", "tokens": {"bot": "U0MENDBOT"}},
        {"type": "tokens_revoked"},
    ):
        assert (await stack.sender.send_event(event)).status == 200
    assert await stack.mend.workspaces.is_active(stack.double.team_id)


async def test_a_delivery_during_a_database_outage_is_left_for_slack_to_retry(
    stack: Stack, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        return  # a locked SQLite file makes the claim wait out its busy timeout instead; see test_database_blink
    seen = count_mentions(stack.mend)
    async with database_down(stack, database_url):
        refused = await stack.sender.send_event(mention(stack), event_id="Ev0OUTAGE")
    retried = await stack.sender.send_event(mention(stack), event_id="Ev0OUTAGE", retry_num=1)
    assert (refused.status, retried.status) == (503, 200)
    assert seen == ["Ev0OUTAGE"]


async def test_clicks_mend_does_not_handle_are_acked_200(stack: Stack) -> None:
    # Link buttons still send block_actions; a non-200 puts a warning sign on the button.
    payload = {
        "type": "block_actions",
        "user": {"id": stack.alice.id, "team_id": stack.double.team_id},
        "team": {"id": stack.double.team_id},
        "api_app_id": stack.double.app_id,
        "trigger_id": stack.double.issue_trigger_id(stack.alice.id),
        "container": {"type": "message", "channel_id": stack.support, "message_ts": "1.2"},
        "channel": {"id": stack.support},
        "actions": [{"type": "button", "action_id": "case_link", "block_id": "b", "action_ts": "1.3"}],
    }
    response = await stack.sender.post_interaction(payload)
    assert (response.status, response.body) == (200, None)
