"""End to end: a case walked through its playbook in the thread, with the apology coach and the card."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from sqlalchemy import select

from handlers.ids import StepAction, StepBlock
from storage.tables import CaseEventRow, CaseRow, CaseStepRow
from tests.e2e.conftest import Stack

ROOT = Path(__file__).resolve().parents[2]
GOOD_APOLOGY = (
    "Hi Dana, I'm so sorry we let you down: your birthday cake arrived crushed and two hours late, on your "
    "daughter's party day. I understand how upsetting that is. I've arranged a full refund and a fresh cake "
    "delivered by 4pm tomorrow, and I'll call you at 3pm to confirm."
)
MECHANICAL_APOLOGY = "We apologize for any inconvenience caused. Your feedback is important to us."


def text_of(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks") or [], ensure_ascii=False)


async def steps(stack: Stack, case_id: int) -> dict[str, CaseStepRow]:
    async with stack.mend.db.transaction() as session:
        query = select(CaseStepRow).where(CaseStepRow.case_id == case_id).order_by(CaseStepRow.position)
        rows = (await session.execute(query)).scalars()
        return {r.step_key: r for r in rows}


async def case_row(stack: Stack, case_id: int) -> CaseRow:
    async with stack.mend.db.transaction() as session:
        row = await session.get(CaseRow, case_id)
        assert row is not None
        return row


async def events(stack: Stack, case_id: int) -> list[CaseEventRow]:
    async with stack.mend.db.transaction() as session:
        query = select(CaseEventRow).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.id)
        return list((await session.execute(query)).scalars())


def card(stack: Stack, channel: str | None = None) -> dict[str, Any]:
    channel = channel or stack.recovery
    assert channel is not None
    return next(
        m
        for m in stack.double.messages(channel)
        if (m.get("metadata") or {}).get("event_type") == "mend_case_card"
    )


def thread(stack: Stack) -> list[dict[str, Any]]:
    assert stack.recovery is not None
    return stack.double.thread(stack.recovery, card(stack)["ts"])


async def click(stack: Stack, action_id: str, person: Any = None, **kwargs: Any) -> None:
    response = await (person or stack.alice).click(action_id, **kwargs)
    assert response.status == 200
    await stack.settle()


async def test_a_case_walked_from_report_to_closed(stack: Stack) -> None:
    row = await stack.report_case()
    assert "Progress *0/8*" in text_of(card(stack)) and "Next: *Acknowledge and apologize*" in text_of(
        card(stack)
    )

    # 1. The apology: the coach stops a mechanical one, with coaching on the field ...
    await click(stack, StepAction.DRAFT_APOLOGY.value)
    refused = await stack.alice.submit_view({"Your message to the customer": MECHANICAL_APOLOGY})
    [(block_id, coaching)] = refused.field_errors.items()
    assert block_id.startswith(StepBlock.APOLOGY_DRAFT.value)
    assert "formula" in coaching and "care" in coaching.lower()
    assert (await steps(stack, row.id))["apologize"].status == "pending"
    # ... and takes a good one, which is recorded as sent and shown in the thread.
    accepted = await stack.alice.submit_view({"Your message to the customer": GOOD_APOLOGY})
    assert accepted.field_errors == {}
    await stack.settle()
    apologize = (await steps(stack, row.id))["apologize"]
    assert (apologize.status, apologize.actor_user_id, apologize.note) == (
        "done",
        stack.alice.id,
        GOOD_APOLOGY,
    )
    sent = [e for e in await events(stack, row.id) if e.kind == "apology_sent"]
    assert len(sent) == 1 and sent[0].data["override"] is False
    assert sent[0].data["signals"] == {"care": True, "understand": True, "trust": True}
    assert any("Apology to the customer" in text_of(m) and "fresh cake" in text_of(m) for m in thread(stack))
    assert "Progress *1/8*" in text_of(card(stack))

    # 2. Listen: Done.
    await click(stack, StepAction.DONE.value)
    # 3. Ownership: Bob takes it.
    await click(stack, StepAction.TAKE_OWNERSHIP.value, person=stack.bob)
    assert (await case_row(stack, row.id)).owner_user_id == stack.bob.id
    assert f"<@{stack.bob.id}>" in text_of(card(stack))
    # 4. Root cause through its modal.
    await click(stack, StepAction.RECORD_ROOT_CAUSE.value, person=stack.bob)
    recorded = await stack.bob.submit_view(
        {"Root cause": "carrier_logistics", "What caused it": "The courier's van had no cooling on a hot day"}
    )
    assert recorded.field_errors == {}
    await stack.settle()
    assert (await case_row(stack, row.id)).root_cause_category == "carrier_logistics"
    # 5. Fix: Done. 6. Amends (optional): skipped without a reason.
    await click(stack, StepAction.DONE.value, person=stack.bob)
    await click(stack, StepAction.SKIP.value, person=stack.bob)
    assert (await stack.bob.submit_view({})).field_errors == {}
    await stack.settle()
    # 7. Follow-up (required): a skip needs a reason.
    await click(stack, StepAction.SKIP.value, person=stack.bob)
    no_reason = await stack.bob.submit_view({}, enforce_required=False)
    assert StepBlock.REASON.value in no_reason.field_errors
    await stack.bob.submit_view({StepBlock.REASON.value: "Customer asked us not to contact them again"})
    await stack.settle()
    # 8. Record: Done.
    await click(stack, StepAction.DONE.value, person=stack.bob)

    statuses = {k: s.status for k, s in (await steps(stack, row.id)).items()}
    assert statuses == {
        "apologize": "done",
        "listen": "done",
        "own": "done",
        "root_cause": "done",
        "fix": "done",
        "amends": "skipped",
        "follow_up": "skipped",
        "record": "done",
    }
    assert (await steps(stack, row.id))["follow_up"].note == "Customer asked us not to contact them again"
    assert "Progress *8/8*" in text_of(card(stack)) and "All steps finished" in text_of(card(stack))
    # Every finished prompt was redrawn in place without buttons: the thread reads as a clean log.
    prompts = [m for m in thread(stack) if (m.get("metadata") or {}).get("event_type") == "mend_step_prompt"]
    assert len(prompts) == 8
    assert all('"type": "button"' not in text_of(m) for m in prompts)

    await click(stack, StepAction.CLOSE_CASE.value, person=stack.bob)
    closed = await case_row(stack, row.id)
    assert closed.state == "closed" and closed.closed_at is not None
    assert "Closed" in text_of(card(stack)) and "Close case" not in text_of(card(stack))
    summary = text_of(thread(stack)[-1])
    assert "Recovery summary" in summary and "Carrier / logistics" in summary
    for moment in ("Reported", "Apologised", "Fixed", "Closed"):
        assert f"*{moment}*" in summary
    assert "Followed up" not in summary  # skipped, so not a moment of this recovery
    kinds = [e.kind for e in await events(stack, row.id)]
    assert kinds[:2] == ["reported", "owner_assigned"] and kinds[-1] == "closed"
    assert kinds.count("step_done") == 3 and kinds.count("step_skipped") == 2
    assert kinds.count("apology_sent") == kinds.count("root_cause_recorded") == 1
    assert stack.double.rejected_calls == []


async def test_double_clicked_done_changes_the_step_once(stack: Stack) -> None:
    row = await stack.report_case()
    await click(stack, StepAction.DRAFT_APOLOGY.value)
    await stack.alice.submit_view({"Your message to the customer": GOOD_APOLOGY})
    await stack.settle()
    # Both clicks find the same button on the same prompt, as a double click does.
    responses = await asyncio.gather(
        stack.alice.click(StepAction.DONE.value), stack.alice.click(StepAction.DONE.value)
    )
    await stack.settle()
    assert [r.status for r in responses] == [200, 200]
    assert [e.kind for e in await events(stack, row.id)].count("step_done") == 1
    assert (await steps(stack, row.id))["own"].prompt_ts is not None  # exactly one next prompt ...
    assert (
        len([m for m in thread(stack) if (m.get("metadata") or {}).get("event_type") == "mend_step_prompt"])
        == 3
    )
    told = [e.text for e in stack.double.ephemerals(user_id=stack.alice.id)]
    assert any("already done" in t for t in told)  # ... and the second click is told why nothing happened


async def test_close_is_refused_while_required_steps_are_open(stack: Stack) -> None:
    row = await stack.report_case()
    await click(stack, StepAction.CLOSE_CASE.value)
    assert (await case_row(stack, row.id)).state == "open"
    [notice] = [e for e in stack.double.ephemerals(user_id=stack.alice.id) if "can't be closed" in e.text]
    assert "Acknowledge and apologize" in notice.text and "Document and learn" in notice.text
    assert "Make amends" not in notice.text  # optional steps don't hold a case open


async def test_override_records_as_written_and_the_form_says_mend_sends_nothing(stack: Stack) -> None:
    row = await stack.report_case()
    await click(stack, StepAction.DRAFT_APOLOGY.value)
    # Mend never writes to the customer, so the form says what it does: check the draft and record it.
    view = stack.alice.current_view()
    form = json.dumps(view, ensure_ascii=False)
    assert view["submit"]["text"] == "Check and record"
    assert "Record it as written, even if the coach has suggestions" in form
    assert "Mend doesn't send this to the customer" in form
    assert "Record as sent" not in form and "Send as written" not in form
    response = await stack.alice.submit_view(
        {
            "Your message to the customer": MECHANICAL_APOLOGY,
            StepBlock.APOLOGY_OVERRIDE.value: ["send_as_written"],
        }
    )
    assert response.field_errors == {}
    await stack.settle()
    [sent] = [e for e in await events(stack, row.id) if e.kind == "apology_sent"]
    assert sent.data["override"] is True and "mechanical_formula" in sent.data["flags"]
    assert (await steps(stack, row.id))["apologize"].note == MECHANICAL_APOLOGY
    assert any("Apology to the customer" in text_of(m) for m in thread(stack))


async def test_template_fills_the_draft_and_placeholders_must_be_filled(stack: Stack) -> None:
    await stack.report_case()
    await click(stack, StepAction.DRAFT_APOLOGY.value)
    await click(stack, StepAction.APOLOGY_TEMPLATE.value, choose="The customer is angry or rude")
    view = stack.alice.current_view()
    draft = next(b for b in view["blocks"] if b.get("block_id", "").startswith(StepBlock.APOLOGY_DRAFT.value))
    assert draft["block_id"] != StepBlock.APOLOGY_DRAFT.value  # a new block id, so Slack shows the new text
    assert (
        "Dana" in draft["element"]["initial_value"] and "[day and time]" in draft["element"]["initial_value"]
    )
    response = await stack.alice.submit_view({})  # submitted as the template left it
    assert "[what you will do]" in next(iter(response.field_errors.values()))


async def test_template_greets_a_titled_customer_and_a_group_as_a_letter_would(stack: Stack) -> None:
    greetings = {"Mrs Ada Okonkwo": "Hi Mrs Okonkwo,\n", "The Smith wedding party": "Hi there,\n"}
    for customer, greeting in greetings.items():
        row = await stack.report_case(customer_name=customer)
        assert row.customer_name == customer
        await click(stack, StepAction.DRAFT_APOLOGY.value, pick="latest")
        await click(stack, StepAction.APOLOGY_TEMPLATE.value, choose="Standard")
        view = stack.alice.current_view()
        draft = next(
            b for b in view["blocks"] if b.get("block_id", "").startswith(StepBlock.APOLOGY_DRAFT.value)
        )
        assert draft["element"]["initial_value"].startswith(greeting), customer
        await stack.alice.close_view()
        await stack.settle()
    assert stack.double.rejected_calls == []


async def test_bad_input_in_the_apology_modal(stack: Stack) -> None:
    row = await stack.report_case()
    await click(stack, StepAction.DRAFT_APOLOGY.value)
    blank = await stack.alice.submit_view({"Your message to the customer": "   \n "}, enforce_required=False)
    assert "Write the message" in next(iter(blank.field_errors.values()))
    # Markup and a non-Latin script: the English-only coach steps aside rather than misjudging it.
    foreign = "<!channel> 🙏 非常抱歉，您的蛋糕送到时已经压坏了。我们今天下午四点前会送来新的蛋糕。"
    response = await stack.alice.submit_view({"Your message to the customer": foreign})
    assert response.status == 200 and response.field_errors == {}
    await stack.settle()
    assert (await steps(stack, row.id))["apologize"].note == foreign
    apology = next(m for m in thread(stack) if "Apology to the customer" in text_of(m))
    assert "<!channel>" not in text_of(apology) and "非常抱歉" in text_of(apology)
    assert stack.double.rejected_calls == []


async def test_buttons_of_a_closed_case_change_nothing(stack: Stack) -> None:
    row = await stack.report_case()
    async with stack.mend.db.transaction() as session:  # closed by another process meanwhile
        case = await session.get(CaseRow, row.id)
        assert case is not None
        case.state = "closed"
    await click(stack, StepAction.DONE.value)
    assert (await steps(stack, row.id))["apologize"].status == "pending"
    assert any("is closed" in e.text for e in stack.double.ephemerals(user_id=stack.alice.id))


async def test_a_payload_from_another_workspace_is_refused(stack: Stack) -> None:
    row = await stack.report_case()
    button = stack.alice.find(StepAction.DONE.value)
    payload = {
        "type": "block_actions",
        "team": {"id": "T0OTHER", "domain": "other"},
        "user": {"id": stack.alice.id, "team_id": "T0OTHER"},
        "api_app_id": stack.double.app_id,
        "trigger_id": stack.double.issue_trigger_id(stack.alice.id),
        "container": {
            "type": "message",
            "channel_id": stack.recovery,
            "message_ts": button.message["ts"] if button.message else "",
        },
        "channel": {"id": stack.recovery},
        "actions": [
            {
                "type": "button",
                "action_id": StepAction.DONE.value,
                "block_id": "step_actions",
                "value": button.element["value"],
                "action_ts": "1",
            }
        ],
    }
    response = await stack.sender.post_interaction(payload)
    await stack.settle()
    assert response.status == 200
    assert (await steps(stack, row.id))["apologize"].status == "pending"
    assert any("another workspace" in e.text for e in stack.double.ephemerals(user_id=stack.alice.id))


async def test_forged_button_values_are_answered_politely(stack: Stack) -> None:
    await stack.report_case()
    button = stack.alice.find(StepAction.DONE.value)
    for value in (
        "",
        "not json",
        '{"c": "1; DROP TABLE cases", "s": "x"}',
        '{"c": 999999, "s": "listen"}',
        "[]",
    ):
        payload = {
            "type": "block_actions",
            "team": {"id": stack.double.team_id},
            "user": {"id": stack.alice.id, "team_id": stack.double.team_id},
            "trigger_id": stack.double.issue_trigger_id(stack.alice.id),
            "container": {
                "type": "message",
                "channel_id": stack.recovery,
                "message_ts": button.message["ts"] if button.message else "",
            },
            "channel": {"id": stack.recovery},
            "actions": [
                {
                    "type": "button",
                    "action_id": StepAction.DONE.value,
                    "block_id": "step_actions",
                    "value": value,
                    "action_ts": "1",
                }
            ],
        }
        assert (await stack.sender.post_interaction(payload)).status == 200
    await stack.settle()
    told = [e.text for e in stack.double.ephemerals(user_id=stack.alice.id)]
    assert len(told) >= 5 and all("Traceback" not in t for t in told)


async def test_custom_playbook_file(
    make_stack: Callable[..., AbstractAsyncContextManager[Stack]], tmp_path: Path
) -> None:
    playbook = tmp_path / "playbook.toml"
    playbook.write_text(
        '[[steps]]\nkey = "apologize"\ntitle = "Say sorry, properly"\n\n'
        '[[steps]]\nkey = "refund"\ntitle = "Refund the order"\nwhat = "Refund in full within the hour."\nrequired = false\n\n'
        '[[steps]]\nkey = "record"\n'
    )
    async with make_stack(playbook_file=playbook) as stack:
        row = await stack.report_case()
        assert "Progress *0/3*" in text_of(card(stack)) and "Say sorry, properly" in text_of(card(stack))
        assert list(await steps(stack, row.id)) == ["apologize", "refund", "record"]
        await stack.apologise()
        assert "Refund the order" in text_of(thread(stack)[-1]) and "(optional)" in text_of(thread(stack)[-1])


def test_bad_playbook_file_stops_start_up(tmp_path: Path) -> None:
    bad = tmp_path / "playbook.yaml"
    bad.write_text("steps:\n  - key: apologize\n  - key: brand_new\n    titel: Typo here\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="0123456789abcdef", PLAYBOOK_FILE=str(bad))
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "PLAYBOOK_FILE" in result.stderr and "line 3" in result.stderr and "titel" in result.stderr
    assert "Traceback" not in result.stderr


async def finish_all_but_record(stack: Stack) -> None:
    await click(stack, StepAction.DRAFT_APOLOGY.value)
    await stack.alice.submit_view({"Your message to the customer": GOOD_APOLOGY})
    await stack.settle()
    for _ in range(2):  # listen, own
        await click(stack, StepAction.DONE.value)
    await click(stack, StepAction.RECORD_ROOT_CAUSE.value)
    await stack.alice.submit_view({"Root cause": "billing_error", "What caused it": "A double charge"})
    await stack.settle()
    await click(stack, StepAction.DONE.value)  # fix
    await click(stack, StepAction.SKIP.value)  # amends (optional)
    await stack.alice.submit_view({})
    await stack.settle()
    await click(stack, StepAction.DONE.value)  # follow up


RECORD = {
    "Root cause": "billing_error",
    "What happened": "The card was charged twice for one order",
    "What fixed it": "Refunded the duplicate charge the same day",
    "How to prevent it": "Idempotency key on the payment call",
    "Lesson learned": "Retries without a key double-charge",
}


async def test_writing_the_record_closes_the_case_with_a_summary_then_it_can_be_reopened(
    stack: Stack,
) -> None:
    row = await stack.report_case()
    await finish_all_but_record(stack)
    await click(stack, StepAction.WRITE_RECORD.value)
    view = stack.alice.current_view()
    category = next(b for b in view["blocks"] if b.get("block_id") == StepBlock.RECORD_ROOT_CAUSE.value)
    assert category["element"]["initial_option"]["value"] == "billing_error"  # from the root-cause step
    missing = await stack.alice.submit_view({"Root cause": "billing_error"}, enforce_required=False)
    assert set(missing.field_errors) == {StepBlock.RECORD_WHAT_HAPPENED.value}
    saved = await stack.alice.submit_view({**RECORD, "Process owner": stack.bob.id})
    assert saved.field_errors == {}
    await stack.settle()

    closed = await case_row(stack, row.id)
    assert closed.state == "closed" and closed.root_cause_category == "billing_error"
    assert closed.acknowledged_at is not None and closed.acknowledged_at <= closed.closed_at  # type: ignore[operator]
    summary = text_of(thread(stack)[-1])
    assert "Recovery summary" in summary and "Refunded the duplicate charge" in summary
    assert (
        "Idempotency key" in summary
        and f"<@{stack.bob.id}>" in summary
        and "Retries without a key" in summary
    )
    assert "Reopen" in text_of(card(stack))

    # Reopen: a reason is required; the card and thread open again, and the case can close again.
    await click(stack, StepAction.REOPEN_CASE.value)
    no_reason = await stack.alice.submit_view({}, enforce_required=False)
    assert StepBlock.REOPEN_REASON.value in no_reason.field_errors
    await stack.alice.submit_view({StepBlock.REOPEN_REASON.value: "Customer was charged a third time"})
    await stack.settle()
    reopened = await case_row(stack, row.id)
    assert reopened.state == "open" and reopened.reopen_count == 1 and reopened.closed_at is None
    assert any(
        "was reopened by" in text_of(m) and "charged a third time" in text_of(m) for m in thread(stack)
    )
    assert "Close case" in text_of(card(stack))
    # The fix and the record are reopened (the default): done again, the record closes it again.
    await click(stack, StepAction.DONE.value)  # the fix, posted again at the bottom
    await click(stack, StepAction.WRITE_RECORD.value)
    assert (await stack.alice.submit_view(RECORD)).field_errors == {}
    await stack.settle()
    assert (await case_row(stack, row.id)).state == "closed"
    summaries = [
        m for m in thread(stack) if (m.get("metadata") or {}).get("event_type") == "mend_case_closed"
    ]
    assert len(summaries) == 2  # one per closing
    kinds = [e.kind for e in await events(stack, row.id)]
    assert kinds.count("closed") == 2 and kinds.count("reopened") == 1 and "record_written" in kinds


async def test_record_with_required_steps_open_is_saved_without_closing(
    make_stack: Callable[..., AbstractAsyncContextManager[Stack]], tmp_path: Path
) -> None:
    playbook = tmp_path / "short.toml"
    playbook.write_text('[[steps]]\nkey = "record"\n\n[[steps]]\nkey = "fix"\n')
    async with make_stack(playbook_file=playbook) as stack:
        row = await stack.report_case()
        await click(stack, StepAction.WRITE_RECORD.value)
        assert (await stack.alice.submit_view(RECORD)).field_errors == {}
        await stack.settle()
        case = await case_row(stack, row.id)
        assert case.state == "open"  # "Fix the problem" is still open
        assert (await steps(stack, row.id))["record"].status == "done"
        assert "Progress *1/2*" in text_of(card(stack))
