"""Post-exactly-once and the redraw policy, against the Slack double."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.cases import MessageRef
from bot.followups import OutcomeUnknown
from handlers.errors import ErrorPolicy
from handlers.slack_api import ExactlyOnce, Keyed, RedrawFailed, SlackPoster, redraw
from slack_double import SlackDouble


@pytest.fixture
async def double() -> AsyncIterator[SlackDouble]:
    async with SlackDouble(seed=7) as running:
        yield running


@pytest.fixture
def client(double: SlackDouble) -> AsyncWebClient:
    return AsyncWebClient(token=double.bot_token, base_url=double.api_url, retry_handlers=[])


async def busy_channel(double: SlackDouble, client: AsyncWebClient, message: Keyed) -> str:
    """A channel where Mend's message was followed by 450 others: it is on the third page of history."""
    alice = double.add_user("alice")
    channel = double.add_channel("busy", members=[alice])
    posted = await client.chat_postMessage(
        channel=channel,
        text="card",
        metadata={"event_type": message.event_type, "event_payload": {"key": message.key}},
    )
    for n in range(450):
        double.post_as_user(alice, channel, f"chatter {n}")
    return str(posted["ts"])


async def test_the_history_search_reads_every_page(double: SlackDouble, client: AsyncWebClient) -> None:
    message = Keyed("C0PLACEHOLDER", "mend_case_card", "42")
    ts = await busy_channel(double, client, message)
    channel = double.channel_id("busy")
    found = await ExactlyOnce(client).find(Keyed(channel, message.event_type, message.key), oldest=0)
    assert found == MessageRef(channel_id=channel, ts=ts)
    assert await ExactlyOnce(client).find(Keyed(channel, message.event_type, "43"), oldest=0) is None
    with pytest.raises(OutcomeUnknown):  # not sure it isn't there: nothing may be posted on that guess
        await ExactlyOnce(client, pages=2).find(Keyed(channel, message.event_type, "43"), oldest=0)


async def test_a_post_that_landed_behind_a_dropped_connection_is_found_not_repeated(
    double: SlackDouble, client: AsyncWebClient
) -> None:
    message = Keyed("C0PLACEHOLDER", "mend_case_card", "42")
    await busy_channel(double, client, message)
    channel = double.channel_id("busy")
    double.faults.add("chat.postMessage", "disconnect", times=1, applied=True)
    poster = SlackPoster(client, backoff=0.01)
    ref = await poster.post_once(channel, "card", [], event_type="mend_case_card", key="7")
    cards = [
        m for m in double.messages(channel) if (m.get("metadata") or {}).get("event_payload") == {"key": "7"}
    ]
    assert [c["ts"] for c in cards] == [ref.ts]


async def test_a_refused_redraw_is_logged_and_told_to_nobody(
    double: SlackDouble, client: AsyncWebClient
) -> None:
    channel = double.add_channel("ops")
    posted = await client.chat_postMessage(channel=channel, text="v1")
    double.faults.add("chat.update", "server_error", times=None, status=400)
    with pytest.raises(RedrawFailed) as failed:
        await redraw(client, MessageRef(channel_id=channel, ts=str(posted["ts"])), "v2", [])
    calls = len(double.calls)
    await ErrorPolicy(SlackPoster(client)).handle(failed.value, user_id="U0ALICE", channel_id=channel)
    assert double.calls[calls:] == []
