"""The Slack edge of follow-ups: exactly-once delivery paced per channel, people's time zones, the nudge
handlers per kind, and the listeners for nudge buttons and the promise / schedule / snooze / reassign /
re-survey modals."""

from __future__ import annotations

import asyncio
import logging
import time as wall
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import date, datetime, time, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.cases import Case, MessageRef
from bot.clock import Clock
from bot.errors import MendError
from bot.followups import (
    Cancel,
    CaseFollowUpRules,
    Deliver,
    FollowUp,
    FollowUpPolicy,
    FollowUpService,
    NotPosted,
    OutcomeUnknown,
    OutgoingMessage,
    Promise,
    ResurveyOutcome,
    SnoozeChoice,
    Verdict,
    zone,
)
from bot.recovery import RecoveryService
from handlers.blocks.followups import (
    FollowUpRef,
    build_case_nudge,
    build_notice,
    build_promise_modal,
    build_reassign_modal,
    build_resurvey_modal,
    build_schedule_modal,
    build_snooze_modal,
    date_token,
    nudge_text,
    settled_note,
)
from handlers.blocks.recovery import StepRef
from handlers.errors import who_and_where
from handlers.forms import save_then_ack
from handlers.ids import FollowUpBlock, MessageMetadata
from handlers.slack_api import RETRYABLE_STATUS, SlackPoster, error_code, retry_after_seconds
from handlers.tasks import BackgroundTasks

log = logging.getLogger(__name__)

Ack = Callable[..., Awaitable[None]]
BROKEN = "That button doesn't point at a reminder I know. Please use the buttons in the case thread."

