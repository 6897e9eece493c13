"""`FollowUpEngine`: the table as a queue; claims due rows with a lease and delivers each exactly once."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from bot.cases import MessageRef
from bot.clock import Clock
from bot.followups.calendar import WorkingHours
from bot.followups.models import Cancel, Defer, FollowUp, FollowUpState, OutgoingMessage
from bot.followups.ports import (
    FollowUpEffect,
    FollowUpHandler,
    FollowUpMessenger,
    FollowUpQueue,
    NotPosted,
    OutcomeUnknown,
    PeopleDirectory,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
RETRY_BASE = timedelta(seconds=5)
RETRY_CAP = timedelta(hours=1)
UNKNOWN_HANDLER_DELAY = timedelta(minutes=10)
# How long after an attempt's own timeout its post may still land in Slack: a process starved of CPU (a
# loaded 2-core machine, four Mend processes and the database on it) can write a request it began seconds
# earlier. Seen: a post landing after another process had looked for it 7 s on, and sent it again. Rows
# wait this much longer before they are looked for; a nudge is rarely a minute-critical message.
SETTLE_MARGIN = timedelta(seconds=20)


def kind_table(*groups: tuple[Iterable[str], FollowUpHandler]) -> dict[str, FollowUpHandler]:
    """The engine's kind table from (kinds, handler) groups; a kind given twice is a wiring mistake."""
    table: dict[str, FollowUpHandler] = {}
    for kinds, handler in groups:
        for kind in kinds:
            if kind in table:
                raise ValueError(f"two handlers for follow-up kind {kind!r}")
            table[str(kind)] = handler
    return table


@dataclass
class _Attempt:
    began: bool = False  # a post may have gone out: the row is UNKNOWN until Slack's answer is recorded


