"""Follow-up delivery: one post per attempt, paced per channel, through the one post-exactly-once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime

from slack_sdk.web.async_client import AsyncWebClient

from bot.cases import MessageRef
from bot.followups import OutgoingMessage
from handlers.ids import MessageMetadata
from handlers.slack_api import ExactlyOnce, Keyed, SlackRefused, redraw

#: Slack allows about one chat.postMessage per second per channel; a hair more keeps network jitter from
#: turning the floor into 429s.
POST_INTERVAL_SECONDS = 1.02


class ChannelPacer:
    """At most one post per channel per interval in this process, and a pause after Slack's Retry-After."""

    def __init__(self, interval: float = POST_INTERVAL_SECONDS) -> None:
        self.interval = interval
        self._next: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def turn(self, channel_id: str) -> AsyncIterator[None]:
        """Wait until the channel may take a post, and keep others for it waiting while this one decides."""
        loop = asyncio.get_running_loop()
        lock = self._locks.setdefault(channel_id, asyncio.Lock())
        async with lock:
            wait = self._next.get(channel_id, 0.0) - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            yield

    def posting(self, channel_id: str) -> None:
        """A post is going out now: the next one waits an interval (a turn that posted nothing costs none)."""
        loop = asyncio.get_running_loop()
        self._next[channel_id] = max(self._next.get(channel_id, 0.0), loop.time() + self.interval)

    def pause(self, channel_id: str, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self._next[channel_id] = max(self._next.get(channel_id, 0.0), loop.time() + seconds)


class SlackFollowUpMessenger:
    """Implements FollowUpMessenger: one chat.postMessage per attempt (its client never retries a post),
    every outcome classified as posted, certainly not posted, or unknown; the engine reconciles unknown
    ones with `find` before anything is posted again."""

    def __init__(
        self, client: AsyncWebClient, updater: AsyncWebClient, pacer: ChannelPacer | None = None
    ) -> None:
        # `client` has no retry handlers, so every failure comes back here to be classified; `updater` is
        # the ordinary client, whose policy retries the idempotent reads, joins and updates.
        self._updater = updater
        self.pacer = pacer or ChannelPacer()
        self._once = ExactlyOnce(client, updater, pace=self.pacer.posting)
        self.ratelimited = 0

    def turn(self, channel_id: str) -> AbstractAsyncContextManager[None]:
        return self.pacer.turn(channel_id)

    async def post(
        self, channel_id: str, thread_ts: str | None, message: OutgoingMessage, key: str
    ) -> MessageRef:
        try:
            return await self._once.post(_keyed(channel_id, thread_ts, key), message.text, message.blocks)
        except SlackRefused as exc:
            if exc.status == 429:
                self.ratelimited += 1
                self.pacer.pause(channel_id, exc.retry_after or 1.0)
            raise

    async def find(
        self, channel_id: str, thread_ts: str | None, key: str, since: datetime
    ) -> MessageRef | None:
        return await self._once.find(_keyed(channel_id, thread_ts, key), since.timestamp())

    async def update(self, ref: MessageRef, message: OutgoingMessage) -> None:
        await redraw(self._updater, ref, message.text, message.blocks)


def _keyed(channel_id: str, thread_ts: str | None, key: str) -> Keyed:
    return Keyed(channel_id, MessageMetadata.FOLLOW_UP.value, key, thread_ts=thread_ts)
