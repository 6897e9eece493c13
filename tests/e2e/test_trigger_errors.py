"""End to end: views.open refusing the trigger (expired, exchanged, invalid) wherever Mend opens a form.

Slack answers `expired_trigger_id` after its 3 seconds, `exchanged_trigger_id` for a trigger used already
(a replayed click, say) and `invalid_trigger_id` for one it never issued. Each time the person is told to
try again where they are, nothing is stored, no error is logged and the request still gets its 200.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from handlers.ids import AmendsAction, Command, StepAction
from slack_double.user import AppResponse
from tests.e2e.conftest import Stack
from tests.e2e.test_pickers import stored

TRIGGER_ERRORS = {
    "expired_trigger_id": "Slack took too long to open the form",
    "exchanged_trigger_id": "this click was used already",
    "invalid_trigger_id": "Slack didn't recognise that click",
}


async def from_recover(stack: Stack) -> AppResponse:
    return await stack.alice.slash_command(Command.RECOVER.value, "", channel_id=stack.support)


async def from_a_step_button(stack: Stack) -> AppResponse:
    return await stack.alice.click(StepAction.DRAFT_APOLOGY.value, pick="latest")


async def from_the_card(stack: Stack) -> AppResponse:
    [row] = await stack.case_rows()
    return await stack.alice.click(AmendsAction.OFFER.value, message_ts=row.card_ts)


OPENERS: dict[str, tuple[Callable[[Stack], Awaitable[AppResponse]], str]] = {
    "/recover": (from_recover, "try `/recover` again"),
    "a step prompt's button": (from_a_step_button, "click the button again"),
    "the case card's Offer amends": (from_the_card, "click the button again"),
}


@pytest.mark.parametrize("error", sorted(TRIGGER_ERRORS))
@pytest.mark.parametrize("opener", sorted(OPENERS))
async def test_a_refused_trigger_is_told_politely_wherever_a_form_opens(
    stack: Stack, caplog: pytest.LogCaptureFixture, opener: str, error: str
) -> None:
    open_form, again = OPENERS[opener]
    if opener != "/recover":
        await stack.report_case()
    stack.double.clear_views(stack.alice.id)
    before = await stored(stack)
    told = len(stack.double.ephemerals(user_id=stack.alice.id))
    opened = len(stack.double.calls_to("views.open"))
    caplog.set_level(logging.INFO)
    stack.double.faults.add("views.open", "error", error=error)

    response = await open_form(stack)
    await stack.settle()

    assert response.status == 200, response.body
    assert stack.double.open_views(stack.alice.id) == []
    [notice] = stack.double.ephemerals(user_id=stack.alice.id)[told:]
    assert TRIGGER_ERRORS[error] in notice.text and again in notice.text
    assert "Something went wrong" not in notice.text
    assert await stored(stack) == before
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert [c.error for c in stack.double.calls_to("views.open")[opened:]] == [error]


async def test_a_click_delivered_twice_opens_one_form_and_the_second_is_told_politely(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    """The same click delivered twice: Slack opens the form once and answers the second views.open with
    `exchanged_trigger_id`, which is no error of Mend's."""
    await stack.report_case()
    [row] = await stack.case_rows()
    found = stack.alice.find(AmendsAction.OFFER.value, message_ts=row.card_ts)
    click: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": stack.alice.id, "team_id": stack.double.team_id},
        "team": {"id": stack.double.team_id},
        "api_app_id": stack.double.app_id,
        "trigger_id": stack.double.issue_trigger_id(stack.alice.id),
        "container": {"type": "message", "channel_id": stack.recovery, "message_ts": row.card_ts},
        "channel": {"id": stack.recovery},
        "actions": [{**found.element, "block_id": found.block.get("block_id"), "action_ts": "1.2"}],
    }
    caplog.set_level(logging.INFO)
    stack.double.clear_views(stack.alice.id)
    opened = len(stack.double.calls_to("views.open"))
    told = len(stack.double.ephemerals(user_id=stack.alice.id))
    responses = []
    for _ in range(2):
        responses.append(await stack.sender.post_interaction(click))
        await stack.settle()
    assert [r.status for r in responses] == [200, 200]
    assert len(stack.double.open_views(stack.alice.id)) == 1
    assert [c.error for c in stack.double.calls_to("views.open")[opened:]] == [None, "exchanged_trigger_id"]
    [notice] = stack.double.ephemerals(user_id=stack.alice.id)[told:]
    assert "this click was used already" in notice.text
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
