"""Events API deliveries are handled once, however often Slack retries them and whichever process gets them."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.deliveries import Deliveries
from bot.errors import StorageUnavailable
from handlers.interaction import Interaction

log = logging.getLogger(__name__)

# Slack's event ids look like "Ev0123ABCDEF"; anything else was not sent by Slack.
_EVENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class EventDeduplication:
    """A global Bolt middleware: an `event_callback` whose `event_id` was handled before is acked and dropped.

    Slack redelivers an event (with `X-Slack-Retry-Num`) when the ack was slow or lost, and a load balancer
    may hand the retry to another process; the shared delivery log decides which one handles it. The claim
    is made before the listener runs: an event is handled at most once.
    """

    def __init__(self, deliveries: Deliveries) -> None:
        self._deliveries = deliveries

    async def skip_repeated_events(
        self,
        body: dict[str, Any],
        request: AsyncBoltRequest,
        response: BoltResponse | None,
        next: Callable[[], Awaitable[None]],
    ) -> BoltResponse | None:
        # Bolt's next() only marks the chain as continued; the response so far is handed back unchanged.
        if not isinstance(body, dict) or body.get("type") != "event_callback":
            await next()
            return response
        event_id = body.get("event_id")
        if not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id):
            log.info("dropped an event without a usable event_id")
            return BoltResponse(status=200, body="")
        try:
            first = await self._deliveries.first_time(event_id, team_id=Interaction.from_body(body).team_id)
        except StorageUnavailable:
            # Without the log we can't tell a retry from a first delivery; Slack will deliver it again.
            log.warning("event %s: delivery log unreachable, asking Slack to retry", event_id)
            return BoltResponse(status=503, body="")
        if not first:
            retry = (request.headers.get("x-slack-retry-num") or ["?"])[0]
            log.info("event %s delivered again (retry %s): handled already, dropped", event_id, retry)
            return BoltResponse(status=200, body="")
        await next()
        return response
