"""Shared fields and parts: the ids listeners read, Slack's defaults left out, limits checked at to_dict()."""

from __future__ import annotations

from datetime import date

import pytest
from slack_sdk.errors import SlackObjectFormationError

from handlers.blocks import fields
from handlers.blocks.kit import button, button_row, context, section
from handlers.ids import FollowUpBlock, StepBlock
from tests.handlers.test_blocks_cases import HOSTILE, make_case


def test_a_text_input_takes_its_ids_from_the_field() -> None:
    block = fields.text_input(StepBlock.REASON, "Why?", max_length=40).to_dict()
    assert block["block_id"] == "skip_reason"
    assert block["element"] == {
        "type": "plain_text_input",
        "action_id": "skip_reason_input",
        "max_length": 40,
    }
    # Required and one line are Slack's defaults, so they are not sent.
    assert "optional" not in block


def test_a_long_text_input_is_multiline_up_to_slacks_limit() -> None:
    block = fields.long_text_input(
        StepBlock.REASON, "Why?", optional=True, hint="h", placeholder="p", initial_value="v"
    ).to_dict()
    assert block["optional"] is True and block["hint"]["text"] == "h"
    element = block["element"]
    assert element["multiline"] is True and element["max_length"] == fields.LONG_TEXT_LIMIT == 3000
    assert element["placeholder"]["text"] == "p" and element["initial_value"] == "v"


def test_a_redrawn_input_gets_a_new_block_id_but_keeps_its_action_id() -> None:
    block = fields.long_text_input(StepBlock.APOLOGY_DRAFT, "Draft", block_id="apology_draft_2").to_dict()
    assert block["block_id"] == "apology_draft_2"
    assert block["element"]["action_id"] == "apology_draft_input"


def test_choices() -> None:
    choices = fields.options([("a", "Alpha"), ("b", ":x: Beta")])
    select = fields.select_input(StepBlock.OWNER, "Pick", choices, initial=choices[1]).to_dict()
    assert select["element"]["placeholder"]["text"] == "Choose one"
    assert select["element"]["initial_option"]["value"] == "b"
    assert [o["text"] for o in select["element"]["options"]] == [
        {"type": "plain_text", "text": "Alpha"},
        {"type": "plain_text", "text": ":x: Beta"},
    ]
    assert fields.options([("a", ":x:")], emoji=True)[0].to_dict()["text"]["emoji"] is True
    radio = fields.radio_input(StepBlock.OWNER, "Pick", choices).to_dict()
    assert radio["element"]["type"] == "radio_buttons" and radio["element"]["action_id"] == "owner_input"


def test_person_and_date_and_time() -> None:
    person = fields.person_input(StepBlock.OWNER, "Owner", initial="U9").to_dict()
    assert person["element"] == {"type": "users_select", "action_id": "owner_input", "initial_user": "U9"}
    assert "initial_date" not in fields.date_input(FollowUpBlock.DATE, "Due").to_dict()["element"]
    day, clock = (
        b.to_dict()
        for b in fields.date_time_inputs(
            FollowUpBlock.DATE, FollowUpBlock.TIME, date(2026, 3, 1), "15:00", "Europe/Paris", ("By", "At")
        )
    )
    assert day["label"]["text"] == "By" and day["element"]["initial_date"] == "2026-03-01"
    assert clock["label"]["text"] == "At" and clock["element"]["initial_time"] == "15:00"
    assert clock["element"]["action_id"] == "followup_time_input"
    assert clock["hint"]["text"] == "In your time zone (Europe/Paris)."


def test_the_case_header_names_the_case_and_escapes_the_customer() -> None:
    case = make_case(customer_name=HOSTILE)
    text = fields.case_header(case, fields.customer_of(case), "second line").to_dict()["text"]["text"]
    head, second = text.split("\n")
    assert head.startswith(f"*{case.reference}* · ") and second == "second line"
    assert "<!channel>" not in head and "&lt;!channel&gt;" in head
    assert len(fields.customer_of(make_case(customer_name="x" * 500))) <= 200
    assert fields.case_line(case) == f"*{case.reference}*"


def test_a_modal_cancels_by_default_and_slack_limits_are_checked() -> None:
    view = fields.modal("cb", "Title", [section("hi")], private_metadata="{}").to_dict()
    assert view["type"] == "modal" and view["callback_id"] == "cb" and view["close"]["text"] == "Cancel"
    assert "submit" not in view and view["private_metadata"] == "{}"
    with pytest.raises(SlackObjectFormationError):
        fields.modal("cb", "A title longer than Slack allows", [section("hi")]).to_dict()


def test_buttons() -> None:
    row = [b.to_dict() for b in button_row("ref", (StepBlock.OWNER, "One"), ("two", "Two"))]
    assert row[0] == {
        "type": "button",
        "action_id": "owner",
        "text": {"type": "plain_text", "text": "One", "emoji": True},
        "value": "ref",
        "style": "primary",
    }
    assert "style" not in row[1] and row[1]["value"] == "ref"
    assert all("style" not in b.to_dict() for b in button_row("ref", ("a", "A"), primary=False))
    assert button("x", "Reject", style="danger").to_dict()["style"] == "danger"


def test_section_and_context() -> None:
    assert section("*hi*", block_id="b").to_dict() == {
        "type": "section",
        "block_id": "b",
        "text": {"type": "mrkdwn", "text": "*hi*"},
    }
    assert [e["text"] for e in context("a", "b").to_dict()["elements"]] == ["a", "b"]
