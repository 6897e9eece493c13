"""End to end: who may change a case (CASE_EDITORS), buttons addressed to one person, and forms opened only
for the workspace they belong to. Each refusal is checked in the double (no form, the ephemeral's words) and
in the database (nothing changed, the refusal in the case's trail)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from handlers.ids import FollowUpAction, LearningId, StepAction, StepBlock
from slack_double.server import SlackDouble
from slack_double.user import Person
from storage.followups import FollowUpRow
from storage.tables import CaseEventRow, CaseRow, CaseStepRow
from tests.e2e.conftest import APOLOGY, Stack
from tests.e2e.test_learning import record_root_cause

StackFactory = Callable[..., AbstractAsyncContextManager[Stack]]
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday, 10:00 in London, inside working hours


def with_carol_approving(double: SlackDouble) -> dict[str, Any]:
    carol = double.add_user("carol", real_name="Carol Lead", tz="Europe/London")
    double.workspace.channels[double.channel_id("recovery")].members.add(carol)
    return {"approver_ids": carol, "working_hours": "always"}


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
async def stack(make_stack: StackFactory, clock: FrozenClock) -> AsyncIterator[Stack]:
    async with make_stack(configure=with_carol_approving, clock=clock) as running:
        yield running


# ---- looking at the double and the database ---------------------------------------------------------


def views_opened(stack: Stack) -> int:
    return len(stack.double.calls_to("views.open"))


def told(stack: Stack, person: Person) -> list[str]:
    return [e.text for e in stack.double.ephemerals(user_id=person.id)]


async def case_row(stack: Stack, case_id: int) -> CaseRow:
    async with stack.mend.db.transaction() as session:
        row = await session.get(CaseRow, case_id)
        assert row is not None
        return row


async def step_status(stack: Stack, case_id: int, key: str) -> str:
    async with stack.mend.db.transaction() as session:
        query = select(CaseStepRow).where(CaseStepRow.case_id == case_id, CaseStepRow.step_key == key)
        return (await session.execute(query)).scalar_one().status


async def refusals(stack: Stack, case_id: int) -> list[tuple[str, str | None, dict[str, Any]]]:
    async with stack.mend.db.transaction() as session:
        query = (
            select(CaseEventRow)
            .where(CaseEventRow.case_id == case_id, CaseEventRow.kind.endswith("_refused"))
            .order_by(CaseEventRow.id)
        )
        return [(e.kind, e.actor_user_id, e.data) for e in (await session.execute(query)).scalars()]


async def click(stack: Stack, person: Person, action_id: str, **kwargs: Any) -> None:
    response = await person.click(action_id, **kwargs)
    assert response.status == 200
    await stack.settle()


def step_value(case_id: int, key: str) -> str:
    return json.dumps({"c": case_id, "s": key}, separators=(",", ":"))


async def finish_required_steps(stack: Stack, case_id: int) -> None:
    """Alice, the owner, clicks Done on every step of the default playbook."""
    await stack.apologise(case_id, stack.alice)
    for key in ("listen", "own", "root_cause", "fix", "amends", "follow_up", "record"):
        await click(stack, stack.alice, StepAction.DONE.value, value=step_value(case_id, key))


def text_state(block: str, action_id: str, text: str) -> dict[str, Any]:
    return {block: {action_id: {"type": "plain_text_input", "value": text}}}


# ---- CASE_EDITORS ---------------------------------------------------------------------------------------


async def test_only_the_owner_the_reporter_or_an_approver_closes_a_case(stack: Stack) -> None:
    case = await stack.report_case()  # reported, so owned, by Alice
    await finish_required_steps(stack, case.id)
    carol = stack.people["carol"]

    await click(stack, stack.bob, StepAction.CLOSE_CASE.value)
    assert (await case_row(stack, case.id)).state == "open"
    assert (
        f"Only the case owner <@{stack.alice.id}>, the reporter or an approver can close R-0001."
        in "\n".join(told(stack, stack.bob))
    )
    assert await refusals(stack, case.id) == [("case_change_refused", stack.bob.id, {"change": "close"})]

    await click(stack, carol, StepAction.CLOSE_CASE.value)  # an approver may
    row = await case_row(stack, case.id)
    assert row.state == "closed"
    assert [e.actor_user_id for e in await stack.mend.cases.events(case.id) if e.kind == "closed"] == [
        carol.id
    ]
    stack.double.assert_no_rejections()


async def test_writing_the_last_record_closes_the_case_only_for_those_who_may_close_it(stack: Stack) -> None:
    case = await stack.report_case()
    await stack.apologise(case.id, stack.alice)
    for key in ("listen", "own", "root_cause", "fix", "amends", "follow_up"):
        await click(stack, stack.alice, StepAction.DONE.value, value=step_value(case.id, key))
    await click(stack, stack.bob, StepAction.WRITE_RECORD.value)
    record = {
        StepBlock.RECORD_ROOT_CAUSE.value: "carrier_logistics",
        StepBlock.RECORD_WHAT_HAPPENED.value: "The cake was crushed in transit",
        StepBlock.RECORD_WHAT_FIXED.value: "A refund and a new cake",
    }
    refused = await stack.bob.submit_view(record)
    assert "can close R-0001" in " ".join(refused.field_errors.values())
    await stack.settle()
    assert (await case_row(stack, case.id)).state == "open" and await step_status(
        stack, case.id, "record"
    ) == "pending"
    assert await refusals(stack, case.id) == [("case_change_refused", stack.bob.id, {"change": "close"})]


async def test_a_required_step_is_skipped_only_by_those_who_may(stack: Stack) -> None:
    case = await stack.report_case()
    # Bob's click on Skip… opens nothing and says who may.
    opened = views_opened(stack)
    await click(stack, stack.bob, StepAction.SKIP.value, value=step_value(case.id, "apologize"))
    assert views_opened(stack) == opened and stack.double.open_views(stack.bob.id) == []
    assert any(
        f"Only the case owner <@{stack.alice.id}>, the reporter or an approver can skip a required step of R-0001"
        in t
        for t in told(stack, stack.bob)
    )
    # A submission crafted from Alice's form, sent as Bob, is refused on the form and changes nothing.
    await click(stack, stack.alice, StepAction.SKIP.value, value=step_value(case.id, "apologize"))
    view = stack.alice.current_view()
    forged = await stack.forge_view_submission(
        stack.bob, view, text_state(StepBlock.REASON.value, StepBlock.REASON.action_id, "no time")
    )
    assert "can skip a required step of R-0001" in forged.field_errors[StepBlock.REASON.value]
    await stack.settle()
    assert await step_status(stack, case.id, "apologize") == "pending"
    assert await refusals(stack, case.id) == [
        ("case_change_refused", stack.bob.id, {"change": "skip_required"}),
        ("case_change_refused", stack.bob.id, {"change": "skip_required"}),
    ]
    # Alice, the owner, may; and anyone may skip an optional step (amends).
    done = await stack.alice.submit_view({StepBlock.REASON.value: "Apologized by phone before reporting"})
    assert done.field_errors == {}
    await stack.settle()
    assert await step_status(stack, case.id, "apologize") == "skipped"
    for key in ("listen", "own", "root_cause", "fix"):
        await click(stack, stack.alice, StepAction.DONE.value, value=step_value(case.id, key))
    await click(stack, stack.bob, StepAction.SKIP.value, value=step_value(case.id, "amends"))
    skipped = await stack.bob.submit_view({StepBlock.REASON.value: "Customer declined"})
    assert skipped.field_errors == {}
    await stack.settle()
    assert await step_status(stack, case.id, "amends") == "skipped"


async def test_a_closed_case_is_reopened_only_by_those_who_may(stack: Stack) -> None:
    case = await stack.report_case()
    await finish_required_steps(stack, case.id)
    await click(stack, stack.alice, StepAction.CLOSE_CASE.value)
    assert (await case_row(stack, case.id)).state == "closed"

    opened = views_opened(stack)
    await click(stack, stack.bob, StepAction.REOPEN_CASE.value, pick="latest")
    assert stack.double.open_views(stack.bob.id) == [] and views_opened(stack) == opened
    assert any("can reopen R-0001" in t for t in told(stack, stack.bob))
    # A crafted submission of Alice's reopen form, as Bob.
    await click(stack, stack.alice, StepAction.REOPEN_CASE.value, pick="latest")
    view = stack.alice.current_view()
    reason = text_state(StepBlock.REOPEN_REASON.value, StepBlock.REOPEN_REASON.action_id, "I want it open")
    forged = await stack.forge_view_submission(stack.bob, view, reason)
    assert "can reopen R-0001" in forged.field_errors[StepBlock.REOPEN_REASON.value]
    await stack.settle()
    row = await case_row(stack, case.id)
    assert (row.state, row.reopen_count) == ("closed", 0)
    assert [r[2] for r in await refusals(stack, case.id)] == [{"change": "reopen"}, {"change": "reopen"}]

    reopened = await stack.alice.submit_view({StepBlock.REOPEN_REASON.value: "The new cake never came"})
    assert reopened.field_errors == {}
    await stack.settle()
    assert (await case_row(stack, case.id)).state == "open"


async def test_a_case_is_given_to_someone_else_only_by_those_who_may(stack: Stack) -> None:
    case = await stack.report_case()
    await stack.apologise(case.id, stack.alice)
    await click(stack, stack.alice, StepAction.DONE.value, value=step_value(case.id, "listen"))
    carol = stack.people["carol"]
    opened = views_opened(stack)
    await click(stack, stack.bob, StepAction.ASSIGN_OWNER.value)
    assert stack.double.open_views(stack.bob.id) == [] and views_opened(stack) == opened
    assert any("can reassign R-0001" in t for t in told(stack, stack.bob))
    await click(stack, stack.alice, StepAction.ASSIGN_OWNER.value)
    view = stack.alice.current_view()
    owner = {
        StepBlock.OWNER.value: {
            StepBlock.OWNER.action_id: {"type": "users_select", "selected_user": carol.id}
        }
    }
    forged = await stack.forge_view_submission(stack.bob, view, owner)
    assert "can reassign R-0001" in forged.field_errors[StepBlock.OWNER.value]
    await stack.settle()
    assert (await case_row(stack, case.id)).owner_user_id == stack.alice.id
    assert await step_status(stack, case.id, "own") == "pending"
    assert [r[2] for r in await refusals(stack, case.id)] == [{"change": "reassign"}, {"change": "reassign"}]
    # Taking a case for oneself is the ownership step itself: anyone in the channel may pick it up.
    await stack.alice.close_view()
    await click(stack, stack.bob, StepAction.TAKE_OWNERSHIP.value)
    assert (await case_row(stack, case.id)).owner_user_id == stack.bob.id


async def test_case_editors_anyone_restores_the_open_door(make_stack: StackFactory) -> None:
    async with make_stack(case_editors="anyone") as stack:
        case = await stack.report_case()
        await finish_required_steps(stack, case.id)
        await click(stack, stack.bob, StepAction.CLOSE_CASE.value)
        assert (await case_row(stack, case.id)).state == "closed"
        assert await refusals(stack, case.id) == []


async def test_case_editors_owner_alone_names_only_the_owner(make_stack: StackFactory) -> None:
    async with make_stack(case_editors="owner") as stack:
        case = await stack.report_case()
        await stack.apologise(case.id, stack.alice)
        await click(stack, stack.alice, StepAction.DONE.value, value=step_value(case.id, "listen"))
        await click(stack, stack.bob, StepAction.TAKE_OWNERSHIP.value)  # Bob owns it now
        await click(stack, stack.alice, StepAction.SKIP.value, value=step_value(case.id, "root_cause"))
        assert stack.double.open_views(stack.alice.id) == []
        assert any(
            f"Only the case owner <@{stack.bob.id}> can skip a required step of R-0001. Nothing changed." in t
            for t in told(stack, stack.alice)
        )


# ---- buttons on a message addressed to one person -------------------------------------------------------


async def follow_up_rows(stack: Stack, kind: str) -> list[FollowUpRow]:
    async with stack.mend.db.transaction() as session:
        query = select(FollowUpRow).where(FollowUpRow.kind == kind).order_by(FollowUpRow.id)
        return list((await session.execute(query)).scalars())


def nudge_value(row: FollowUpRow) -> str:
    return json.dumps({"f": row.id, "r": row.round}, separators=(",", ":"))


async def test_a_reminder_works_only_for_its_assignee_and_the_approvers(
    stack: Stack, clock: FrozenClock
) -> None:
    case = await stack.report_case()
    clock.advance(timedelta(minutes=16))
    assert await stack.tick() == 1  # the late-apology nudge, to Alice (the owner)
    [nudge] = await follow_up_rows(stack, "ack_nudge")
    opened = views_opened(stack)
    for action in (FollowUpAction.DONE, FollowUpAction.REASSIGN):
        await click(stack, stack.bob, action.value, value=nudge_value(nudge))
    assert stack.double.open_views(stack.bob.id) == [] and views_opened(stack) == opened
    assert any(
        f"This reminder on R-0001 is for <@{stack.alice.id}>: only they or an approver can act on it." in t
        for t in told(stack, stack.bob)
    )
    [nudge] = await follow_up_rows(stack, "ack_nudge")
    assert (nudge.state, nudge.resolved_by) == ("sent", None)
    assert await step_status(stack, case.id, "apologize") == "pending"
    assert (
        await refusals(stack, case.id)
        == [("follow_up_refused", stack.bob.id, {"addressee": stack.alice.id, "what": "reminder"})] * 2
    )

    await click(stack, stack.alice, FollowUpAction.DONE.value, value=nudge_value(nudge))  # opens the form
    assert (await stack.alice.submit_view({"Your message to the customer": APOLOGY})).field_errors == {}
    await stack.settle()
    [nudge] = await follow_up_rows(stack, "ack_nudge")
    assert (nudge.state, nudge.resolved_by) == ("resolved", stack.alice.id)
    assert await step_status(stack, case.id, "apologize") == "done"


async def test_a_managers_escalation_works_only_for_that_manager_and_the_approvers(
    make_stack: StackFactory, clock: FrozenClock
) -> None:
    def two_approvers(double: SlackDouble) -> dict[str, Any]:
        settings = with_carol_approving(double)
        dave = double.add_user("dave", real_name="Dave Lead")
        double.workspace.channels[double.channel_id("recovery")].members.add(dave)
        return {**settings, "approver_ids": f"{settings['approver_ids']},{dave}"}

    async with make_stack(configure=two_approvers, clock=clock) as stack:
        case = await stack.report_case()
        clock.advance(timedelta(minutes=31))
        await stack.tick()
        carol, dave = stack.people["carol"], stack.people["dave"]
        escalations = {r.recipient_user_id: r for r in await follow_up_rows(stack, "ack_escalation")}
        to_carol = escalations[carol.id]
        assert to_carol.state == "sent"
        # Alice owns the case, but the escalation is Carol's: Alice's click changes nothing.
        await click(stack, stack.alice, FollowUpAction.DONE.value, value=nudge_value(to_carol))
        assert any(f"is for <@{carol.id}>" in t for t in told(stack, stack.alice))
        assert {r.id: r.state for r in await follow_up_rows(stack, "ack_escalation")}[to_carol.id] == "sent"
        assert [(k, who) for k, who, _ in await refusals(stack, case.id)] == [
            ("follow_up_refused", stack.alice.id)
        ]
        # Another approver may act on it.
        await click(stack, dave, FollowUpAction.DONE.value, value=nudge_value(to_carol))
        resolved = {r.id: r for r in await follow_up_rows(stack, "ack_escalation")}[to_carol.id]
        assert (resolved.state, resolved.resolved_by) == ("resolved", dave.id)


# ---- every form is opened for its own workspace ---------------------------------------------------------


async def test_a_process_fix_form_opens_only_for_the_alerts_workspace(make_stack: StackFactory) -> None:
    async with make_stack(recurrence_threshold=2, process_channel="CPROCESS1") as stack:
        process = stack.double.add_channel(
            "process", channel_id="CPROCESS1", members=[stack.alice.id, stack.bob.id]
        )
        await record_root_cause(stack, "carrier_logistics", customer="Dana Cole")
        await record_root_cause(stack, "carrier_logistics", customer="Lee Park")
        button = stack.bob.find(LearningId.CREATE_FIX.value)
        assert button.message is not None
        opened = views_opened(stack)
        payload = {
            "type": "block_actions",
            "team": {"id": "T0OTHER", "domain": "other"},
            "user": {"id": stack.bob.id, "team_id": "T0OTHER"},
            "api_app_id": stack.double.app_id,
            "trigger_id": stack.double.issue_trigger_id(stack.bob.id),
            "container": {"type": "message", "channel_id": process, "message_ts": button.message["ts"]},
            "channel": {"id": process},
            "actions": [
                {
                    "type": "button",
                    "action_id": LearningId.CREATE_FIX.value,
                    "block_id": LearningId.ALERT_ACTIONS.value,
                    "value": button.element["value"],
                    "action_ts": "1",
                }
            ],
        }
        response = await stack.sender.post_interaction(payload)
        await stack.settle()
        assert response.status == 200
        assert views_opened(stack) == opened
        assert stack.double.open_views(stack.bob.id) == []
        assert any("another workspace" in t for t in told(stack, stack.bob))


# ---- every submission is stored once ---------------------------------------------------------------------


async def test_a_process_fix_submitted_three_times_is_stored_once(make_stack: StackFactory) -> None:
    from storage.learning import ProcessFixRow

    async with make_stack(recurrence_threshold=2, process_channel="CPROCESS1") as stack:
        stack.double.add_channel("process", channel_id="CPROCESS1", members=[stack.alice.id, stack.bob.id])
        await record_root_cause(stack, "carrier_logistics", customer="Dana Cole")
        await record_root_cause(stack, "carrier_logistics", customer="Lee Park")
        await click(stack, stack.bob, LearningId.CREATE_FIX.value)
        view = stack.bob.current_view()
        due = (datetime.now(UTC).date() + timedelta(days=14)).isoformat()
        first = await stack.bob.submit_view(
            {"What will change": "Cooled vans for cakes", "Owner": stack.alice.id, "Due": due}
        )
        assert first.field_errors == {}
        values = {
            LearningId.FIX_DESCRIPTION.value: {
                LearningId.FIX_DESCRIPTION.action_id: {
                    "type": "plain_text_input",
                    "value": "Cooled vans for cakes",
                }
            },
            LearningId.FIX_OWNER.value: {
                LearningId.FIX_OWNER.action_id: {"type": "users_select", "selected_user": stack.alice.id}
            },
            LearningId.FIX_DUE.value: {
                LearningId.FIX_DUE.action_id: {"type": "datepicker", "selected_date": due}
            },
        }
        for _ in range(2):  # Slack repeating the submission, or a double click on Create
            again = await stack.forge_view_submission(stack.bob, view, values)
            assert again.status == 200 and again.field_errors == {}
        await stack.settle()
        async with stack.mend.db.transaction() as session:
            fixes = list((await session.execute(select(ProcessFixRow))).scalars())
        assert [f.description for f in fixes] == ["Cooled vans for cakes"]  # not three of them
        assert fixes[0].submission_key == view["id"]
        stack.double.assert_no_rejections()


async def test_a_reminder_handed_to_someone_is_theirs_to_do_but_not_to_hand_on(
    stack: Stack, clock: FrozenClock
) -> None:
    case = await stack.report_case()
    clock.advance(timedelta(minutes=16))
    await stack.tick()
    [nudge] = await follow_up_rows(stack, "ack_nudge")
    await click(stack, stack.alice, FollowUpAction.REASSIGN.value, value=nudge_value(nudge))
    handed = await stack.alice.submit_view({"Who should take this on?": stack.bob.id})
    assert handed.field_errors == {}, handed.field_errors
    await stack.settle()
    assert await stack.tick() == 1  # the next round, to Bob
    [nudge] = await follow_up_rows(stack, "ack_nudge")
    assert (nudge.recipient_user_id, nudge.round, nudge.state) == (stack.bob.id, 1, "sent")
    # Bob may act on it, but giving the case's reminder to someone else is for those CASE_EDITORS names.
    opened = views_opened(stack)
    await click(stack, stack.bob, FollowUpAction.REASSIGN.value, value=nudge_value(nudge))
    assert views_opened(stack) == opened
    assert any("can reassign R-0001" in t for t in told(stack, stack.bob))
    assert (await refusals(stack, case.id))[-1] == (
        "case_change_refused",
        stack.bob.id,
        {"change": "reassign"},
    )
    await click(stack, stack.bob, FollowUpAction.DONE.value, value=nudge_value(nudge))
    assert (await stack.bob.submit_view({"Your message to the customer": APOLOGY})).field_errors == {}
    await stack.settle()
    [nudge] = await follow_up_rows(stack, "ack_nudge")
    assert (nudge.state, nudge.resolved_by) == ("resolved", stack.bob.id)
