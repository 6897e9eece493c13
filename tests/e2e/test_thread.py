"""End to end: the case thread reads as a log of events a manager can scan (issue #13)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.clock import FrozenClock
from handlers.ids import AmendsAction, AmendsBlock, FollowUpAction, StepAction, StepBlock
from tests.e2e.conftest import Stack

MakeStack = Callable[..., AbstractAsyncContextManager[Stack]]
MOST_MESSAGES_ON_THE_HAPPY_PATH = 10


@pytest.fixture
async def stack(make_stack: MakeStack) -> AsyncIterator[Stack]:
    async with make_stack() as running:
        yield running


def text_of(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks") or [], ensure_ascii=False) + str(message.get("text"))


def card(stack: Stack) -> dict[str, Any]:
    assert stack.recovery is not None
    return next(
        m
        for m in stack.double.messages(stack.recovery)
        if (m.get("metadata") or {}).get("event_type") == "mend_case_card"
    )


def replies(stack: Stack) -> list[dict[str, Any]]:
    """The case thread without its parent (the card)."""
    assert stack.recovery is not None
    return stack.double.thread(stack.recovery, card(stack)["ts"])[1:]


def step(case_id: int, key: str) -> dict[str, str]:
    return {"value": json.dumps({"c": case_id, "s": key}, separators=(",", ":"))}


async def click(stack: Stack, action_id: str, person: Any = None, **kwargs: Any) -> None:
    response = await (person or stack.alice).click(action_id, **kwargs)
    assert response.status == 200
    await stack.settle()


async def submit(stack: Stack, values: dict[str, Any], person: Any = None) -> None:
    response = await (person or stack.alice).submit_view(values)
    assert response.status == 200 and response.field_errors == {}, response.body
    await stack.settle()


async def walk_the_happy_path(stack: Stack) -> int:
    """Report, apology, listen, ownership, root cause, fix, amends within the limit, follow-up, record,
    close: the case's id."""
    case = await stack.report_case()
    await stack.apologise(case.id)
    listened = {"What the customer said matters most": "The cake for her daughter's party on Saturday"}
    await click(stack, StepAction.DONE.value, **step(case.id, "listen"), values=listened)
    await click(stack, StepAction.TAKE_OWNERSHIP.value, person=stack.bob, **step(case.id, "own"))
    await click(stack, StepAction.RECORD_ROOT_CAUSE.value, person=stack.bob, **step(case.id, "root_cause"))
    await submit(
        stack,
        {
            "Root cause": "carrier_logistics",
            "What caused it": "The courier's van had no cooling on a hot day",
        },
        person=stack.bob,
    )
    fixed = {"What was fixed": "A fresh cake delivered by 4pm the next day"}
    await click(stack, StepAction.DONE.value, person=stack.bob, **step(case.id, "fix"), values=fixed)
    amends_prompt = replies(stack)[-1]
    assert "Make amends" in text_of(amends_prompt)
    await click(stack, AmendsAction.OFFER.value, person=stack.bob, message_ts=amends_prompt["ts"])
    await submit(
        stack,
        {
            AmendsBlock.KIND.value: "refund",
            AmendsBlock.AMOUNT.value: "€45.50",
            AmendsBlock.JUSTIFICATION.value: "Refund the delivery and the cake: they paid for a party.",
        },
        person=stack.bob,
    )
    await click(stack, StepAction.DONE.value, person=stack.bob, **step(case.id, "follow_up"))
    await click(stack, StepAction.DONE.value, person=stack.bob, **step(case.id, "record"))
    await click(stack, StepAction.CLOSE_CASE.value, person=stack.bob, message_ts=card(stack)["ts"])
    return case.id


async def test_the_happy_path_writes_at_most_ten_thread_messages_none_twice(stack: Stack) -> None:
    await walk_the_happy_path(stack)
    thread = replies(stack)
    print(f"\nThe happy path wrote {len(thread)} thread messages:")
    for message in thread:
        print(f"  - {(message.get('metadata') or {}).get('event_type')}: {message.get('text')}")
    assert "Recovery summary" in text_of(thread[-1])  # the walk reached the end
    # Listen and fix each kept their one line: on the finished step, and in the summary.
    for line in (
        "What the customer said matters most:* The cake for her daughter's party on Saturday",
        "What was fixed:* A fresh cake delivered by 4pm the next day",
    ):
        step_prompt, summary = [m for m in thread if line in text_of(m)]
        assert (step_prompt.get("metadata") or {}).get("event_type") == "mend_step_prompt"
        assert summary is thread[-1]
    # The grant finished the amends step: its prompt's redraw says so, and no other message repeats it.
    [granted] = [m for m in thread[:-1] if "€45.50" in text_of(m)]
    assert "Make amends" in text_of(granted) and "Amends granted" in text_of(granted)

    assert len(thread) <= MOST_MESSAGES_ON_THE_HAPPY_PATH
    texts = [text_of(m) for m in thread]
    assert len(set(texts)) == len(texts), "two thread messages say the same"
    stack.double.assert_no_rejections()


async def test_the_card_is_posted_complete_and_not_edited_right_after(stack: Stack) -> None:
    await stack.report_case()
    posted = card(stack)
    updates = [c for c in stack.double.calls_to("chat.update") if c.args.get("ts") == posted["ts"]]
    assert updates == [], "the card was edited right after it was posted, so Slack shows it '(edited)'"
    assert "Progress *0/8*" in text_of(posted) and "Next: *Acknowledge and apologize*" in text_of(posted)


async def test_with_a_not_yet_and_a_reopen_no_two_thread_messages_say_the_same(make_stack: MakeStack) -> None:
    clock = FrozenClock(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))  # a Tuesday, in working hours
    async with make_stack(clock=clock, follow_up_after="1d", working_hours="always") as stack:
        case = await stack.report_case()
        await stack.apologise(case.id)
        for key in ("listen", "own", "root_cause", "fix"):
            await click(stack, StepAction.DONE.value, **step(case.id, key))
        for answer in (FollowUpAction.NOT_YET, FollowUpAction.SATISFIED):  # asked twice: not yet, then yes
            clock.advance(timedelta(days=1))
            assert await stack.tick() >= 1
            asked = [m for m in replies(stack) if "Is the customer satisfied?" in text_of(m)][-1]
            await click(stack, answer.value, message_ts=asked["ts"])
            if answer is FollowUpAction.NOT_YET:
                await click(stack, StepAction.DONE.value, **step(case.id, "fix"))
        for key in ("amends", "follow_up", "record"):
            await click(stack, StepAction.DONE.value, **step(case.id, key))
        await click(stack, StepAction.CLOSE_CASE.value, message_ts=card(stack)["ts"])
        await click(stack, StepAction.REOPEN_CASE.value, message_ts=card(stack)["ts"])
        await submit(stack, {StepBlock.REOPEN_REASON.value: "The replacement broke too"})
        for key in ("fix", "record"):
            await click(stack, StepAction.DONE.value, **step(case.id, key))
        await click(stack, StepAction.CLOSE_CASE.value, message_ts=card(stack)["ts"])
        thread = replies(stack)
        print(f"\nWith a not-yet and a reopen the thread has {len(thread)} messages:")
        for message in thread:
            print(f"  - {(message.get('metadata') or {}).get('event_type')}: {message.get('text')}")
        texts = [text_of(m) for m in thread]
        twice = [t[:200] for t in set(texts) if texts.count(t) > 1]
        assert twice == [], "two thread messages say the same"
        stack.double.assert_no_rejections()