class FollowUpEngine:
    """The exactly-once queue for every kind: claims due rows with a lease, asks the kind's handler whether
    each is still due and where it goes, waits for the recipient's working hours, then posts it once.

    It knows nothing of cases: each kind string has its `FollowUpHandler` in the table it is built with."""

    def __init__(
        self,
        repo: FollowUpQueue,
        messenger: FollowUpMessenger,
        people: PeopleDirectory,
        clock: Clock,
        hours: WorkingHours,
        *,
        kinds: Mapping[str, FollowUpHandler],
        lease: timedelta = timedelta(seconds=60),
        batch: int = 200,
        max_in_flight: int = 1000,
        owner: str | None = None,
        send_timeout: timedelta = timedelta(seconds=5),
    ) -> None:
        # One post attempt is abandoned (outcome unknown) after `send_timeout`; an unknown row is not
        # looked for in Slack before `settle` has passed since its attempt, so a post still on the wire
        # (a slow process, a stalled lease renewal) is never mistaken for a lost one and sent again.
        self.send_timeout = send_timeout
        self.settle = send_timeout + SETTLE_MARGIN
        self._repo = repo
        self._messenger = messenger
        self._people = people
        self._clock = clock
        self.hours = hours
        self.lease = lease
        self.batch = batch
        self.max_in_flight = max_in_flight
        self.owner = owner or uuid.uuid4().hex[:12]
        self._handlers = dict(kinds)  # the kind table: one handler per kind string (see `kind_table`)
        self._in_flight = 0
        self._tokens: Counter[str] = Counter()  # lease tokens of the claims still being worked on
        self._stopping = False
        self._waiting: set[asyncio.Task[Any]] = set()
        self._claim_lock = asyncio.Lock()

    # ---- wiring ---------------------------------------------------------------------------------

    def handler(self, kind: str) -> FollowUpHandler | None:
        return self._handlers.get(kind)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def stopping(self) -> bool:
        return self._stopping

    def stop_claiming(self) -> None:
        """SIGTERM: claim nothing more; claimed rows that have not started posting are handed back."""
        self._stopping = True
        for task in list(self._waiting):
            task.cancel()

    # ---- the poller -----------------------------------------------------------------------------

    async def claim_due(self) -> list[FollowUp]:
        """Claim what this process can send soon (bounded by `max_in_flight`); the caller runs `process`."""
        async with self._claim_lock:
            room = min(self.batch, self.max_in_flight - self._in_flight)
            if self._stopping or room <= 0:
                return []
            now = self._clock.now()
            if self._tokens:
                # A live process keeps what it holds; only a dead one's leases run out for others to take.
                await self._repo.renew(list(self._tokens), now + self.lease)
            token = f"{self.owner}:{uuid.uuid4().hex[:12]}"
            items = await self._repo.claim(now, room, now + self.lease, token)
            self._in_flight += len(items)
            if items:
                self._tokens[token] += len(items)
            return items

    async def deliver_now(self, case_id: int | None, key_prefix: str) -> int:
        """Claim and deliver, one after another, the due rows a change has just staged (their keys start
        with `key_prefix`), so Slack shows the change at once. The rows stay the source of truth: whatever
        fails here is retried by the poller, and rows another process holds are left to it."""
        async with self._claim_lock:
            room = min(self.batch, self.max_in_flight - self._in_flight)
            if self._stopping or room <= 0:
                return 0
            now = self._clock.now()
            token = f"{self.owner}:{uuid.uuid4().hex[:12]}"
            items = await self._repo.claim_staged(case_id, key_prefix, now, room, now + self.lease, token)
            self._in_flight += len(items)
            if items:
                self._tokens[token] += len(items)
        for item in items:
            try:
                await self.process(item)
            except Exception:
                # Recorded on the row by `process` (UNKNOWN or PENDING, with a back-off); the next rows of the
                # change do not depend on this one, so they still go out now.
                log.exception("follow-up %s (%s) failed; the poller tries it again", item.id, item.kind)
        return len(items)

    async def process(self, item: FollowUp) -> None:
        """Decide and deliver one claimed follow-up; always ends by releasing or settling the row."""
        attempt = _Attempt()
        task = asyncio.current_task()
        if task is not None:
            self._waiting.add(task)
        try:
            await self._process(item, task, attempt)
        except asyncio.CancelledError:
            if not attempt.began:
                # Handed back at shutdown before any post started: another process may take it at once.
                await asyncio.shield(self._repo.release(item))
            raise
        except Exception as exc:
            # Once a post may have gone out, the row must stay UNKNOWN (reconciled before any resend),
            # whatever failed after it (e.g. the database, while recording it as sent).
            state = FollowUpState.UNKNOWN if attempt.began else FollowUpState(item.state)
            await self._retry(item, f"error: {exc!r}"[:500], state)
            raise
        finally:
            if task is not None:
                self._waiting.discard(task)
            self._in_flight -= 1
            if item.lease_token is not None:
                self._tokens[item.lease_token] -= 1
                if self._tokens[item.lease_token] <= 0:
                    del self._tokens[item.lease_token]

    async def _process(self, item: FollowUp, task: asyncio.Task[Any] | None, attempt: _Attempt) -> None:
        handler = self._handlers.get(item.kind)
        now = self._clock.now()
        if handler is None:
            # A kind another version of Mend knows (a newer deploy, a feature switched off): leave it be.
            log.warning("no handler for follow-up kind %r (id %s); retrying later", item.kind, item.id)
            await self._repo.postpone(item, now + UNKNOWN_HANDLER_DELAY, "no handler for this kind", now)
            return
        verdict = await handler.check(item)
        if isinstance(verdict, Cancel):
            await self._repo.cancel(item, verdict.reason, now)
            return
        if isinstance(verdict, Defer):
            await self._repo.postpone(item, verdict.until, verdict.reason, now)
            return
        if verdict.to and not item.exact and not self.hours.always:
            opens = self.hours.next_open(now, await self._people.timezone(verdict.to))
            if opens > now:
                await self._repo.postpone(item, opens, "outside working hours", now)
                return
        message = handler.render(item, verdict)
        effect = _effect(handler)
        if item.state is FollowUpState.UNKNOWN and item.attempted_at is not None:
            settled_at = item.attempted_at + self.settle
            if now < settled_at:
                await self._repo.postpone(item, settled_at, "a post may still be under way", now)
                return
            # An earlier attempt may have posted: look before posting again.
            since = item.attempted_at - timedelta(minutes=1)
            if effect is not None:
                found = await effect.find(item, verdict, since)
            else:
                found = await self._messenger.find(
                    verdict.channel_id, verdict.thread_ts, item.message_key, since
                )
            if found is not None:
                await self._repo.mark_sent(item, found, self._clock.now())
                return
        async with self._messenger.turn(verdict.channel_id):
            if self._stopping:
                await self._repo.release(item)
                return
            now = self._clock.now()
            if not await self._repo.begin_send(item, now, now + max(self.lease, self.settle)):
                return  # our lease ran out while waiting and someone else has it now
            attempt.began = True
            if task is not None:
                self._waiting.discard(task)  # from here on, shutdown waits for the post to finish
            try:
                async with asyncio.timeout(self.send_timeout.total_seconds()):
                    ref: MessageRef | None
                    if effect is not None:
                        ref = await effect.perform(item, verdict, message)
                    else:
                        ref = await self._messenger.post(
                            verdict.channel_id, verdict.thread_ts, message, item.message_key
                        )
            except TimeoutError:
                await self._retry(
                    item, "outcome unknown: Slack did not answer in time", FollowUpState.UNKNOWN
                )
                return
            except NotPosted as exc:
                state = FollowUpState.FAILED if exc.permanent else FollowUpState.PENDING
                delay = timedelta(seconds=exc.retry_after) if exc.retry_after is not None else None
                await self._retry(item, exc.reason, state, delay=delay, counted=exc.retry_after is None)
                return
            except OutcomeUnknown as exc:
                await self._retry(item, f"outcome unknown: {exc}"[:500], FollowUpState.UNKNOWN)
                return
            await self._repo.mark_sent(item, ref, self._clock.now())
            return

    async def _retry(
        self,
        item: FollowUp,
        error: str,
        state: FollowUpState,
        *,
        delay: timedelta | None = None,
        counted: bool = True,
    ) -> None:
        now = self._clock.now()
        attempts = item.attempts + 1
        if counted and attempts >= MAX_ATTEMPTS and state is FollowUpState.PENDING:
            state = FollowUpState.FAILED
        if delay is None:
            delay = min(RETRY_BASE * (2 ** min(attempts, 12)), RETRY_CAP)
        log.warning("follow-up %s (%s): %s; next try in %s", item.id, item.kind, error, delay)
        await self._repo.retry_later(item, now + delay, error, state=state, now=now)

    async def update_message(self, item: FollowUp, message: OutgoingMessage) -> None:
        if item.message is not None:
            await self._messenger.update(item.message, message)


def _effect(handler: FollowUpHandler) -> FollowUpEffect | None:
    """The handler as an effect when it delivers by itself (it has `perform`), else None: the engine posts."""
    return cast(FollowUpEffect, handler) if callable(getattr(handler, "perform", None)) else None
