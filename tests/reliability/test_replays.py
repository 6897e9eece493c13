"""Replayed interactions change state at most once: a double-submit, a retry, an attacker's replay."""

from __future__ import annotations

import asyncio
import copy

from handlers.ids import Action, Command
from tests.e2e.conftest import Stack
from tests.e2e.test_report_case import REPORT, open_report, state_of
from tests.e2e.test_report_resilience import cards_in


async def test_the_same_submission_five_times_at_once_opens_one_case(stack: Stack) -> None:
    view = await open_report(stack)
    responses = await asyncio.gather(
        *(stack.forge_view_submission(stack.alice, view, state_of(REPORT)) for _ in range(5))
    )
    await stack.settle()
    assert [r.status for r in responses] == [200] * 5
    assert all(r.field_errors == {} for r in responses)  # every copy is answered as a success ...
    assert await stack.count_cases() == 1  # ... and only one did anything
    [card] = cards_in(stack, stack.recovery)  # type: ignore[arg-type]
    # The card, the thread's opening and the playbook's first step: each once.
    assert len(stack.double.thread(stack.recovery, card["ts"])) == 3  # type: ignore[arg-type]
    assert len(stack.double.ephemerals(user_id=stack.alice.id)) == 1
    assert [e.kind for e in await stack.mend.cases.events(1)] == [
        "reported", "owner_assigned", "card_posted", "thread_opened",
    ]  # fmt: skip


async def test_a_submission_replayed_later_changes_nothing(stack: Stack) -> None:
    view = copy.deepcopy(await open_report(stack))
    assert (await stack.alice.submit_view(REPORT)).field_errors == {}
    await stack.settle()
    calls = len(stack.double.calls)
    # Hours later someone replays the captured request, with different words in it.
    replay = await stack.forge_view_submission(stack.alice, view, state_of({**REPORT, "summary": "changed"}))
    await stack.settle()
    assert replay.status == 200
    [row] = await stack.case_rows()
    assert row.summary == REPORT["summary"]
    assert stack.double.calls[calls:] == []  # nothing posted again


async def test_a_replayed_click_opens_no_case_and_at_most_one_form(stack: Stack) -> None:
    await stack.alice.slash_command(Command.RECOVER.value, "refnud", channel_id=stack.support)
    await stack.settle()
    found = stack.alice.find(Action.REPORT_FROM_TEXT.value)
    click = {
        "type": "block_actions",
        "user": {"id": stack.alice.id, "team_id": stack.double.team_id},
        "team": {"id": stack.double.team_id},
        "api_app_id": stack.double.app_id,
        "trigger_id": stack.double.issue_trigger_id(stack.alice.id),
        "container": {"type": "ephemeral", "channel_id": stack.support},
        "channel": {"id": stack.support},
        "actions": [{**found.element, "block_id": found.block.get("block_id"), "action_ts": "1.2"}],
    }
    responses = [await stack.sender.post_interaction(click) for _ in range(3)]
    await stack.settle()
    assert [r.status for r in responses] == [200] * 3
    assert len(stack.double.open_views(stack.alice.id)) == 1  # the trigger id works once
    assert await stack.count_cases() == 0
    stack.double.assert_no_rejections()
