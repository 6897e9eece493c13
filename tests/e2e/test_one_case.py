"""End to end: one customer, one open case; and a case started from a message answers that message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from handlers.ids import (
    Action,
    AmendsAction,
    AmendsBlock,
    DuplicateBlock,
    MessageMetadata,
    ReportBlock,
    Shortcut,
    StepAction,
)
from tests.e2e.conftest import Stack
from tests.e2e.test_amends import MakeStack, approval_messages, with_approvers
from tests.e2e.test_employee_care import RECORD
from tests.e2e.test_playbook import click
from tests.e2e.test_report_case import REPORT


def text_of(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks") or [], ensure_ascii=False) + str(message.get("text") or "")


def tagged(messages: list[dict[str, Any]], kind: MessageMetadata) -> list[dict[str, Any]]:
    return [m for m in messages if (m.get("metadata") or {}).get("event_type") == kind.value]


async def report_again(stack: Stack, **values: str) -> Any:
    """/recover and submit the report form; returns the submission's answer."""
    await stack.bob.slash_command("/recover", "", channel_id=stack.support)
    await stack.settle()
    return await stack.bob.submit_view({**REPORT, **values})


async def test_a_second_report_for_the_customer_shows_the_open_case_and_adds_to_it(stack: Stack) -> None:
    first = await stack.report_case(customer_name="Dana Cole", customer_ref="order #4411")
    # The same order, typed differently: case, spacing and punctuation fold to one customer.
    response = await report_again(
        stack,
        **{
            ReportBlock.CUSTOMER_REF.value: "ORDER 4411 ",
            ReportBlock.SUMMARY.value: "Second box was crushed too",
        },
    )
    assert response.status == 200 and response.field_errors == {}
    assert response.json["response_action"] == "update"
    assert await stack.count_cases() == 1  # nothing opened yet

    view = stack.bob.current_view()
    shown = text_of(view)
    assert "R-0001" in shown and f"<@{stack.alice.id}>" in shown and "/archives/" in shown
    assert "Add to R-0001 instead" in shown and "Open a new case anyway" in shown
    summary = next(b for b in view["blocks"] if b["block_id"] == ReportBlock.SUMMARY.value)
    assert summary["element"]["initial_value"] == "Second box was crushed too"  # what Bob typed is kept
    assert len(view["private_metadata"]) <= 3000

    response = await stack.bob.submit_view({ReportBlock.DUPLICATE_CHOICE.value: "add"})
    assert response.status == 200 and response.field_errors == {}
    assert stack.double.open_views(stack.bob.id) == []
    await stack.settle()
    # A replay of the same submission adds nothing more.
    await stack.forge_view_submission(
        stack.bob,
        view,
        {
            **{
                b: {f"{b}_input": {"type": "plain_text_input", "value": v}}
                for b, v in (
                    (ReportBlock.CUSTOMER_NAME.value, "Dana Cole"),
                    (ReportBlock.SUMMARY.value, "Second box was crushed too"),
                )
            },
            ReportBlock.SEVERITY.value: {
                "severity_input": {"type": "radio_buttons", "selected_option": {"value": "major"}}
            },
            ReportBlock.CATEGORY.value: {
                "category_input": {"type": "static_select", "selected_option": {"value": "delivery"}}
            },
            ReportBlock.DUPLICATE_CHOICE.value: {
                "duplicate_choice_input": {"type": "radio_buttons", "selected_option": {"value": "add"}}
            },
        },
    )
    await stack.settle()

    # The database: still one case; the report is in its audit trail, once.
    assert await stack.count_cases() == 1
    added = [e for e in await stack.mend.cases.events(first.id) if e.kind == "report_added"]
    assert len(added) == 1 and added[0].actor_user_id == stack.bob.id
    assert added[0].data["summary"] == "Second box was crushed too"
    # Slack: the report in the open case's thread, once.
    replies = stack.double.thread(stack.recovery, first.card_ts)  # type: ignore[arg-type]
    [posted] = tagged(replies, MessageMetadata.REPORT_ADDED)
    assert "Second box was crushed too" in text_of(posted) and f"<@{stack.bob.id}>" in text_of(posted)
    assert stack.double.rejected_calls == []


async def test_open_a_new_case_anyway(stack: Stack) -> None:
    await stack.report_case()
    response = await report_again(stack, **{ReportBlock.SUMMARY.value: "A different failure"})
    assert response.json["response_action"] == "update"
    response = await stack.bob.submit_view({ReportBlock.DUPLICATE_CHOICE.value: "new"})
    assert response.field_errors == {}
    await stack.settle()
    first, second = await stack.case_rows()
    assert second.summary == "A different failure" and second.reporter_user_id == stack.bob.id
    assert [e.kind for e in await stack.mend.cases.events(first.id)].count("report_added") == 0


