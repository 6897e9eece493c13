"""Talking to Slack's Web API safely: bounded retries that never repeat a post, and post-exactly-once."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.cases import MessageRef
from bot.errors import MendError, SlackUnavailable

log = logging.getLogger(__name__)

# Methods that change nothing, or whose repetition lands in the same state, may be retried after any
# failure. Everything else (chat.postMessage above all) may have taken effect before the error reached us.
IDEMPOTENT_METHODS = frozenset(
    {
        "auth.test",
        "team.info",
        "users.info",
        "conversations.info",
        "conversations.history",
        "conversations.replies",
        "conversations.join",
        "chat.getPermalink",
        "chat.update",
        "chat.delete",
        "views.update",
        "views.publish",
        "usergroups.users.list",
        "reactions.add",
    }
)
RETRYABLE_STATUS = frozenset({500, 502, 503, 504})


def method_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]


class SlackRetryPolicy(AsyncRetryHandler):
    """One retry policy for every Web API call.

    - 429: wait `Retry-After` (capped) and try again; Slack did not process the call.
    - Could not connect at all: try again; nothing reached Slack.
    - 5xx, a dropped connection or a timeout: try again only for idempotent methods.
    """

    def __init__(self, max_retry_count: int = 4, base_delay: float = 0.25, max_wait: float = 30.0) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.base_delay = base_delay
        self.max_wait = max_wait

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None:
            if response.status_code == 429:
                return True
            return response.status_code in RETRYABLE_STATUS and method_of(request.url) in IDEMPOTENT_METHODS
        if isinstance(error, aiohttp.ClientConnectorError):
            return True
        if isinstance(error, aiohttp.ClientError | asyncio.TimeoutError):
            return method_of(request.url) in IDEMPOTENT_METHODS
        return False

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        delay = self.base_delay * (2**state.current_attempt) * (1 + random.random() / 4)
        if response is not None and response.status_code == 429:
            delay = retry_after_seconds(response.headers, default=1.0)
        state.next_attempt_requested = True
        await asyncio.sleep(min(delay, self.max_wait))
        state.increment_current_attempt()


def retry_after_seconds(headers: dict[str, Any], default: float) -> float:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(float(raw), 0.0)
            except (TypeError, ValueError):
                return default
    return default


WEB_API_TIMEOUT_SECONDS = 10


def make_web_client(
    token: str, base_url: str, *, retry_posts: bool = True, timeout: int = WEB_API_TIMEOUT_SECONDS
) -> AsyncWebClient:
    """The Web API client; `retry_posts=False` gives one that never retries at all (the follow-up outbox
    classifies every failure itself and paces 429s per channel)."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[SlackRetryPolicy()] if retry_posts else [],
    )


def new_http_session() -> aiohttp.ClientSession:
    """A pooled session for the Web API client; it must be made inside the running event loop."""
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=WEB_API_TIMEOUT_SECONDS),
        connector=aiohttp.TCPConnector(limit=100, keepalive_timeout=60),
    )


def error_code(exc: SlackApiError) -> str:
    data = getattr(exc.response, "data", None)
    return str(data.get("error", "")) if isinstance(data, dict) else ""


AMBIGUOUS = (aiohttp.ClientError, asyncio.TimeoutError)


