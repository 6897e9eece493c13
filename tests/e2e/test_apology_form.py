"""End to end: every apology on record went through its form (the coach), from the step and from the nudge;
a playbook that turns the coach off lets Done finish the step."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from handlers.ids import FollowUpAction, StepAction, StepView
from storage.followups import FollowUpRow
from storage.tables import CaseRow, CaseStepRow
from tests.e2e.conftest import Stack
from tests.e2e.test_followups import nudges
from tests.e2e.test_playbook import GOOD_APOLOGY

START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
async def fstack(
    make_stack: Callable[..., AbstractAsyncContextManager[Stack]], clock: FrozenClock
) -> AsyncIterator[Stack]:
    async with make_stack(clock=clock, approver_ids="") as running:
        yield running


def text_of(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks") or [], ensure_ascii=False) + str(message.get("text"))


async def step(stack: Stack, case_id: int, key: str) -> CaseStepRow:
    async with stack.mend.db.transaction() as session:
        query = select(CaseStepRow).where(CaseStepRow.case_id == case_id, CaseStepRow.step_key == key)
        return (await session.execute(query)).scalar_one()


async def case_row(stack: Stack, case_id: int) -> CaseRow:
    async with stack.mend.db.transaction() as session:
        return (await session.execute(select(CaseRow).where(CaseRow.id == case_id))).scalar_one()


async def ack_nudge(stack: Stack) -> FollowUpRow:
    async with stack.mend.db.transaction() as session:
        return (
            await session.execute(select(FollowUpRow).where(FollowUpRow.kind == "ack_nudge"))
        ).scalar_one()


async def click(stack: Stack, action_id: str, **kwargs: Any) -> None:
    assert (await stack.alice.click(action_id, **kwargs)).status == 200
    await stack.settle()


def apology_forms(stack: Stack) -> list[dict[str, Any]]:
    opened = [
        json.loads(c.args["view"]) if isinstance(c.args["view"], str) else c.args["view"]
        for c in stack.double.calls_to("views.open")
    ]
    return [v for v in opened if v.get("callback_id") == StepView.APOLOGY.value]


async def test_done_on_the_apology_step_opens_the_form_and_its_submission_acknowledges(
    fstack: Stack, clock: FrozenClock
) -> None:
    case = await fstack.report_case()
    await click(fstack, StepAction.DONE.value)
    [form] = apology_forms(fstack)
    assert "Your message to the customer" in json.dumps(form) and "Start from a template" in json.dumps(form)
    assert (await step(fstack, case.id, "apologize")).status == "pending"  # Done alone records nothing
    assert (await case_row(fstack, case.id)).acknowledged_at is None

    clock.advance(timedelta(minutes=7))
    accepted = await fstack.alice.submit_view({"Your message to the customer": GOOD_APOLOGY})
    assert accepted.field_errors == {}
    await fstack.settle()
    apology = await step(fstack, case.id, "apologize")
    assert (apology.status, apology.note) == ("done", GOOD_APOLOGY)
    assert (await case_row(fstack, case.id)).acknowledged_at == START + timedelta(minutes=7)
    fstack.double.assert_no_rejections()


async def test_apology_sent_on_the_nudge_opens_the_form_which_finishes_the_step_and_resolves_the_nudge(
    fstack: Stack, clock: FrozenClock
) -> None:
    case = await fstack.report_case()
    clock.advance(timedelta(minutes=16))
    assert await fstack.tick() == 1
    await click(fstack, FollowUpAction.DONE.value)  # "Apology sent"
    assert len(apology_forms(fstack)) == 1
    assert (await step(fstack, case.id, "apologize")).status == "pending"
    assert (await ack_nudge(fstack)).state == "sent"  # still waiting: nothing was recorded yet

    clock.advance(timedelta(minutes=3))
    accepted = await fstack.alice.submit_view({"Your message to the customer": GOOD_APOLOGY})
    assert accepted.field_errors == {}
    await fstack.settle()
    assert (await step(fstack, case.id, "apologize")).note == GOOD_APOLOGY
    row = await ack_nudge(fstack)
    assert (row.state, row.resolution, row.resolved_by) == ("resolved", "done", fstack.alice.id)
    assert (await case_row(fstack, case.id)).acknowledged_at == START + timedelta(minutes=19)
    [nudge] = nudges(fstack)
    assert "Apology sent" in text_of(nudge) and FollowUpAction.DONE.value not in text_of(nudge)
    fstack.double.assert_no_rejections()


async def test_the_nudge_form_keeps_the_nudge_through_a_template(fstack: Stack, clock: FrozenClock) -> None:
    case = await fstack.report_case()
    clock.advance(timedelta(minutes=16))
    await fstack.tick()
    await click(fstack, FollowUpAction.DONE.value)
    await click(fstack, StepAction.APOLOGY_TEMPLATE.value, choose="The customer is angry or rude")
    draft = (
        "I'm so sorry the cake for your daughter's party arrived crushed and late; I can see how that "
        "spoiled the day. I've refunded the cake today and a replacement will reach you by 5pm."
    )
    draft_block = next(
        b["block_id"]
        for b in fstack.alice.current_view()["blocks"]
        if b.get("block_id", "").startswith("apology_draft")
    )
    assert (await fstack.alice.submit_view({draft_block: draft})).field_errors == {}
    await fstack.settle()
    assert (await step(fstack, case.id, "apologize")).status == "done"
    assert (await ack_nudge(fstack)).state == "resolved"


async def test_with_the_coach_turned_off_done_finishes_the_apology(
    make_stack: Callable[..., AbstractAsyncContextManager[Stack]], tmp_path: Path
) -> None:
    playbook = tmp_path / "playbook.toml"
    playbook.write_text('[[steps]]\nkey = "apologize"\ncoach = false\n\n[[steps]]\nkey = "record"\n')
    async with make_stack(playbook_file=playbook) as stack:
        case = await stack.report_case()
        await click(stack, StepAction.DONE.value)
        assert apology_forms(stack) == []
        assert (await step(stack, case.id, "apologize")).status == "done"
        assert (await case_row(stack, case.id)).acknowledged_at is not None