async def test_another_customer_or_a_closed_case_opens_a_case_at_once(stack: Stack) -> None:
    await stack.report_case(customer_name="Dana Cole", customer_ref="order #4411")
    response = await report_again(
        stack, **{ReportBlock.CUSTOMER_NAME.value: "Eli Park", ReportBlock.CUSTOMER_REF.value: "order #9"}
    )
    assert response.json.get("response_action") is None  # closed: a case of its own
    await stack.settle()
    assert await stack.count_cases() == 2


def one_step(tmp_path: Path) -> Path:
    playbook = tmp_path / "one-step.toml"
    playbook.write_text('[[steps]]\nkey = "record"\n')
    return playbook


async def test_the_open_case_closing_meanwhile_is_told_in_the_form(
    make_stack: MakeStack, tmp_path: Path
) -> None:
    async with make_stack(playbook_file=one_step(tmp_path)) as stack:
        first = await stack.report_case()
        await report_again(stack)
        await click(stack, StepAction.WRITE_RECORD.value)
        assert (await stack.alice.submit_view(RECORD)).field_errors == {}
        await stack.settle()
        assert (await stack.case_rows())[0].state == "closed"

        response = await stack.bob.submit_view({ReportBlock.DUPLICATE_CHOICE.value: "add"})
        assert "R-0001 was closed meanwhile" in response.field_errors[ReportBlock.DUPLICATE_CHOICE.value]
        assert [e.kind for e in await stack.mend.cases.events(first.id)].count("report_added") == 0


async def test_start_recovery_answers_the_message_and_the_answer_follows_the_case(
    make_stack: MakeStack, tmp_path: Path
) -> None:
    async with make_stack(playbook_file=one_step(tmp_path)) as stack:
        await answers_the_message(stack)


async def answers_the_message(stack: Stack) -> None:
    complaint = stack.double.post_as_user(stack.bob.id, stack.support, "Customer says: charged twice!")
    await stack.alice.message_shortcut(Shortcut.START_RECOVERY.value, stack.support, complaint["ts"])
    await stack.settle()
    await stack.alice.submit_view(REPORT)
    await stack.settle()
    [row] = await stack.case_rows()

    [reply] = tagged(stack.double.thread(stack.support, complaint["ts"]), MessageMetadata.ORIGIN_REPLY)
    assert "R-0001" in text_of(reply) and f"<@{stack.alice.id}> owns it" in text_of(reply)
    assert "/archives/" in text_of(reply)  # a link to the case thread
    answered = [e for e in await stack.mend.cases.events(row.id) if e.kind == "origin_answered"]
    assert [(e.data["channel_id"], e.data["ts"]) for e in answered] == [(stack.support, reply["ts"])]

    # A second announce (the catch-up, a retry) answers nothing twice.
    await stack.mend.cases.announce(row.id)
    assert len(tagged(stack.double.thread(stack.support, complaint["ts"]), MessageMetadata.ORIGIN_REPLY)) == 1

    await click(stack, StepAction.WRITE_RECORD.value)
    assert (await stack.alice.submit_view(RECORD)).field_errors == {}
    await stack.settle()
    [reply] = tagged(stack.double.thread(stack.support, complaint["ts"]), MessageMetadata.ORIGIN_REPLY)
    assert "is closed" in text_of(reply)
    assert stack.double.rejected_calls == []


async def test_start_recovery_where_mend_cannot_post_skips_the_answer_quietly(stack: Stack) -> None:
    secret = stack.double.add_channel("vip", is_private=True, members=[stack.alice.id], bot_member=False)
    complaint = stack.double.post_as_user(stack.alice.id, secret, "They were overcharged")
    await stack.alice.message_shortcut(Shortcut.START_RECOVERY.value, secret, complaint["ts"])
    await stack.settle()
    await stack.alice.submit_view(REPORT)
    await stack.settle()
    [row] = await stack.case_rows()
    assert row.thread_opened_at is not None  # the case itself is announced in the recovery channel
    assert tagged(stack.double.thread(secret, complaint["ts"]), MessageMetadata.ORIGIN_REPLY) == []
    assert "origin_answered" not in await stack.event_kinds(row.id)
    assert [n.text for n in stack.double.ephemerals(user_id=stack.alice.id) if "can't post" in n.text] == []


def cards(stack: Stack) -> list[dict[str, Any]]:
    return tagged(stack.double.messages(stack.recovery), MessageMetadata.CASE_CARD)  # type: ignore[arg-type]


async def offer_on(stack: Stack, card: dict[str, Any], amount: str) -> None:
    assert (await stack.alice.click(AmendsAction.OFFER.value, message_ts=card["ts"])).status == 200
    await stack.settle()
    response = await stack.alice.submit_view(
        {
            AmendsBlock.KIND.value: "refund",
            AmendsBlock.AMOUNT.value: amount,
            AmendsBlock.JUSTIFICATION.value: "The cake was the centre of a child's party; the delay spoilt it.",
        }
    )
    assert response.field_errors == {}
    await stack.settle()


