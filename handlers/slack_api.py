"""Talking to Slack's Web API safely: bounded retries that never repeat a post, post-exactly-once, and the one
policy for a failed redraw."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
from bot.followups import NotPosted, OutcomeUnknown
from handlers.blocks.text import channel_mention
from handlers.people import SlackPeople

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
# views.open's answers for a trigger it won't take (too old: Slack's 3 seconds; used already, as by a click
# delivered twice; not one Slack issued), and what the person who clicked is told.
TRIGGER_ERRORS = {
    "expired_trigger_id": "Slack took too long to open the form. Please {again}.",
    "exchanged_trigger_id": "Slack opens a form once per click, and this click was used already. If the "
    "form isn't open, please {again}.",
    "invalid_trigger_id": "Slack didn't recognise that click, so the form didn't open. Please {again}.",
}
# Refusals that no retry will change.
PERMANENT_ERRORS = frozenset(
    {"channel_not_found", "is_archived", "account_inactive", "invalid_auth", "not_authed", "msg_too_long"}
)


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
#: Pages of history searched for a post whose outcome is unknown, before giving up on knowing.
RECONCILE_PAGES = 5


class SlackRefused(NotPosted):
    """Slack answered, and said no (a 4xx error code, 429 once the retries are spent, or no channel to join)."""

    def __init__(
        self, code: str, *, status: int = 0, retry_after: float | None = None, permanent: bool = False
    ) -> None:
        super().__init__(f"Slack refused it: {code or status}", retry_after=retry_after, permanent=permanent)
        self.code = code
        self.status = status


class RedrawFailed(SlackUnavailable):
    """A message showing a saved change could not be redrawn. The change stands; whatever draws that message
    next (the catch-up for cases, the next sync for amends, the next change for nudges and alerts) shows it,
    so the error policy logs this and tells nobody."""


def _block_dicts(blocks: Sequence[Block | dict[str, Any]]) -> list[dict[str, Any]]:
    return [b.to_dict() if isinstance(b, Block) else b for b in blocks]


async def redraw(
    client: AsyncWebClient, ref: MessageRef, text: str, blocks: Sequence[Block | dict[str, Any]]
) -> None:
    """chat.update under the one policy for a failed update (see RedrawFailed)."""
    try:
        await client.chat_update(channel=ref.channel_id, ts=ref.ts, text=text, blocks=_block_dicts(blocks))
    except SlackApiError as exc:
        raise RedrawFailed(f"Slack refused to update {ref.channel_id}/{ref.ts}: {error_code(exc)}") from exc
    except AMBIGUOUS as exc:
        raise RedrawFailed(f"Slack did not answer an update of {ref.channel_id}/{ref.ts}") from exc


@dataclass(frozen=True)
class Keyed:
    """A message Mend posts exactly once: where it goes, and the metadata that names it there."""

    channel_id: str
    event_type: str
    key: str
    thread_ts: str | None = None

    @classmethod
    def to(cls, where: str | MessageRef, event_type: str, key: str) -> Keyed:
        """`where` is a channel (a person's id for Mend's DM with them) or a message to reply under."""
        if isinstance(where, MessageRef):
            return cls(where.channel_id, event_type, key, thread_ts=where.ts)
        return cls(where, event_type, key)

    def names(self, message: dict[str, Any]) -> bool:
        meta = message.get("metadata") or {}
        return (
            meta.get("event_type") == self.event_type
            and (meta.get("event_payload") or {}).get("key") == self.key
        )


class ExactlyOnce:
    """The one post-exactly-once: each message carries metadata naming it (`Keyed`), one attempt classifies
    its outcome (posted, certainly not posted, unknown), and an unknown outcome is settled by looking for
    the key in the conversation's history, every page of it, before anything is posted again.

    `client` posts; `lookup` (the retrying client: reads and joins are safe to repeat) searches and joins.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        lookup: AsyncWebClient | None = None,
        *,
        pace: Callable[[str], None] | None = None,
        pages: int = RECONCILE_PAGES,
    ) -> None:
        self._client = client
        self._lookup = lookup or client
        self._pace = pace
        self._pages = pages

    async def post(self, message: Keyed, text: str, blocks: Sequence[Block | dict[str, Any]]) -> MessageRef:
        """One post (and one more after joining a public channel Mend is not in yet).

        Raises SlackRefused or NotPosted when it certainly did not land, OutcomeUnknown when it may have.
        """
        metadata = {"event_type": message.event_type, "event_payload": {"key": message.key}}
        payload = _block_dicts(blocks) or None
        channel_id = message.channel_id
        joined = False
        while True:
            if self._pace is not None:
                self._pace(channel_id)
            try:
                resp = await self._client.chat_postMessage(
                    channel=channel_id,
                    text=text,
                    blocks=payload,
                    metadata=metadata,
                    thread_ts=message.thread_ts,
                )
                return MessageRef(channel_id=str(resp["channel"]), ts=str(resp["ts"]))
            except SlackApiError as exc:
                status = getattr(exc.response, "status_code", 0) or 0
                code = error_code(exc)
                if status >= 500:
                    raise OutcomeUnknown(f"Slack answered {status}") from exc
                if code == "not_in_channel" and not joined:
                    joined = True
                    await self._join(channel_id)
                    continue
                retry_after = None
                if status == 429:
                    headers = dict(getattr(exc.response, "headers", {}) or {})
                    retry_after = retry_after_seconds(headers, 1.0)
                raise SlackRefused(
                    code, status=status, retry_after=retry_after, permanent=code in PERMANENT_ERRORS
                ) from exc
            except aiohttp.ClientConnectorError as exc:
                raise NotPosted(f"could not reach Slack: {exc}") from exc  # nothing was sent
            except AMBIGUOUS as exc:
                raise OutcomeUnknown(type(exc).__name__) from exc

    async def _join(self, channel_id: str) -> None:
        try:
            await self._lookup.conversations_join(channel=channel_id)
        except SlackApiError as exc:
            raise SlackRefused("not_in_channel", permanent=True) from exc
        except AMBIGUOUS as exc:
            raise NotPosted(f"could not join {channel_id}: {type(exc).__name__}") from exc

    async def find(self, message: Keyed, oldest: float) -> MessageRef | None:
        """The message posted with this key since `oldest`, or None; failing to look is OutcomeUnknown."""
        page: dict[str, Any] = {
            "channel": message.channel_id,
            "oldest": f"{max(oldest, 0):.6f}",
            "limit": 200,
        }
        try:
            for _ in range(self._pages):
                if message.thread_ts:
                    resp = await self._lookup.conversations_replies(
                        ts=message.thread_ts, include_all_metadata=True, **page
                    )
                else:
                    resp = await self._lookup.conversations_history(include_all_metadata=True, **page)
                found = next((m for m in resp.get("messages") or [] if message.names(m)), None)
                if found is not None:
                    return MessageRef(channel_id=message.channel_id, ts=str(found["ts"]))
                page["cursor"] = (resp.get("response_metadata") or {}).get("next_cursor") or None
                if not page["cursor"]:
                    return None
        except (SlackApiError, *AMBIGUOUS) as exc:
            raise OutcomeUnknown(f"could not check whether it was posted: {exc}") from exc
        raise OutcomeUnknown("too much history to check whether it was posted")


