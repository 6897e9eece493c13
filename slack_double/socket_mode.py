"""Socket Mode as Slack runs it: one-time WebSocket URLs, `hello`, envelopes acked by id, `disconnect`."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import WSMsgType, web

from slack_double.state import Clock, IdFactory, Json

EnvelopeType = Literal["slash_commands", "interactive", "events_api"]
DisconnectReason = Literal["warning", "refresh_requested", "link_disabled"]

LINK_PATH = "/link/"
# Slack sends `warning` about 10 seconds before it closes a link; the app is meant to reconnect meanwhile.
DISCONNECT_GRACE_SECONDS = 10.0
DEBUG_HOST = "applink-double-1"


@dataclass
class Link:
    """One WebSocket connection the app opened with a ticket from apps.connections.open."""

    id: str
    ticket: str
    ws: web.WebSocketResponse = field(repr=False)
    opened_at: float
    draining: bool = False  # told to disconnect: Slack sends it nothing new
    closed: bool = False
    sent: list[str] = field(default_factory=list)  # envelope ids, in order

    @property
    def live(self) -> bool:
        return not self.closed and not self.draining and not self.ws.closed


@dataclass
class Envelope:
    """One request Slack sent down a link, and the app's ack to it if one came."""

    envelope_id: str
    type: str
    payload: Any
    accepts_response_payload: bool
    retry_attempt: int
    retry_reason: str
    link_id: str
    sent_at: float
    ack: Json | None = None  # the whole ack message, as the app sent it
    acked_on: str | None = None  # the link the ack came back on

    @property
    def acked(self) -> bool:
        return self.ack is not None

    def to_message(self) -> Json:
        message: Json = {
            "envelope_id": self.envelope_id,
            "payload": self.payload,
            "type": self.type,
            "accepts_response_payload": self.accepts_response_payload,
        }
        if self.type == "events_api":  # only Events API envelopes carry the retry fields
            message.update(retry_attempt=self.retry_attempt, retry_reason=self.retry_reason)
        return message


@dataclass
class Delivery:
    """What came of one envelope: the ack's `payload` (None if the ack had none), or no ack in time."""

    envelope: Envelope | None  # None when no link was open to send it on
    payload: Json | None
    elapsed: float
    timed_out: bool


