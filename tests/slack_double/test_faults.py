"""Injected faults look to slack_sdk exactly like Slack's own bad days."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient

from slack_double import SlackDouble


async def test_ratelimited_carries_retry_after(double: SlackDouble, client: AsyncWebClient) -> None:
    channel = double.add_channel("ops")
    double.faults.add(method="chat.postMessage", kind="ratelimited", retry_after=7)

    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel=channel, text="x")
    await client.chat_postMessage(channel=channel, text="y")  # times=1: the next call goes through

    assert info.value.response.status_code == 429
    assert info.value.response.headers["Retry-After"] == "7"
    assert info.value.response["error"] == "ratelimited"
    assert [m["text"] for m in double.messages(channel)] == ["y"]
    assert double.ratelimited["chat.postMessage"] == 1 == double.ratelimited_total


async def test_server_error_only_on_the_chosen_method(double: SlackDouble, client: AsyncWebClient) -> None:
    channel = double.add_channel("ops")
    double.faults.add(method="chat.update", kind="server_error", status=503, times=None)

    await client.chat_postMessage(channel=channel, text="x")
    for _ in range(2):
        with pytest.raises(SlackApiError) as info:
            await client.chat_update(channel=channel, ts=double.messages(channel)[0]["ts"], text="y")
        assert info.value.response.status_code == 503
    assert double.messages(channel)[0]["text"] == "x"


async def test_an_error_fault_is_slacks_ok_false_refusal(double: SlackDouble, client: AsyncWebClient) -> None:
    alice = double.add_user("alice")
    double.faults.add(method="views.open", kind="error", error="exchanged_trigger_id")
    view = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": [{"type": "divider"}]}

    with pytest.raises(SlackApiError) as info:
        await client.views_open(trigger_id=double.issue_trigger_id(alice), view=view)
    opened = await client.views_open(trigger_id=double.issue_trigger_id(alice), view=view)  # times=1

    assert (info.value.response.status_code, info.value.response.data) == (
        200,
        {"ok": False, "error": "exchanged_trigger_id"},
    )
    assert double.open_views(alice) == [opened["view"]]
    refused = double.calls_to("views.open")[0]
    assert (refused.ok, refused.error, refused.fault) == (False, "exchanged_trigger_id", "error")


async def test_timeout_outlasts_the_client(double: SlackDouble) -> None:
    channel = double.add_channel("ops")
    # slack_sdk annotates timeout as int, but aiohttp (which enforces it) takes fractions of a second.
    impatient = AsyncWebClient(
        token=double.bot_token,
        base_url=double.api_url,
        timeout=0.2,  # type: ignore[arg-type]
        retry_handlers=[],
    )
    double.faults.add(method="chat.postMessage", kind="timeout", delay=1.0, applied=True)

    with pytest.raises(TimeoutError):
        await impatient.chat_postMessage(channel=channel, text="slow")

    # applied=True: Slack posted it even though the client gave up waiting.
    assert [m["text"] for m in double.messages(channel)] == ["slow"]


@pytest.mark.parametrize(("applied", "posted"), [(True, ["once"]), (False, [])])
async def test_disconnect_before_or_after_applying(
    double: SlackDouble, client: AsyncWebClient, applied: bool, posted: list[str]
) -> None:
    channel = double.add_channel("ops")
    double.faults.add(method="chat.postMessage", kind="disconnect", applied=applied)

    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.chat_postMessage(channel=channel, text="once")

    assert [m["text"] for m in double.messages(channel)] == posted
    [call] = double.calls_to("chat.postMessage")
    assert (call.fault, call.applied, call.ok) == ("disconnect", applied, False)


async def test_disconnect_after_applying_duplicates_under_slack_sdks_default_retry(
    double: SlackDouble,
) -> None:
    """The ambiguous case idempotency has to handle: slack_sdk retries connection errors once by default."""
    channel = double.add_channel("ops")
    retrying = AsyncWebClient(
        token=double.bot_token,
        base_url=double.api_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(interval_calculator=FixedValueRetryIntervalCalculator(0.01))
        ],
    )
    double.faults.add(method="chat.postMessage", kind="disconnect", applied=True)

    await retrying.chat_postMessage(channel=channel, text="hello")

    assert [m["text"] for m in double.messages(channel)] == ["hello", "hello"]


async def test_probability_is_reproducible_with_a_seed(double: SlackDouble, client: AsyncWebClient) -> None:
    def outcomes(seed: int) -> list[bool]:
        double.faults.clear()
        double.faults.add(kind="server_error", times=None, probability=0.5, seed=seed)
        return [double.faults.pick("auth.test") is not None for _ in range(40)]

    first, again = outcomes(3), outcomes(3)
    assert first == again and 5 < sum(first) < 35


async def test_per_channel_post_rate(double: SlackDouble, client: AsyncWebClient) -> None:
    ops, support = double.add_channel("ops"), double.add_channel("support")
    double.enforce_post_rate(per_second=1.0, burst=2)

    await client.chat_postMessage(channel=ops, text="1")
    await client.chat_postMessage(channel=ops, text="2")
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel=ops, text="3")
    await client.chat_postMessage(channel=support, text="other channel, own bucket")
    double.clock.advance(1.0)
    await client.chat_postMessage(channel=ops, text="3 again")

    assert info.value.response.status_code == 429
    assert int(info.value.response.headers["Retry-After"]) >= 1
    assert [m["text"] for m in double.messages(ops)] == ["1", "2", "3 again"]
    assert double.ratelimited_total == 1


def test_unknown_fault_kind_is_refused(double: SlackDouble) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        double.faults.add(kind="flood")  # type: ignore[arg-type]
