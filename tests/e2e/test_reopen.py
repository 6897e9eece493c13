"""End to end: "Not yet" and Reopen lead somewhere. A reopened step is posted again at the bottom of the
thread (its old prompt says so), later steps wait, the case asks about the customer again before closing,
and a case closed again posts an updated summary once and asks a manager to check in once per case."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from handlers.ids import FollowUpAction, MessageMetadata, StepAction, StepBlock
from storage.followups import FollowUpRow
from storage.tables import CaseRow, CaseStepRow
from tests.e2e.conftest import Stack
from tests.e2e.test_employee_care import check_ins

START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday, in working hours in London


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
async def rstack(
    make_stack: Callable[..., AbstractAsyncContextManager[Stack]], clock: FrozenClock
) -> AsyncIterator[Stack]:
    async with make_stack(clock=clock, approvers=("bob",)) as running:  # Bob is asked to check in
        yield running


def text_of(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks") or [], ensure_ascii=False) + str(message.get("text"))


def kind_of(message: dict[str, Any]) -> str | None:
    return (message.get("metadata") or {}).get("event_type")


def card(stack: Stack) -> dict[str, Any]:
    assert stack.recovery is not None
    return next(
        m for m in stack.double.messages(stack.recovery) if kind_of(m) == MessageMetadata.CASE_CARD.value
    )


def thread(stack: Stack) -> list[dict[str, Any]]:
    assert stack.recovery is not None
    return stack.double.thread(stack.recovery, card(stack)["ts"])


def message(stack: Stack, ts: str | None) -> dict[str, Any]:
    return next(m for m in thread(stack) if m["ts"] == ts)


async def steps(stack: Stack, case_id: int) -> dict[str, CaseStepRow]:
    async with stack.mend.db.transaction() as session:
        query = select(CaseStepRow).where(CaseStepRow.case_id == case_id).order_by(CaseStepRow.position)
        return {r.step_key: r for r in (await session.execute(query)).scalars()}


async def case_row(stack: Stack, case_id: int) -> CaseRow:
    async with stack.mend.db.transaction() as session:
        return (await session.execute(select(CaseRow).where(CaseRow.id == case_id))).scalar_one()


async def customer_follow_ups(stack: Stack) -> list[FollowUpRow]:
    async with stack.mend.db.transaction() as session:
        query = select(FollowUpRow).where(FollowUpRow.kind == "customer_follow_up").order_by(FollowUpRow.id)
        return list((await session.execute(query)).scalars())


async def click(stack: Stack, action_id: str, **kwargs: Any) -> None:
    assert (await stack.alice.click(action_id, **kwargs)).status == 200
    await stack.settle()


async def done(stack: Stack, case_id: int, key: str) -> None:
    await click(
        stack, StepAction.DONE.value, value=json.dumps({"c": case_id, "s": key}, separators=(",", ":"))
    )


async def walk_to_step_seven(stack: Stack, case_id: int) -> None:
    await stack.apologise(case_id)
    for key in ("listen", "own", "root_cause", "fix", "amends"):
        await done(stack, case_id, key)


async def not_yet(stack: Stack, clock: FrozenClock) -> None:
    clock.advance(timedelta(days=1))
    assert await stack.tick() >= 1
    [asked] = [m for m in thread(stack) if "Is the customer satisfied?" in text_of(m)]
    await click(stack, FollowUpAction.NOT_YET.value, message_ts=asked["ts"])


async def test_not_yet_posts_the_fix_again_at_the_bottom_and_later_steps_wait(
    rstack: Stack, clock: FrozenClock
) -> None:
    case = await rstack.report_case()
    await walk_to_step_seven(rstack, case.id)
    before = await steps(rstack, case.id)
    old_fix, old_follow_up = before["fix"].prompt_ts, before["follow_up"].prompt_ts
    assert old_follow_up is not None and before["follow_up"].status == "pending"  # step 7 is live

    await not_yet(rstack, clock)
    after = await steps(rstack, case.id)
    assert after["fix"].status == "pending" and after["fix"].note == "customer not satisfied yet"
    # The fix is posted again as the newest message of the thread, with its buttons.
    fresh = after["fix"].prompt_ts
    assert fresh is not None and fresh != old_fix
    assert all(float(fresh) >= float(m["ts"]) for m in thread(rstack))
    assert StepAction.DONE.value in text_of(message(rstack, fresh)) and "Reopened" in text_of(
        message(rstack, fresh)
    )
    # The old prompts far up are history: the fix "reopened below", step 7 waiting, no buttons.
    assert "reopened below" in text_of(message(rstack, old_fix))
    assert "waiting" in text_of(message(rstack, old_follow_up))
    for old in (old_fix, old_follow_up):
        assert '"type": "button"' not in text_of(message(rstack, old))
    # Later steps wait (none finished, step 7 without a live prompt); amends stays granted.
    assert after["follow_up"].status == "pending" and after["follow_up"].prompt_ts is None
    assert after["record"].status == "pending" and after["amends"].status == "done"
    assert "Next: *Fix the problem*" in text_of(card(rstack))
    rstack.double.assert_no_rejections()


async def test_after_not_yet_the_case_asks_about_the_customer_again_before_closing(
    rstack: Stack, clock: FrozenClock
) -> None:
    case = await rstack.report_case()
    await walk_to_step_seven(rstack, case.id)
    await not_yet(rstack, clock)
    await click(rstack, StepAction.CLOSE_CASE.value)
    assert (await case_row(rstack, case.id)).state == "open"
    [refused] = [
        e.text for e in rstack.double.ephemerals(user_id=rstack.alice.id) if "can't be closed" in e.text
    ]
    assert "Fix the problem" in refused and "Is the customer satisfied?" in refused
    # The fix done again asks about the customer again, and step 7 comes back at the bottom.
    await done(rstack, case.id, "fix")
    assert len(await customer_follow_ups(rstack)) == 2
    follow_up = (await steps(rstack, case.id))["follow_up"]
    assert follow_up.prompt_ts is not None and all(
        float(follow_up.prompt_ts) >= float(m["ts"]) for m in thread(rstack)
    )


async def test_reopen_asks_what_is_reopened_and_a_second_closing_posts_an_updated_summary_once(
    rstack: Stack, clock: FrozenClock
) -> None:
    case = await rstack.report_case()
    await walk_to_step_seven(rstack, case.id)
    for key in ("follow_up", "record"):
        await done(rstack, case.id, key)
    await click(rstack, StepAction.CLOSE_CASE.value)
    assert (await case_row(rstack, case.id)).state == "closed"
    assert len(check_ins(rstack, rstack.bob.id)) == 1
    old_fix = (await steps(rstack, case.id))["fix"].prompt_ts

    await click(rstack, StepAction.REOPEN_CASE.value)
    modal = rstack.alice.current_view()
    [choice] = [b for b in modal["blocks"] if b.get("block_id") == StepBlock.REOPEN_STEPS.value]
    assert [o["value"] for o in choice["element"]["initial_options"]] == ["fix", "record"]  # the default
    saved = await rstack.alice.submit_view({StepBlock.REOPEN_REASON.value: "The replacement broke too"})
    assert saved.field_errors == {}
    await rstack.settle()
    reopened = await steps(rstack, case.id)
    assert {k for k, s in reopened.items() if s.status == "pending"} == {"fix", "record"}
    shown = text_of(card(rstack))
    assert (
        "Progress *6/8*" in shown and "Next: *Fix the problem*" in shown and "All steps finished" not in shown
    )
    fresh = reopened["fix"].prompt_ts
    assert fresh is not None and fresh != old_fix and "reopened below" in text_of(message(rstack, old_fix))

    await done(rstack, case.id, "fix")
    await done(rstack, case.id, "record")
    await click(rstack, StepAction.CLOSE_CASE.value)
    assert (await case_row(rstack, case.id)).state == "closed"
    summaries = [text_of(m) for m in thread(rstack) if kind_of(m) == MessageMetadata.CASE_CLOSED.value]
    assert len(summaries) == 2 and "closed again" not in summaries[0]
    assert sum("closed again" in s for s in summaries) == 1 and "Updated recovery summary" in summaries[1]
    assert len(check_ins(rstack, rstack.bob.id)) == 1  # one check-in per case, across close-reopen-close
    rstack.double.assert_no_rejections()


async def test_reopen_with_only_the_record_chosen_leaves_the_fix_done(rstack: Stack) -> None:
    case = await rstack.report_case()
    await walk_to_step_seven(rstack, case.id)
    for key in ("follow_up", "record"):
        await done(rstack, case.id, key)
    await click(rstack, StepAction.CLOSE_CASE.value)
    await click(rstack, StepAction.REOPEN_CASE.value)
    none = await rstack.alice.submit_view(
        {StepBlock.REOPEN_REASON.value: "Typo in the record", StepBlock.REOPEN_STEPS.value: []},
        enforce_required=False,
    )
    assert StepBlock.REOPEN_STEPS.value in none.field_errors
    assert (await case_row(rstack, case.id)).state == "closed"
    chosen = await rstack.alice.submit_view(
        {StepBlock.REOPEN_REASON.value: "Typo in the record", StepBlock.REOPEN_STEPS.value: ["record"]}
    )
    assert chosen.field_errors == {}
    await rstack.settle()
    statuses = {k: s.status for k, s in (await steps(rstack, case.id)).items()}
    assert statuses["record"] == "pending" and statuses["fix"] == "done"
    assert "Progress *7/8*" in text_of(card(rstack)) and "Next: *Document and learn*" in text_of(card(rstack))