class SocketModeServer:
    """Slack's side of Socket Mode for one app: hands out URLs, serves links, sends envelopes, reads acks.

    Envelopes go to a live link (round robin when the app holds several); a link told to disconnect gets
    nothing new, and a request made while no link is live waits for the app to reconnect, up to its
    deadline. Acks are matched by `envelope_id` on whichever of the app's links they arrive: slack_sdk
    resends an ack on its new link when the old one closed under it.
    """

    def __init__(
        self, app_token: str, app_id: str, ids: IdFactory, clock: Clock, public_url: Callable[[], str]
    ) -> None:
        self.app_token = app_token
        self._app_id = app_id
        self._ids = ids
        self._clock = clock
        self._public_url = public_url
        self.links: list[Link] = []  # every link ever opened, oldest first
        self.envelopes: list[Envelope] = []
        self.stray_acks: list[Any] = []  # acks for no pending envelope (late, unknown, or not JSON)
        self.refused_tickets: list[str] = []
        self.disconnects: list[tuple[str, str]] = []  # (link id, reason)
        self._tickets: set[str] = set()
        self._pending: dict[str, asyncio.Future[Json]] = {}
        self._changed = asyncio.Event()
        self._turn = 0
        self._tasks: set[asyncio.Task[None]] = set()

    # ---- apps.connections.open and the WebSocket endpoint --------------------------------------

    def open_url(self) -> str:
        """A fresh one-time WebSocket URL, as apps.connections.open answers it."""
        ticket = (
            f"{self._ids.hex(8)}-{self._ids.hex(4)}-{self._ids.hex(4)}-{self._ids.hex(4)}-{self._ids.hex(12)}"
        )
        self._tickets.add(ticket)
        ws_root = self._public_url().replace("http://", "ws://", 1).rstrip("/")
        return f"{ws_root}{LINK_PATH}?ticket={ticket}&app_id={self._app_id}"

    async def handle_link(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            # A URL works for one connection; an old or made-up one is refused before the upgrade.
            self.refused_tickets.append(ticket)
            return web.Response(status=401, text="invalid_ticket")
        self._tickets.discard(ticket)
        # A short close timeout: stop() must not wait long for an app that went away without closing.
        ws = web.WebSocketResponse(autoping=True, timeout=2.0)
        await ws.prepare(request)
        link = Link(id=f"L{len(self.links) + 1}", ticket=ticket, ws=ws, opened_at=self._clock.now())
        self.links.append(link)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self.live_links),
                "debug_info": {"host": DEBUG_HOST, "build_number": 1, "approximate_connection_time": 18060},
                "connection_info": {"app_id": self._app_id},
            }
        )
        self._notify()
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._read_ack(link, message.data)
        finally:
            link.closed = True
            self._notify()
        return ws

    def _read_ack(self, link: Link, raw: str) -> None:
        try:
            message = json.loads(raw)
        except json.JSONDecodeError:
            self.stray_acks.append(raw)
            return
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        waiter = self._pending.pop(envelope_id, None) if isinstance(envelope_id, str) else None
        if waiter is None or waiter.done():
            self.stray_acks.append(message)
            return
        envelope = next(e for e in reversed(self.envelopes) if e.envelope_id == envelope_id)
        envelope.ack, envelope.acked_on = message, link.id
        waiter.set_result(message)

    # ---- sending -------------------------------------------------------------------------------

    @property
    def live_links(self) -> list[Link]:
        return [link for link in self.links if link.live]

    async def deliver(
        self,
        type: EnvelopeType | str,
        payload: Any,
        *,
        accepts_response_payload: bool = False,
        retry_attempt: int = 0,
        retry_reason: str = "",
        within: float = 3.0,
    ) -> Delivery:
        """Send one envelope on a live link and wait for its ack, for at most `within` seconds in all."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + within
        while True:
            link = await self._next_link(deadline)
            if link is None:
                return Delivery(None, None, loop.time() - started, timed_out=True)
            envelope = Envelope(
                envelope_id=self._envelope_id(),
                type=type,
                payload=payload,
                accepts_response_payload=accepts_response_payload,
                retry_attempt=retry_attempt,
                retry_reason=retry_reason,
                link_id=link.id,
                sent_at=self._clock.now(),
            )
            waiter: asyncio.Future[Json] = loop.create_future()
            # Recorded before sending: the app may ack while the send is still being flushed.
            self._pending[envelope.envelope_id] = waiter
            self.envelopes.append(envelope)
            try:
                await link.ws.send_str(json.dumps(envelope.to_message()))
            except ConnectionError:
                # The link closed under us before the envelope left: Slack picks another link.
                self._pending.pop(envelope.envelope_id, None)
                self.envelopes.remove(envelope)
                link.closed = True
                continue
            link.sent.append(envelope.envelope_id)
            try:
                ack = await asyncio.wait_for(waiter, max(0.0, deadline - loop.time()))
            except TimeoutError:
                self._pending.pop(envelope.envelope_id, None)
                return Delivery(envelope, None, loop.time() - started, timed_out=True)
            body = ack.get("payload")
            return Delivery(envelope, body if isinstance(body, dict) else None, loop.time() - started, False)

    async def _next_link(self, deadline: float) -> Link | None:
        loop = asyncio.get_running_loop()
        while True:
            changed = self._changed
            live = self.live_links
            if live:
                self._turn += 1
                return live[self._turn % len(live)]
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    def _envelope_id(self) -> str:
        ids = self._ids
        return f"{ids.hex(8)}-{ids.hex(4)}-{ids.hex(4)}-{ids.hex(4)}-{ids.hex(12)}"

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # ---- connection lifecycle ------------------------------------------------------------------

    async def wait_for_links(self, opened: int, *, within: float = 5.0) -> Link:
        """Wait until the app has opened `opened` links in all and the newest is live; returns it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            changed = self._changed
            if len(self.links) >= opened and self.links[-1].live:
                return self.links[-1]
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"the app opened {len(self.links)} of {opened} Socket Mode links")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def disconnect(
        self,
        reason: DisconnectReason = "refresh_requested",
        *,
        link: Link | None = None,
        close_after: float | None = None,
    ) -> list[Link]:
        """Tell the app's live links (or one) to go: no new envelopes go to them from now on.

        They close `close_after` seconds later (default: 10 s, at once for `link_disabled`) unless the app
        closes them first, as it should once it has a new link.
        """
        targets = [link] if link is not None else self.live_links
        delay = close_after if close_after is not None else (0.0 if reason == "link_disabled" else None)
        for target in targets:
            target.draining = True
            self.disconnects.append((target.id, reason))
            with contextlib.suppress(ConnectionError):
                await target.ws.send_json(
                    {"type": "disconnect", "reason": reason, "debug_info": {"host": DEBUG_HOST}}
                )
            self._later(target, DISCONNECT_GRACE_SECONDS if delay is None else delay)
        self._notify()
        return targets

    async def drop(self, link: Link | None = None) -> None:
        """Close links without a `disconnect` first, as a network failure or a Slack restart does."""
        for target in [link] if link is not None else [lk for lk in self.links if not lk.closed]:
            target.draining = True
            await target.ws.close()
        self._notify()

    def _later(self, link: Link, delay: float) -> None:
        async def close() -> None:
            await asyncio.sleep(delay)
            await link.ws.close()

        task = asyncio.create_task(close(), name=f"close-{link.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Close every link (the double is stopping)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for link in self.links:
            if not link.ws.closed:
                with contextlib.suppress(ConnectionError):
                    await link.ws.close()
        for waiter in self._pending.values():
            waiter.cancel()
        self._pending.clear()