#: Slack allows about one chat.postMessage per second per channel; a hair more keeps network jitter from
#: turning the floor into 429s.
POST_INTERVAL_SECONDS = 1.02
#: Pages of history searched when reconciling a post whose outcome is unknown.
RECONCILE_PAGES = 5
PERMANENT_ERRORS = frozenset(
    {"channel_not_found", "is_archived", "account_inactive", "invalid_auth", "not_authed", "msg_too_long"}
)


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
    every outcome classified as posted, certainly not posted, or unknown; unknown ones are reconciled by
    the metadata key before anything is posted again."""

    def __init__(
        self, client: AsyncWebClient, updater: AsyncWebClient, pacer: ChannelPacer | None = None
    ) -> None:
        self._client = client  # built without retry handlers: every failure comes back here to be classified
        self._updater = updater  # the ordinary client, whose policy retries idempotent chat.update
        self.pacer = pacer or ChannelPacer()
        self.ratelimited = 0

    def turn(self, channel_id: str) -> Any:
        return self.pacer.turn(channel_id)

    async def post(
        self, channel_id: str, thread_ts: str | None, message: OutgoingMessage, key: str
    ) -> MessageRef:
        metadata = {"event_type": MessageMetadata.FOLLOW_UP.value, "event_payload": {"key": key}}
        blocks = [b.to_dict() if hasattr(b, "to_dict") else b for b in message.blocks]
        joined = False
        while True:
            self.pacer.posting(channel_id)
            try:
                resp = await self._client.chat_postMessage(
                    channel=channel_id,
                    text=message.text,
                    blocks=blocks or None,
                    metadata=metadata,
                    thread_ts=thread_ts,
                )
                return MessageRef(channel_id=str(resp["channel"]), ts=str(resp["ts"]))
            except SlackApiError as exc:
                status = getattr(exc.response, "status_code", 0)
                code = error_code(exc)
                if status == 429:
                    self.ratelimited += 1
                    retry_after = retry_after_seconds(dict(getattr(exc.response, "headers", {}) or {}), 1.0)
                    self.pacer.pause(channel_id, retry_after)
                    raise NotPosted("rate limited", retry_after=retry_after) from exc
                if status in RETRYABLE_STATUS or status >= 500:
                    raise OutcomeUnknown(f"Slack answered {status}") from exc
                if code == "not_in_channel" and not joined:
                    joined = True
                    await self._join(channel_id)
                    continue
                raise NotPosted(
                    f"Slack refused it: {code or status}", permanent=code in PERMANENT_ERRORS
                ) from exc
            except aiohttp.ClientConnectorError as exc:
                raise NotPosted(f"could not reach Slack: {exc}") from exc  # nothing was sent
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise OutcomeUnknown(type(exc).__name__) from exc

    async def _join(self, channel_id: str) -> None:
        try:
            await self._updater.conversations_join(channel=channel_id)
        except SlackApiError as exc:
            raise NotPosted(f"can't join {channel_id}: {error_code(exc)}", permanent=True) from exc

    async def find(
        self, channel_id: str, thread_ts: str | None, key: str, since: datetime
    ) -> MessageRef | None:
        """Look for the key; a failure to look is itself unknown, so nothing is posted on a guess."""
        cursor: str | None = None
        oldest = f"{max(since.timestamp(), 0):.6f}"
        try:
            for _ in range(RECONCILE_PAGES):
                if thread_ts:
                    resp = await self._updater.conversations_replies(
                        channel=channel_id,
                        ts=thread_ts,
                        oldest=oldest,
                        include_all_metadata=True,
                        limit=200,
                        cursor=cursor,
                    )
                else:
                    resp = await self._updater.conversations_history(
                        channel=channel_id, oldest=oldest, include_all_metadata=True, limit=200, cursor=cursor
                    )
                for message in resp.get("messages") or []:
                    meta = message.get("metadata") or {}
                    if (
                        meta.get("event_type") == MessageMetadata.FOLLOW_UP.value
                        and (meta.get("event_payload") or {}).get("key") == key
                    ):
                        return MessageRef(channel_id=channel_id, ts=str(message["ts"]))
                cursor = ((resp.get("response_metadata") or {}).get("next_cursor")) or None
                if not cursor:
                    return None
        except (TimeoutError, SlackApiError, aiohttp.ClientError) as exc:
            raise OutcomeUnknown(f"could not check whether it was posted: {exc}") from exc
        raise OutcomeUnknown("too much history to check whether it was posted")

    async def update(self, ref: MessageRef, message: OutgoingMessage) -> None:
        blocks = [b.to_dict() if hasattr(b, "to_dict") else b for b in message.blocks]
        try:
            await self._updater.chat_update(
                channel=ref.channel_id, ts=ref.ts, text=message.text, blocks=blocks
            )
        except SlackApiError as exc:
            log.warning("could not update nudge %s/%s: %s", ref.channel_id, ref.ts, error_code(exc))


class SlackPeopleDirectory:
    """Time zones from users.info, cached: every nudge to a person needs theirs."""

    def __init__(self, client: AsyncWebClient, ttl_seconds: float = 6 * 3600) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[str | None, float]] = {}

    async def timezone(self, user_id: str) -> str | None:
        cached = self._cache.get(user_id)
        now = wall.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            resp = await self._client.users_info(user=user_id)
            user = resp.get("user") or {}
            tz = user.get("tz") if isinstance(user, dict) else None
            tz = str(tz) if tz else None
            self._cache[user_id] = (tz, now + self._ttl)
        except (TimeoutError, SlackApiError, aiohttp.ClientError):
            log.warning("users.info failed for %s; using UTC for now", user_id)
            tz = cached[0] if cached else None
            self._cache[user_id] = (tz, now + 60)  # try again in a minute, not on every nudge
        return tz


class CaseFollowUpHandler:
    """FollowUpHandler for every case kind: the domain's rules decide, this renders the thread message."""

    def __init__(self, rules: CaseFollowUpRules, policy: FollowUpPolicy) -> None:
        self.rules = rules
        self._policy = policy

    async def check(self, item: FollowUp) -> Verdict:
        return await self.rules.check(item)

    def render(self, item: FollowUp, deliver: Deliver) -> OutgoingMessage:
        case: Case = deliver.context["case"]
        promise: Promise | None = deliver.context.get("promise")
        blocks = build_case_nudge(item, case, deliver.to, promise, ack_after=self._policy.ack_nudge_after)
        text = nudge_text(item, case, deliver.to, promise, ack_after=self._policy.ack_nudge_after)
        return OutgoingMessage(text=_plain_text(text), blocks=blocks)

    async def settled(self, item: FollowUp, note: str) -> OutgoingMessage | None:
        """The nudge as it reads once acted on: the same words, no buttons, what happened and who did it."""
        ctx = await self.rules.context(item)
        if isinstance(ctx, Cancel):
            return None
        case: Case = ctx.case
        to = item.recipient_user_id or case.owner_user_id
        promise = ctx.promise
        blocks = build_case_nudge(item, case, to, promise, ack_after=self._policy.ack_nudge_after, note=note)
        return OutgoingMessage(text=_plain_text(note), blocks=blocks)


