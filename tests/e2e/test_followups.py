"""End to end: every kind of nudge and its buttons, through the Slack double, on a frozen clock."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.followups import FollowUpState
from handlers.ids import FollowUpAction, MessageMetadata, StepAction
from storage.followups import FollowUpRow, PromiseRow
from storage.tables import CaseEventRow, CaseStepRow
from tests.e2e.conftest import Stack

# A Tuesday, 10:00 in London (where Alice works) and 05:00 in New York (where Bob does).
TUESDAY_10_LONDON = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(TUESDAY_10_LONDON)


@pytest.fixture
async def fstack(
    make_stack: Callable[..., AbstractAsyncContextManager[Stack]], clock: FrozenClock
) -> AsyncIterator[Stack]:
    async with make_stack(clock=clock, approver_ids="") as running:
        yield running


def text_of(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks") or [], ensure_ascii=False) + str(message.get("text"))


def thread(stack: Stack) -> list[dict[str, Any]]:
    assert stack.recovery is not None
    card = next(
        m
        for m in stack.double.messages(stack.recovery)
        if (m.get("metadata") or {}).get("event_type") == MessageMetadata.CASE_CARD.value
    )
    return stack.double.thread(stack.recovery, card["ts"])


def nudges(stack: Stack) -> list[dict[str, Any]]:
    return [
        m for m in thread(stack) if (m.get("metadata") or {}).get("event_type") == MessageMetadata.FOLLOW_UP.value
    ]


async def rows(stack: Stack, kind: str | None = None) -> list[FollowUpRow]:
    async with stack.mend.db.transaction() as session:
        query = select(FollowUpRow).order_by(FollowUpRow.id)
        if kind:
            query = query.where(FollowUpRow.kind == kind)
        return list((await session.execute(query)).scalars())


async def event_kinds(stack: Stack, case_id: int) -> list[str]:
    async with stack.mend.db.transaction() as session:
        query = select(CaseEventRow.kind).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.id)
        return list((await session.execute(query)).scalars())


async def step_status(stack: Stack, case_id: int, key: str) -> str:
    async with stack.mend.db.transaction() as session:
        row = (
            await session.execute(
                select(CaseStepRow).where(CaseStepRow.case_id == case_id, CaseStepRow.step_key == key)
            )
        ).scalar_one()
        return row.status


async def click(stack: Stack, action_id: str, person: Any = None, **kwargs: Any) -> None:
    response = await (person or stack.alice).click(action_id, **kwargs)
    assert response.status == 200
    await stack.settle()


async def test_ack_nudge_goes_to_the_owner_after_the_period_and_done_finishes_the_apology(
    fstack: Stack, clock: FrozenClock
) -> None:
    case = await fstack.report_case()
    [nudge_row] = await rows(fstack, "ack_nudge")
    assert nudge_row.due_at == TUESDAY_10_LONDON + timedelta(minutes=15)
    assert await fstack.tick() == 0  # not due yet
    clock.advance(timedelta(minutes=16))
    assert await fstack.tick() == 1
    [nudge] = nudges(fstack)
    assert f"<@{fstack.alice.id}>" in text_of(nudge) and "no apology yet" in text_of(nudge)
    assert (await rows(fstack, "ack_nudge"))[0].state == FollowUpState.SENT
    assert await fstack.tick() == 0  # sent once, never again

    await click(fstack, FollowUpAction.DONE.value)
    assert await step_status(fstack, case.id, "apologize") == "done"
    [nudge] = nudges(fstack)
    assert "Done" in text_of(nudge) and FollowUpAction.DONE.value not in text_of(nudge)  # updated in place
    row = (await rows(fstack, "ack_nudge"))[0]
    assert (row.state, row.resolution, row.resolved_by) == ("resolved", "done", fstack.alice.id)
    assert "ack_nudge_done" in await event_kinds(fstack, case.id)
    fstack.double.assert_no_rejections()


async def test_ack_nudge_is_cancelled_when_the_apology_was_done_meanwhile(fstack: Stack, clock: FrozenClock) -> None:
    await fstack.report_case()
    await click(fstack, StepAction.DONE.value)  # the apology step, done from its prompt
    clock.advance(timedelta(hours=1))
    assert await fstack.tick() == 1
    assert nudges(fstack) == []
    row = (await rows(fstack, "ack_nudge"))[0]
    assert row.state == "cancelled" and row.outcome == "cancelled: apology done"
