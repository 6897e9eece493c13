"""End to end: `/recover` and the Start recovery shortcut open a case with its own thread."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from handlers.ids import Action, Command, MessageMetadata, ReportBlock, Shortcut
from tests.e2e.conftest import Stack
from tests.slack_payloads import live_markup_in

REPORT = {
    ReportBlock.CUSTOMER_NAME.value: "Dana Cole",
    ReportBlock.CUSTOMER_REF.value: "order #4411",
    ReportBlock.SUMMARY.value: "Birthday cake arrived crushed, two hours late",
    ReportBlock.CUSTOMER_WORDS.value: "My daughter's party was ruined.",
    ReportBlock.IMPACT.value: "Had to buy another cake at full price",
    ReportBlock.SEVERITY.value: "major",
    ReportBlock.CATEGORY.value: "delivery",
}


def customer(n: int) -> dict[str, str]:
    """A customer of their own for the n-th report (one customer's second report meets their open case)."""
    return {ReportBlock.CUSTOMER_NAME.value: f"Customer {n}", ReportBlock.CUSTOMER_REF.value: f"order #{n}"}


def mrkdwn_of(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


async def open_report(stack: Stack, text: str = "") -> dict[str, Any]:
    response = await stack.alice.slash_command(Command.RECOVER.value, text, channel_id=stack.support)
    assert response.status == 200 and not response.body
    await stack.settle()
    return stack.alice.current_view()


async def test_recover_opens_modal_and_submit_opens_case_thread(stack: Stack) -> None:
    view = await open_report(stack)
    assert view["callback_id"] == "report_failure"
    response = await stack.alice.submit_view(REPORT)
    assert response.status == 200 and response.field_errors == {}
    assert stack.double.open_views(stack.alice.id) == []  # the modal closed
    await stack.settle()

    # The database: one case, owned by the reporter, with its audit trail.
    [row] = await stack.case_rows()
    assert row.summary == REPORT[ReportBlock.SUMMARY.value]
    assert row.customer_words == REPORT[ReportBlock.CUSTOMER_WORDS.value]
    assert (row.severity, row.category, row.state) == ("major", "delivery", "open")
    assert row.reporter_user_id == row.owner_user_id == stack.alice.id
    assert row.origin_channel_id == stack.support
    assert row.card_channel_id == stack.recovery and row.card_ts
    assert await stack.event_kinds(row.id) == ["reported", "owner_assigned", "card_posted", "thread_opened"]

    # Slack: the card in the recovery channel, carrying its reference and metadata ...
    [card] = stack.double.messages(stack.recovery)  # type: ignore[arg-type]
    assert card["ts"] == row.card_ts
    assert "R-0001" in mrkdwn_of(card["blocks"]) and "Dana Cole" in mrkdwn_of(card["blocks"])
    assert card["metadata"]["event_type"] == MessageMetadata.CASE_CARD.value
    # ... a thread whose first reply says what happens next ...
    parent, *replies = stack.double.thread(stack.recovery, card["ts"])  # type: ignore[arg-type]
    assert parent["ts"] == card["ts"]
    opening, first_step = replies
    assert "Acknowledge and apologize" in mrkdwn_of(opening["blocks"])
    assert first_step["metadata"]["event_type"] == MessageMetadata.STEP_PROMPT.value
    # ... and the card shows the playbook's progress.
    assert "Progress *0/8*" in mrkdwn_of(card["blocks"])
    # ... and the reporter is told where it is, with a link to the thread.
    [notice] = stack.double.ephemerals(user_id=stack.alice.id, channel_id=stack.support)
    assert "R-0001" in notice.text and "/archives/" in notice.text
    assert stack.double.rejected_calls == []


async def test_recover_with_text_prefills_what_went_wrong(stack: Stack) -> None:
    view = await open_report(stack, "Refund sent to the wrong card")
    summary = next(b for b in view["blocks"] if b["block_id"] == ReportBlock.SUMMARY.value)
    assert summary["element"]["initial_value"] == "Refund sent to the wrong card"


async def test_recover_help_and_unknown_subcommand_answer_ephemerally(stack: Stack) -> None:
    help_response = await stack.alice.slash_command(Command.RECOVER.value, "help", channel_id=stack.support)
    assert help_response.status == 200
    assert help_response.json.get("response_type", "ephemeral") == "ephemeral"
    assert "/recover" in mrkdwn_of(help_response.json["blocks"])

    unknown = await stack.alice.slash_command(Command.RECOVER.value, "stats", channel_id=stack.support)
    assert "`stats`" in mrkdwn_of(unknown.json["blocks"])
    await stack.settle()
    assert stack.double.open_views(stack.alice.id) == []  # no modal for a typo
    # The offered button opens the form with the text filled in.
    await stack.alice.click(Action.REPORT_FROM_TEXT.value)
    await stack.settle()
    view = stack.alice.current_view()
    summary = next(b for b in view["blocks"] if b["block_id"] == ReportBlock.SUMMARY.value)
    assert summary["element"]["initial_value"] == "stats"
    assert await stack.count_cases() == 0


async def test_message_shortcut_prefills_text_and_permalink(stack: Stack) -> None:
    complaint = stack.double.post_as_user(
        stack.bob.id, stack.support, "Customer says: charged twice for March!"
    )
    response = await stack.alice.message_shortcut(
        Shortcut.START_RECOVERY.value, stack.support, complaint["ts"]
    )
    assert response.status == 200
    await stack.settle()
    view = stack.alice.current_view()
    summary = next(b for b in view["blocks"] if b["block_id"] == ReportBlock.SUMMARY.value)
    assert summary["element"]["initial_value"] == "Customer says: charged twice for March!"
    assert "/archives/" in mrkdwn_of(view["blocks"])  # the source message's permalink

    await stack.alice.submit_view({**REPORT, ReportBlock.CATEGORY.value: "billing"})
    await stack.settle()
    [row] = await stack.case_rows()
    assert row.source_permalink and f"/archives/{stack.support}/" in row.source_permalink
    [card] = stack.double.messages(stack.recovery)  # type: ignore[arg-type]
    assert "original message" in mrkdwn_of(card["blocks"])


async def test_invalid_submission_shows_field_errors_and_stores_nothing(stack: Stack) -> None:
    await open_report(stack)
    response = await stack.alice.submit_view(
        {
            ReportBlock.CUSTOMER_NAME.value: "   ",
            ReportBlock.SUMMARY.value: "   \n  ",
            ReportBlock.SEVERITY.value: "minor",
            ReportBlock.CATEGORY.value: "billing",
        }
    )
    assert response.status == 200
    assert set(response.field_errors) == {ReportBlock.CUSTOMER_NAME.value, ReportBlock.SUMMARY.value}
    assert stack.alice.current_view()["callback_id"] == "report_failure"  # still open
    await stack.settle()
    assert await stack.count_cases() == 0 and stack.double.messages(stack.recovery) == []  # type: ignore[arg-type]


def state_of(values: dict[str, Any]) -> dict[str, Any]:
    """view.state.values for the report modal, built by hand (no client-side checks)."""
    state: dict[str, Any] = {}
    for block in ReportBlock:
        if block.value in values:
            value = values[block.value]
            element = (
                {"type": "static_select", "selected_option": {"value": value}}
                if block in (ReportBlock.SEVERITY, ReportBlock.CATEGORY)
                else {"type": "plain_text_input", "value": value}
            )
            state[block.value] = {block.action_id: element}
    return state


async def test_forged_values_beyond_limits_are_field_errors(stack: Stack) -> None:
    view = await open_report(stack)
    forged = {**REPORT, ReportBlock.SUMMARY.value: "x" * 3500, ReportBlock.SEVERITY.value: "apocalyptic"}
    response = await stack.forge_view_submission(stack.alice, view, state_of(forged))
    assert response.status == 200
    assert set(response.field_errors) == {ReportBlock.SUMMARY.value, ReportBlock.SEVERITY.value}
    assert await stack.count_cases() == 0


async def test_hostile_text_is_shown_as_text_and_kept_in_full(stack: Stack) -> None:
    hostile = "<!channel> <!here> <!everyone> ping <@U0BOSS> at <https://evil.example|your bank> & co " * 30
    await open_report(stack)
    await stack.alice.submit_view(
        {**REPORT, ReportBlock.SUMMARY.value: hostile[:2990], ReportBlock.CUSTOMER_NAME.value: "<!channel>"}
    )
    await stack.settle()
    [row] = await stack.case_rows()
    assert row.summary == hostile[:2990].strip() and row.customer_name == "<!channel>"
    [card] = stack.double.messages(stack.recovery)  # type: ignore[arg-type]
    assert live_markup_in(card) == []
    assert "&lt;!channel&gt;" in mrkdwn_of(card["blocks"])
    for message in stack.double.thread(stack.recovery, card["ts"]):  # type: ignore[arg-type]
        assert live_markup_in(message) == []
    assert stack.double.rejected_calls == []


async def test_replayed_submission_opens_one_case(stack: Stack) -> None:
    view = await open_report(stack)
    first = await stack.alice.submit_view(REPORT)
    # A replayed request (a retry, a double-submit) carries the same view id as the first.
    again = await stack.forge_view_submission(stack.alice, view, state_of(REPORT))
    await stack.settle()
    assert first.status == again.status == 200
    assert await stack.count_cases() == 1
    assert len(stack.double.messages(stack.recovery)) == 1  # type: ignore[arg-type]


async def test_without_recovery_channel_the_card_goes_where_recover_was_typed(
    make_stack: Callable[..., AbstractAsyncContextManager[Stack]],
) -> None:
    async with make_stack(with_recovery_channel=False) as stack:
        await open_report(stack)
        await stack.alice.submit_view(REPORT)
        await stack.settle()
        [row] = await stack.case_rows()
        assert row.card_channel_id == stack.support
        cards = [m for m in stack.double.messages(stack.support) if m.get("metadata")]
        assert len(cards) == 1 and len(stack.double.thread(stack.support, cards[0]["ts"])) == 3