class NoticeHandler:
    """The outbox: a plain message (payload `channel_id`, `text`, optional `thread_ts`) posted exactly once."""

    async def check(self, item: FollowUp) -> Verdict:
        channel = item.payload.get("channel_id")
        if not channel or not item.payload.get("text"):
            return Cancel("a notice needs channel_id and text")
        return Deliver(
            channel_id=str(channel), thread_ts=item.payload.get("thread_ts"), to=item.payload.get("to")
        )

    def render(self, item: FollowUp, deliver: Deliver) -> OutgoingMessage:
        text = str(item.payload["text"])
        return OutgoingMessage(text=text[:3000], blocks=build_notice(text))


def _plain_text(text: str) -> str:
    return text[:3000]


class FollowUpListeners:
    """Bolt listeners for nudge buttons and the follow-up modals. Buttons ack at once; modals save first."""

    def __init__(
        self,
        service: FollowUpService,
        recovery: RecoveryService,
        case_handler: CaseFollowUpHandler,
        poster: SlackPoster,
        people: SlackPeopleDirectory,
        tasks: BackgroundTasks,
        clock: Clock,
    ) -> None:
        self._service = service
        self._recovery = recovery
        self._handler = case_handler
        self._poster = poster
        self._people = people
        self._tasks = tasks
        self._clock = clock

    # ---- nudge buttons --------------------------------------------------------------------------

    async def mark_done(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()

        async def work(ref: FollowUpRef, user_id: str, team_id: str) -> None:
            item = await self._service.done(
                ref.follow_up_id, ref.round, actor_user_id=user_id, team_id=team_id
            )
            what = {"kept": ":white_check_mark: Kept", "done": ":white_check_mark: Done"}.get(
                item.resolution or "", ":white_check_mark: Done"
            )
            await self._settle(item, settled_note(what, user_id, self._clock.now()))
            if item.case_id is not None:
                await self._recovery.sync(item.case_id)

        self._run(body, action.get("value"), work)

    async def snooze(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        selected = action.get("selected_option") if isinstance(action.get("selected_option"), dict) else {}
        raw = str((selected or {}).get("value") or "")
        choice_raw, _, ref_raw = raw.partition("|")
        try:
            choice = SnoozeChoice(choice_raw)
        except ValueError:
            choice = None

        async def work(ref: FollowUpRef, user_id: str, team_id: str) -> None:
            if choice is None:
                raise MendError(BROKEN)
            if choice is SnoozeChoice.PICK:
                await self._service.acted_on(ref.follow_up_id, ref.round, team_id)
                today, tz = await self._today(user_id)
                await self._open(body, build_snooze_modal(ref, today=today, tz_label=tz))
                return
            item = await self._service.snooze(
                ref.follow_up_id, ref.round, choice, actor_user_id=user_id, team_id=team_id
            )
            await self._settle_rearmed(item, f":zzz: Snoozed until {date_token(item.due_at)}", user_id)

        self._run(body, ref_raw, work)

    async def open_reassign_modal(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()

        async def work(ref: FollowUpRef, user_id: str, team_id: str) -> None:
            item = await self._service.acted_on(ref.follow_up_id, ref.round, team_id)
            await self._open(body, build_reassign_modal(ref, item.recipient_user_id))

        self._run(body, action.get("value"), work)

    async def customer_satisfied(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await self._customer_answer(ack, body, action, satisfied=True)

    async def customer_not_yet(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await self._customer_answer(ack, body, action, satisfied=False)

    async def _customer_answer(
        self, ack: Ack, body: dict[str, Any], action: dict[str, Any], *, satisfied: bool
    ) -> None:
        await ack()

        async def work(ref: FollowUpRef, user_id: str, team_id: str) -> None:
            item = await self._service.customer_answer(
                ref.follow_up_id, ref.round, satisfied=satisfied, actor_user_id=user_id, team_id=team_id
            )
            what = (
                ":white_check_mark: Customer satisfied"
                if satisfied
                else ":leftwards_arrow_with_hook: Not yet: the fix step is open again"
            )
            await self._settle(item, settled_note(what, user_id, self._clock.now()))

        self._run(body, action.get("value"), work)

    async def open_resurvey_modal(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()

        async def work(ref: FollowUpRef, user_id: str, team_id: str) -> None:
            item = await self._service.acted_on(ref.follow_up_id, ref.round, team_id)
            assert item.case_id is not None
            case, _ = await self._recovery.load(item.case_id, team_id)
            await self._open(body, build_resurvey_modal(ref, case))

        self._run(body, action.get("value"), work)

    # ---- step prompt buttons --------------------------------------------------------------------

    async def open_promise_modal(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()

        async def work(ref: StepRef, user_id: str, team_id: str) -> None:
            case, step = await self._recovery.open_step(ref.case_id, ref.step_key, team_id)
            today, tz = await self._today(user_id)
            await self._open(body, build_promise_modal(case, step, today=today, tz_label=tz))

        self._run_step(body, action, work)

    async def open_schedule_modal(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()

        async def work(ref: StepRef, user_id: str, team_id: str) -> None:
            case, step = await self._recovery.open_step(ref.case_id, ref.step_key, team_id)
            today, tz = await self._today(user_id)
            await self._open(
                body, build_schedule_modal(case, step, today=today + timedelta(days=1), tz_label=tz)
            )

        self._run_step(body, action, work)

    # ---- modal submissions ----------------------------------------------------------------------

    async def submit_promise(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        text = _value(view, FollowUpBlock.PROMISE_TEXT, "value")
        day, at = _when(view)

        async def save(ref: StepRef, user_id: str, team_id: str) -> None:
            case, _ = await self._recovery.load(ref.case_id, team_id)
            await self._service.record_promise(
                case, actor_user_id=user_id, text=text, day=day, at=at, view_key=_view_key(view)
            )

        await self._submit_step(
            ack,
            body,
            view,
            save,
            FollowUpBlock.PROMISE_TEXT,
            {
                "text": FollowUpBlock.PROMISE_TEXT.value,
                "date": FollowUpBlock.DATE.value,
                "time": FollowUpBlock.TIME.value,
            },
        )

    async def submit_schedule(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        note = _value(view, FollowUpBlock.NOTE, "value")
        day, at = _when(view)

        async def save(ref: StepRef, user_id: str, team_id: str) -> None:
            case, _ = await self._recovery.load(ref.case_id, team_id)
            await self._service.schedule_follow_up(
                case, actor_user_id=user_id, day=day, at=at, note=note, view_key=_view_key(view)
            )

        await self._submit_step(
            ack,
            body,
            view,
            save,
            FollowUpBlock.DATE,
            {
                "note": FollowUpBlock.NOTE.value,
                "date": FollowUpBlock.DATE.value,
                "time": FollowUpBlock.TIME.value,
            },
        )

    async def submit_snooze(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        day, at = _when(view)

        async def save(ref: FollowUpRef, user_id: str, team_id: str) -> FollowUp:
            return await self._service.snooze(
                ref.follow_up_id,
                ref.round,
                SnoozeChoice.PICK,
                actor_user_id=user_id,
                team_id=team_id,
                day=day,
                at=at,
            )

        async def after(item: FollowUp, user_id: str) -> None:
            await self._settle_rearmed(item, f":zzz: Snoozed until {date_token(item.due_at)}", user_id)

        await self._submit_follow_up(
            ack,
            body,
            view,
            save,
            after,
            FollowUpBlock.DATE,
            {"date": FollowUpBlock.DATE.value, "time": FollowUpBlock.TIME.value},
        )

    async def submit_reassign(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        assignee = _value(view, FollowUpBlock.ASSIGNEE, "selected_user")

        async def save(ref: FollowUpRef, user_id: str, team_id: str) -> FollowUp:
            return await self._service.reassign(
                ref.follow_up_id, ref.round, to_user_id=assignee, actor_user_id=user_id, team_id=team_id
            )

        async def after(item: FollowUp, user_id: str) -> None:
            await self._settle_rearmed(item, f":arrow_right_hook: Reassigned to <@{assignee}>", user_id)

        await self._submit_follow_up(
            ack, body, view, save, after, FollowUpBlock.ASSIGNEE, {"assignee": FollowUpBlock.ASSIGNEE.value}
        )

    async def submit_resurvey(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        outcome = _option(view, FollowUpBlock.OUTCOME)
        score = _option(view, FollowUpBlock.SCORE)

        async def save(ref: FollowUpRef, user_id: str, team_id: str) -> FollowUp:
            return await self._service.record_resurvey(
                ref.follow_up_id,
                ref.round,
                outcome=outcome,
                score=score,
                actor_user_id=user_id,
                team_id=team_id,
            )

        async def after(item: FollowUp, user_id: str) -> None:
            label = ResurveyOutcome(outcome or "").label if outcome else "recorded"
            scored = f", satisfaction {score}/5" if score else ""
            await self._settle(
                item, settled_note(f":bar_chart: Outcome: {label}{scored}", user_id, self._clock.now())
            )

        await self._submit_follow_up(
            ack,
            body,
            view,
            save,
            after,
            FollowUpBlock.OUTCOME,
            {"outcome": FollowUpBlock.OUTCOME.value, "score": FollowUpBlock.SCORE.value},
        )

    # ---- plumbing -------------------------------------------------------------------------------

    async def _settle(self, item: FollowUp, note: str) -> None:
        message = await self._handler.settled(item, note)
        if message is not None:
            await self._service.update_message(item, message)

    async def _settle_rearmed(self, item: FollowUp, what: str, user_id: str) -> None:
        note = settled_note(what, user_id, self._clock.now())
        previous = item.model_copy(update={"round": item.round - 1})  # the message shown is the last round's
        await self._settle(previous, note)

    async def _today(self, user_id: str) -> tuple[date, str]:
        tz_name = await self._people.timezone(user_id)
        return self._clock.now().astimezone(zone(tz_name)).date(), tz_name or "UTC"

    def _run(
        self, body: dict[str, Any], raw_ref: Any, work: Callable[[FollowUpRef, str, str], Awaitable[None]]
    ) -> None:
        user_id, team_id = _actor(body)
        _, channel_id = who_and_where(body)
        ref = FollowUpRef.decode(raw_ref)

        async def run() -> None:
            if ref is None or user_id is None or team_id is None:
                raise MendError(BROKEN)
            await work(ref, user_id, team_id)

        self._tasks.spawn(run(), user_id=user_id, channel_id=channel_id, name="follow-up-action")

    def _run_step(
        self,
        body: dict[str, Any],
        action: dict[str, Any],
        work: Callable[[StepRef, str, str], Awaitable[None]],
    ) -> None:
        user_id, team_id = _actor(body)
        _, channel_id = who_and_where(body)
        ref = StepRef.decode(action.get("value"))

        async def run() -> None:
            if ref is None or user_id is None or team_id is None:
                raise MendError(BROKEN)
            await work(ref, user_id, team_id)

        self._tasks.spawn(run(), user_id=user_id, channel_id=channel_id, name="follow-up-step-action")

    async def _open(self, body: dict[str, Any], view: Any) -> None:
        await self._poster.open_modal(body.get("trigger_id"), view)

    async def _submit_step(
        self,
        ack: Ack,
        body: dict[str, Any],
        view: dict[str, Any],
        save: Callable[[StepRef, str, str], Coroutine[Any, Any, None]],
        error_block: FollowUpBlock,
        fields: dict[str, str],
    ) -> None:
        ref = StepRef.decode(view.get("private_metadata"))
        user_id, team_id = _actor(body)
        if ref is None or user_id is None or team_id is None:
            await ack(response_action="errors", errors={error_block.value: BROKEN})
            return
        await save_then_ack(
            ack,
            save(ref, user_id, team_id),
            tasks=self._tasks,
            user_id=user_id,
            error_block=error_block.value,
            field_blocks=fields,
        )

    async def _submit_follow_up(
        self,
        ack: Ack,
        body: dict[str, Any],
        view: dict[str, Any],
        save: Callable[[FollowUpRef, str, str], Coroutine[Any, Any, FollowUp]],
        after: Callable[[FollowUp, str], Coroutine[Any, Any, None]],
        error_block: FollowUpBlock,
        fields: dict[str, str],
    ) -> None:
        ref = FollowUpRef.decode(view.get("private_metadata"))
        user_id, team_id = _actor(body)
        if ref is None or user_id is None or team_id is None:
            await ack(response_action="errors", errors={error_block.value: BROKEN})
            return
        actor = user_id

        async def when_late(item: FollowUp) -> None:
            await after(item, actor)

        item = await save_then_ack(
            ack,
            save(ref, user_id, team_id),
            tasks=self._tasks,
            user_id=user_id,
            error_block=error_block.value,
            field_blocks=fields,
            when_late=when_late,
        )
        if item is not None:
            self._tasks.spawn(after(item, user_id), user_id=user_id, channel_id=None, name="follow-up-settle")


def _actor(body: dict[str, Any]) -> tuple[str | None, str | None]:
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    team = body.get("team") if isinstance(body.get("team"), dict) else {}
    user_id = (user or {}).get("id")
    team_id = (team or {}).get("id") or (user or {}).get("team_id")
    return (
        user_id if isinstance(user_id, str) and user_id else None,
        team_id if isinstance(team_id, str) and team_id else None,
    )


def _element(view: dict[str, Any], block: FollowUpBlock) -> dict[str, Any]:
    values = ((view.get("state") or {}).get("values")) if isinstance(view.get("state"), dict) else None
    state = values.get(block.value) if isinstance(values, dict) else None
    element = state.get(block.action_id) if isinstance(state, dict) else None
    return element if isinstance(element, dict) else {}


def _value(view: dict[str, Any], block: FollowUpBlock, key: str) -> str | None:
    value = _element(view, block).get(key)
    return value if isinstance(value, str) and value else None


def _option(view: dict[str, Any], block: FollowUpBlock) -> str | None:
    option = _element(view, block).get("selected_option")
    value = option.get("value") if isinstance(option, dict) else None
    return value if isinstance(value, str) else None


def _when(view: dict[str, Any]) -> tuple[date | None, time | None]:
    """The date and time pickers, read as the person's local wall-clock time; malformed input is None."""
    raw_day = _value(view, FollowUpBlock.DATE, "selected_date")
    raw_time = _value(view, FollowUpBlock.TIME, "selected_time")
    try:
        day = date.fromisoformat(raw_day) if raw_day else None
    except ValueError:
        day = None
    try:
        at = time.fromisoformat(raw_time) if raw_time else None
    except ValueError:
        at = None
    return day, at


def _view_key(view: dict[str, Any]) -> str | None:
    view_id = view.get("id")
    return str(view_id)[:64] if view_id else None
