"""The retry policy: what may be retried after which failure."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from handlers.slack_api import SlackRetryPolicy, method_of, retry_after_seconds


def request(method: str) -> HttpRequest:
    return HttpRequest(method="POST", url=f"https://slack.example/api/{method}", headers={})


def response(status: int, **headers: str) -> HttpResponse:
    return HttpResponse(status_code=status, headers=headers)


async def can_retry(method: str, *, status: int | None = None, error: Exception | None = None) -> bool:
    policy = SlackRetryPolicy(max_retry_count=3)
    return await policy.can_retry_async(
        state=RetryState(),
        request=request(method),
        response=response(status) if status is not None else None,
        error=error,
    )


@pytest.mark.parametrize("method", ["chat.postMessage", "chat.update", "views.open"])
async def test_rate_limited_calls_are_always_retried(method: str) -> None:
    assert await can_retry(method, status=429)


async def test_server_errors_retry_only_idempotent_methods() -> None:
    assert await can_retry("chat.update", status=503)
    assert await can_retry("users.info", status=500)
    assert not await can_retry("chat.postMessage", status=500)
    assert not await can_retry("chat.postEphemeral", status=502)
    assert not await can_retry("chat.update", status=400)


async def test_ambiguous_connection_errors_do_not_repeat_posts() -> None:
    dropped = aiohttp.ServerDisconnectedError()
    assert not await can_retry("chat.postMessage", error=dropped)
    assert not await can_retry("chat.postMessage", error=TimeoutError())
    assert await can_retry("chat.update", error=dropped)


async def test_retries_are_bounded() -> None:
    policy = SlackRetryPolicy(max_retry_count=2)
    state = RetryState(current_attempt=2)
    assert not await policy.can_retry_async(
        state=state, request=request("chat.update"), response=response(429)
    )


async def test_wait_honours_retry_after() -> None:
    policy = SlackRetryPolicy(max_wait=0.05)
    state = RetryState()
    loop = asyncio.get_running_loop()
    started = loop.time()
    await policy.prepare_for_next_attempt_async(
        state=state, request=request("chat.postMessage"), response=response(429, **{"Retry-After": "30"})
    )
    assert state.next_attempt_requested and state.current_attempt == 1
    assert loop.time() - started < 1.0  # capped by max_wait, not 30 s


def test_helpers() -> None:
    assert method_of("https://slack.com/api/chat.postMessage") == "chat.postMessage"
    assert retry_after_seconds({"retry-after": ["7"]}, default=1) == 7
    assert retry_after_seconds({"Retry-After": "soon"}, default=1.5) == 1.5
    assert retry_after_seconds({}, default=2) == 2
