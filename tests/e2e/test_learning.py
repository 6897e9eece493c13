"""End to end: a recurring root cause raises one alert in the process channel, which becomes a process fix."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import date, timedelta

from sqlalchemy import func, select

from handlers.ids import LearningId, StepAction
from storage.learning import ProcessFixRow, RecurrenceAlertRow
from tests.e2e.conftest import Stack
from tests.e2e.test_playbook import click

StackFactory = Callable[..., AbstractAsyncContextManager[Stack]]


async def record_root_cause(stack: Stack, category: str, *, customer: str) -> None:
    await stack.report_case(customer_name=customer)
    # The root-cause step is the fourth: get there through the playbook as people would.
    await stack.apologise(pick="latest")
    await click(stack, StepAction.DONE.value, pick="latest")
    await click(stack, StepAction.TAKE_OWNERSHIP.value, pick="latest")
    await click(stack, StepAction.RECORD_ROOT_CAUSE.value, pick="latest")
    response = await stack.alice.submit_view(
        {"Root cause": category, "What caused it": "Courier van without cooling"}
    )
    assert response.field_errors == {}
    await stack.settle()


async def alerts(stack: Stack) -> list[RecurrenceAlertRow]:
    async with stack.mend.db.transaction() as session:
        return list((await session.execute(select(RecurrenceAlertRow))).scalars())


async def test_recurring_root_cause_alert_and_process_fix(make_stack: StackFactory) -> None:
    async with make_stack(recurrence_threshold=2, process_channel="CPROCESS1") as stack:
        process = stack.double.add_channel(
            "process", channel_id="CPROCESS1", members=[stack.alice.id, stack.bob.id]
        )
        await record_root_cause(stack, "carrier_logistics", customer="Dana Cole")
        assert stack.double.messages(process) == []  # one case is not a pattern
        await record_root_cause(stack, "billing_error", customer="Lee Park")
        await record_root_cause(stack, "carrier_logistics", customer="<!here> Sam")
        [alert] = stack.double.messages(process)
        text = json.dumps(alert["blocks"], ensure_ascii=False)
        assert "Recurring root cause: Carrier / logistics" in text and "2 cases" in text
        assert "R-0001" in text and "R-0003" in text and "R-0002" not in text
        assert "<!here>" not in text
        # A third case in the same window does not raise the alarm again.
        await record_root_cause(stack, "carrier_logistics", customer="Ann")
        assert len(stack.double.messages(process)) == 1 and len(await alerts(stack)) == 1

        await stack.bob.click(LearningId.CREATE_FIX.value)
        await stack.settle()
        past = (date.today() - timedelta(days=2)).isoformat()
        refused = await stack.bob.submit_view(
            {"What will change": "Cooled vans for cakes", "Owner": stack.alice.id, "Due": past}
        )
        assert LearningId.FIX_DUE.value in refused.field_errors
        due = (date.today() + timedelta(days=14)).isoformat()
        saved = await stack.bob.submit_view(
            {"What will change": "Cooled vans for cakes", "Owner": stack.alice.id, "Due": due}
        )
        assert saved.field_errors == {}
        await stack.settle()
        async with stack.mend.db.transaction() as session:
            [fix] = list((await session.execute(select(ProcessFixRow))).scalars())
            assert await session.scalar(select(func.count()).select_from(ProcessFixRow)) == 1
        assert (fix.owner_user_id, fix.created_by, fix.category) == (
            stack.alice.id,
            stack.bob.id,
            "carrier_logistics",
        )
        updated = json.dumps(stack.double.messages(process)[0]["blocks"], ensure_ascii=False)
        assert "Cooled vans for cakes" in updated and f"<@{stack.alice.id}>" in updated and due in updated
        assert stack.double.rejected_calls == []