class SlackPoster:
    """Mend's Web API calls for listeners and notifiers: posts that never show twice, redraws under one
    policy, messages to one person, modals."""

    def __init__(self, client: AsyncWebClient, *, attempts: int = 4, backoff: float = 0.5) -> None:
        self.client = client
        self.once = ExactlyOnce(client)
        #: Who a user id is (users.info): every picker, the approvers' directory, nudges' time zones.
        self.people = SlackPeople(client)
        self._attempts = attempts
        self._backoff = backoff

    async def post_once(
        self, to: str | MessageRef, text: str, blocks: Sequence[Block], *, event_type: str, key: str
    ) -> MessageRef:
        """Post `to` a channel or under a message, trying again after failures; after an unknown outcome,
        only once the history says it is not there (never on a guess)."""
        message = Keyed.to(to, event_type, key)
        started = time.time() - 5  # a little slack for clock skew between us and Slack
        unsure = False
        for attempt in range(self._attempts + 1):
            if attempt:
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
            try:
                if unsure:
                    found = await self.once.find(message, started)
                    if found is not None:
                        return found
                    unsure = False
                if attempt == self._attempts:
                    break
                return await self.once.post(message, text, blocks)
            except SlackRefused as exc:
                raise SlackUnavailable(explain_post_error(exc.code, message.channel_id)) from exc
            except NotPosted:
                continue  # nothing reached Slack; try again
            except OutcomeUnknown:
                log.warning("Slack post %s/%s: outcome unknown; checking whether it landed", event_type, key)
                unsure = True
        raise SlackUnavailable("Slack isn't answering right now; Mend will post this as soon as it does.")

    async def update(self, ref: MessageRef, text: str, blocks: Sequence[Block]) -> None:
        await redraw(self.client, ref, text, blocks)

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
        """views.open; a missing, used, expired or refused trigger (Slack's 3 seconds) is told to the person."""
        if not trigger_id:
            raise MendError(TRIGGER_ERRORS["expired_trigger_id"].format(again=again))
        try:
            await self.client.views_open(trigger_id=str(trigger_id), view=view)
        except SlackApiError as exc:
            told = TRIGGER_ERRORS.get(error_code(exc))
            if told is None:
                raise
            log.info("views.open refused the trigger (%s); the person is asked again", error_code(exc))
            raise MendError(told.format(again=again)) from exc

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
            f"I can't post in {channel_mention(channel_id)}. Invite me there with `/invite @Mend`, "
            "or ask an admin to set RECOVERY_CHANNEL to a channel I'm in."
        )
    if code == "is_archived":
        return f"{channel_mention(channel_id)} is archived, so I can't post the case there."
    return f"Slack refused the message ({code or 'unknown error'})."