class SlackPoster:
    """Posts messages so that a retry after an ambiguous failure never shows the same message twice.

    Each message Mend must post once carries message metadata naming it (`event_type` + a key). When a
    post fails in a way that may still have landed (5xx, dropped connection, timeout), the channel's recent
    history is searched for that metadata before trying again.
    """

    def __init__(self, client: AsyncWebClient, *, attempts: int = 4, backoff: float = 0.5) -> None:
        self.client = client
        self._attempts = attempts
        self._backoff = backoff

    async def post_once(
        self,
        *,
        channel_id: str,
        text: str,
        blocks: Sequence[Block],
        event_type: str,
        key: str,
        thread_ts: str | None = None,
    ) -> MessageRef:
        metadata = {"event_type": event_type, "event_payload": {"key": key}}
        payload = [b.to_dict() for b in blocks]
        started = time.time() - 5  # a little slack for clock skew between us and Slack
        joined = False
        for attempt in range(self._attempts):
            try:
                resp = await self.client.chat_postMessage(
                    channel=channel_id, text=text, blocks=payload, metadata=metadata, thread_ts=thread_ts
                )
                return MessageRef(channel_id=str(resp["channel"]), ts=str(resp["ts"]))
            except SlackApiError as exc:
                code = error_code(exc)
                if code == "not_in_channel" and not joined:
                    joined = True
                    await self._join(channel_id)
                    continue
                status = getattr(exc.response, "status_code", 0)
                if status not in RETRYABLE_STATUS:
                    raise SlackUnavailable(explain_post_error(code, channel_id)) from exc
            except AMBIGUOUS:
                log.warning(
                    "Slack post %s/%s failed ambiguously; checking whether it landed", event_type, key
                )
            found = await self._find_posted(channel_id, event_type, key, started, thread_ts)
            if found is not None:
                return found
            await asyncio.sleep(self._backoff * (2**attempt))
        raise SlackUnavailable("Slack isn't answering right now; Mend will post this as soon as it does.")

    async def _join(self, channel_id: str) -> None:
        try:
            await self.client.conversations_join(channel=channel_id)
        except SlackApiError as exc:
            raise SlackUnavailable(explain_post_error("not_in_channel", channel_id)) from exc

    async def _find_posted(
        self, channel_id: str, event_type: str, key: str, since: float, thread_ts: str | None
    ) -> MessageRef | None:
        try:
            if thread_ts:
                resp = await self.client.conversations_replies(
                    channel=channel_id,
                    ts=thread_ts,
                    oldest=f"{since:.6f}",
                    include_all_metadata=True,
                    limit=200,
                )
            else:
                resp = await self.client.conversations_history(
                    channel=channel_id, oldest=f"{since:.6f}", include_all_metadata=True, limit=200
                )
        except (SlackApiError, *AMBIGUOUS):
            return None
        for message in resp.get("messages") or []:
            meta = message.get("metadata") or {}
            if meta.get("event_type") == event_type and (meta.get("event_payload") or {}).get("key") == key:
                return MessageRef(channel_id=channel_id, ts=str(message["ts"]))
        return None

    async def tell_user(
        self, *, user_id: str, channel_id: str | None, text: str, blocks: Sequence[Block]
    ) -> None:
        """Show a message to one person: ephemeral where they are, or in Mend's DM when that is not possible."""
        payload = [b.to_dict() for b in blocks]
        if channel_id:
            try:
                await self.client.chat_postEphemeral(
                    channel=channel_id, user=user_id, text=text, blocks=payload
                )
                return
            except SlackApiError as exc:
                log.info(
                    "ephemeral to %s in %s refused (%s); sending a DM", user_id, channel_id, error_code(exc)
                )
        await self.client.chat_postMessage(channel=user_id, text=text, blocks=payload)

    async def open_modal(self, trigger_id: Any, view: Any, *, again: str = "click the button again") -> None:
        """views.open; a missing, used or expired trigger (Slack's 3 seconds) is told to the person."""
        message = f"Slack took too long to open the form. Please {again}."
        if not trigger_id:
            raise MendError(message)
        try:
            await self.client.views_open(trigger_id=str(trigger_id), view=view)
        except SlackApiError as exc:
            if error_code(exc) in {"expired_trigger_id", "invalid_trigger_id"}:
                raise MendError(message) from exc
            raise

    async def permalink(self, channel_id: str, ts: str) -> str | None:
        try:
            resp = await self.client.chat_getPermalink(channel=channel_id, message_ts=ts)
        except (SlackApiError, *AMBIGUOUS):
            return None
        link = resp.get("permalink")
        return str(link) if link else None


def explain_post_error(code: str, channel_id: str) -> str:
    if code in {"not_in_channel", "channel_not_found", "method_not_supported_for_channel_type"}:
        return (
            f"I can't post in <#{channel_id}>. Invite me there with `/invite @Mend`, "
            "or ask an admin to set RECOVERY_CHANNEL to a channel I'm in."
        )
    if code == "is_archived":
        return f"<#{channel_id}> is archived, so I can't post the case there."
    return f"Slack refused the message ({code or 'unknown error'})."
