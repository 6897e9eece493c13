"""End to end: when Slack fails after a change is stored, the Slack side catches up later, once each."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

from bot.clock import FrozenClock
from handlers.ids import Command, MessageMetadata
from tests.e2e.conftest import REPORT_VALUES, Stack
from tests.e2e.test_playbook import case_row

StackFactory = Callable[..., AbstractAsyncContextManager[Stack]]


def kinds_in_thread(stack: Stack, card_ts: str) -> list[str]:
    assert stack.recovery is not None
    return [
        str((m.get("metadata") or {}).get("event_type")) for m in stack.double.thread(stack.recovery, card_ts)
    ]


async def test_a_case_reported_while_slack_refuses_posts_gets_its_card_later_once(
    make_stack: StackFactory,
) -> None:
    clock = FrozenClock(datetime.now(UTC))
    async with make_stack(clock=clock) as stack:
        # Slack refuses every post for a while: the case is stored, its card is not posted.
        stack.double.faults.add("chat.postMessage", "server_error", times=None, status=400)
        await stack.alice.slash_command(Command.RECOVER.value, "", channel_id=stack.support)
        await stack.settle()
        assert (await stack.alice.submit_view(REPORT_VALUES)).field_errors == {}
        await stack.settle()
        [row] = await stack.case_rows()
        assert row.card_ts is None and stack.double.messages(stack.recovery) == []  # type: ignore[arg-type]

        # Too fresh to touch, and Slack still refusing: nothing, and then one failed attempt.
        assert await stack.mend.poller.catch_up() == 0
        clock.advance(timedelta(minutes=2))
        assert await stack.mend.poller.catch_up() == 0
        assert (await case_row(stack, row.id)).catch_up_failures == 1

        # Slack answers again; after the back-off the case is caught up: card, thread, first step, once.
        stack.double.faults.clear()
        clock.advance(timedelta(minutes=2))
        assert await stack.mend.poller.catch_up() == 1
        assert await stack.mend.poller.catch_up() == 0  # nothing left to do
        caught = await case_row(stack, row.id)
        assert caught.card_ts and caught.card_version == caught.version and caught.catch_up_failures == 0
        cards = [m for m in stack.double.messages(stack.recovery) if m.get("metadata")]  # type: ignore[arg-type]
        assert len(cards) == 1 and "Progress *0/8*" in json.dumps(cards[0]["blocks"])
        assert kinds_in_thread(stack, caught.card_ts) == [
            MessageMetadata.CASE_CARD.value,
            MessageMetadata.CASE_THREAD.value,
            MessageMetadata.STEP_PROMPT.value,
        ]


async def test_a_step_done_while_slack_refuses_updates_is_shown_later(make_stack: StackFactory) -> None:
    clock = FrozenClock(datetime.now(UTC))
    async with make_stack(clock=clock) as stack:
        row = await stack.report_case()
        stack.double.faults.add("chat.update", "server_error", times=None, status=400)
        stack.double.faults.add("chat.postMessage", "server_error", times=None, status=400)
        await stack.apologise()  # stored; Slack refuses to show it
        stored = await case_row(stack, row.id)
        assert stored.card_version < stored.version
        stack.double.faults.clear()
        clock.advance(timedelta(minutes=2))
        assert await stack.mend.poller.catch_up() == 1
        shown = await case_row(stack, row.id)
        assert shown.card_version == shown.version
        assert shown.card_ts is not None
        prompts = [k for k in kinds_in_thread(stack, shown.card_ts) if k == MessageMetadata.STEP_PROMPT.value]
        assert len(prompts) == 2  # step 1 (redrawn as done) and step 2, each posted once