async def test_every_approval_request_lists_the_customers_other_amends(make_stack: MakeStack) -> None:
    async with make_stack(configure=with_approvers) as stack:
        for _ in range(3):  # three cases for one customer, opened on purpose
            await stack.report_case()
        first, second, third = cards(stack)
        await offer_on(stack, first, "40")  # within the agent's limit: granted
        await offer_on(stack, second, "120")  # pending
        carol = stack.people["carol"]
        [request] = approval_messages(stack, carol)
        line = next(b for b in request["blocks"] if "Also for this customer" in json.dumps(b))
        text = line["text"]["text"]
        assert "R-0001" in text and "€40.00 granted" in text and "/archives/" in text
        assert "R-0002" not in text  # not itself

        await offer_on(stack, third, "90")
        requests = approval_messages(stack, carol)
        newest = json.dumps(requests[-1]["blocks"], ensure_ascii=False)
        assert "R-0001" in newest and "€40.00 granted" in newest
        assert "R-0002" in newest and "€120.00 pending" in newest
        [row_one, row_two, _] = await stack.case_rows()
        for row in (row_one, row_two):  # each linked to its own case thread
            assert f"p{row.card_ts.replace('.', '')}" in newest  # type: ignore[union-attr]
        # Another customer's request lists nothing.
        await stack.report_case(customer_name="Eli Park", customer_ref="order #9")
        await offer_on(stack, cards(stack)[-1], "75")
        assert "Also for this customer" not in json.dumps(approval_messages(stack, carol)[-1]["blocks"])
        stack.double.assert_no_rejections()


async def test_close_as_duplicate_links_both_threads_and_asks_no_steps(stack: Stack) -> None:
    first = await stack.report_case()
    second = await stack.report_case()  # opened anyway, then found to be the same failure
    kept, dup = cards(stack)

    # Bob may not close Alice's case: refused before any form opens.
    assert (await stack.bob.click(Action.CLOSE_AS_DUPLICATE.value, message_ts=dup["ts"])).status == 200
    await stack.settle()
    assert stack.double.open_views(stack.bob.id) == []
    assert any("can close R-0002" in e.text for e in stack.double.ephemerals(user_id=stack.bob.id))

    assert (await stack.alice.click(Action.CLOSE_AS_DUPLICATE.value, message_ts=dup["ts"])).status == 200
    await stack.settle()
    assert stack.alice.current_view()["callback_id"] == "close_as_duplicate"
    for typed, problem in (
        ("R-0002", "That is this case"),
        ("R-0099", "There is no case R-0099"),
        ("cake", "like R-0001"),
    ):
        response = await stack.alice.submit_view({DuplicateBlock.OTHER.value: typed})
        assert problem in response.field_errors[DuplicateBlock.OTHER.value]
    assert (await stack.case_rows())[1].state == "open"

    response = await stack.alice.submit_view({DuplicateBlock.OTHER.value: "r-0001"})
    assert response.field_errors == {}
    await stack.settle()

    # The database: the duplicate is closed (required steps untouched), both trails say so.
    rows = await stack.case_rows()
    assert [r.state for r in rows] == ["open", "closed"]
    dup_events = await stack.mend.cases.events(second.id)
    assert [e.data.get("of") for e in dup_events if e.kind == "closed_as_duplicate"] == [first.id]
    assert "closed" in [e.kind for e in dup_events]
    kept_events = await stack.mend.cases.events(first.id)
    assert [e.data.get("duplicate") for e in kept_events if e.kind == "duplicate_closed"] == [second.id]
    # Slack: each thread links to the other.
    [note_in_dup] = tagged(stack.double.thread(stack.recovery, dup["ts"]), MessageMetadata.DUPLICATE_NOTE)  # type: ignore[arg-type]
    [note_in_kept] = tagged(stack.double.thread(stack.recovery, kept["ts"]), MessageMetadata.DUPLICATE_NOTE)  # type: ignore[arg-type]
    assert "duplicate of <https://" in text_of(note_in_dup) and "R-0001" in text_of(note_in_dup)
    assert "R-0002" in text_of(note_in_kept) and "/archives/" in text_of(note_in_kept)
    assert "Reopen" in text_of(cards(stack)[1])  # the closed case's card shows it closed

    # A closed case (or the kept one, once closed) can't be named again.
    assert (await stack.alice.click(Action.CLOSE_AS_DUPLICATE.value, message_ts=kept["ts"])).status == 200
    await stack.settle()
    response = await stack.alice.submit_view({DuplicateBlock.OTHER.value: "R-0002"})
    assert "R-0002 is closed" in response.field_errors[DuplicateBlock.OTHER.value]
    stack.double.assert_no_rejections()
