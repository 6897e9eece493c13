"""The listener toolkit: a payload of every kind read once, forged fields read as None, a form's values."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError

from bot.errors import MendError
from handlers.blocks.followups import FollowUpRef
from handlers.blocks.recovery import StepRef
from handlers.interaction import PICK_A_PERSON, FieldError, Form, Interaction, ListenerKit, broken

CLICK: dict[str, Any] = {
    "type": "block_actions",
    "user": {"id": "U0ALICE", "team_id": "T0MEND"},
    "team": {"id": "T0MEND", "enterprise_id": "E0GRID"},
    "trigger_id": "1337.42.abcdef",
    "response_url": "https://hooks.slack.com/actions/T0MEND/1/abc",
    "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0SUPPORT"},
    "channel": {"id": "C0SUPPORT"},
    "message": {"ts": "1700000000.000100", "thread_ts": "1699999999.000001", "text": "card"},
    "actions": [{"action_id": "step_done", "value": StepRef(7, "ack").encode()}],
}


def test_a_click_is_read_once() -> None:
    click = Interaction.from_body(CLICK)
    assert (click.user_id, click.team_id, click.enterprise_id, click.channel_id) == (
        "U0ALICE",
        "T0MEND",
        "E0GRID",
        "C0SUPPORT",
    )
    assert click.trigger_id == "1337.42.abcdef"
    assert click.response_url == "https://hooks.slack.com/actions/T0MEND/1/abc"
    assert (click.message_ts, click.thread_ts) == ("1700000000.000100", "1699999999.000001")
    assert click.ref(StepRef) == StepRef(7, "ack")
    acting = click.require(StepRef)
    assert (acting.ref.case_id, acting.actor) == (7, {"actor_user_id": "U0ALICE", "team_id": "T0MEND"})


def test_a_command_a_submission_a_shortcut_and_an_event_are_read_alike() -> None:
    command = Interaction.from_body(
        {
            "command": "/recover",
            "text": "help",
            "user_id": "U0ALICE",
            "team_id": "T0MEND",
            "channel_id": "C0S",
        }
    )
    assert (command.user_id, command.team_id, command.channel_id, command.text) == (
        "U0ALICE",
        "T0MEND",
        "C0S",
        "help",
    )
    submitted = Interaction.from_body(
        {
            "type": "view_submission",
            "user": {"id": "U0ALICE", "team_id": "T0MEND"},
            "view": {"id": "V0ONE", "hash": "1.a", "private_metadata": '{"f":3,"r":1}', "team_id": "T0MEND"},
            "response_urls": [{"response_url": "https://hooks.slack.com/app/x"}],
        }
    )
    assert (submitted.view_id, submitted.view_hash, submitted.team_id) == ("V0ONE", "1.a", "T0MEND")
    assert submitted.ref(FollowUpRef, in_metadata=True) == FollowUpRef(3, 1)
    assert submitted.response_url == "https://hooks.slack.com/app/x"
    shortcut = Interaction.from_body(
        {
            "type": "message_action",
            "user": {"id": "U0A"},
            "channel": {"id": "C0S"},
            "message_ts": "1.2",
            "message": {"text": "It broke", "ts": "1700000000.000100"},
        }
    )
    assert (shortcut.message_ts, shortcut.message_text) == ("1700000000.000100", "It broke")
    opened = Interaction.from_body(
        {"team_id": "T0MEND", "event": {"type": "app_home_opened", "user": "U0A", "channel": "D0A"}}
    )
    assert (opened.user_id, opened.team_id, opened.channel_id) == ("U0A", "T0MEND", "D0A")


@pytest.mark.parametrize(
    ("body", "attribute"),
    [
        ({"user": {"id": "<@U0BOSS>"}}, "user_id"),
        ({"user": {"id": 5}}, "user_id"),
        ({"user_id": "U0 SPACE"}, "user_id"),
        ({"team": {"id": "t0lower"}}, "team_id"),
        ({"channel_id": "#general"}, "channel_id"),
        # Ids of the wrong kind: a channel as the person, a person as the channel, a user group as the team.
        ({"user": {"id": "C0SUPPORT"}}, "user_id"),
        ({"user_id": "S0GROUP"}, "user_id"),
        ({"channel": {"id": "U0ALICE"}}, "channel_id"),
        ({"team": {"id": "S0GROUP"}}, "team_id"),
        ({"trigger_id": "x" * 600}, "trigger_id"),
        ({"trigger_id": "a\nb"}, "trigger_id"),
        ({"response_url": "http://evil.example/hook"}, "response_url"),
        ({"container": {"message_ts": "yesterday"}}, "message_ts"),
        ({"view": {"id": "V0ONE", "hash": ["1"]}}, "view_hash"),
        ({"actions": []}, "value"),
        ({"actions": "click"}, "value"),
        ({"actions": [{"value": {"c": 1}}]}, "value"),
    ],
)
def test_a_forged_field_is_none_never_an_exception(body: dict[str, Any], attribute: str) -> None:
    assert getattr(Interaction.from_body(body), attribute) is None


@pytest.mark.parametrize(
    "body", [None, [], "payload", {"user": "U0A"}, {"view": {"private_metadata": "x" * 3001}}]
)
def test_anything_at_all_reads_as_an_interaction(body: Any) -> None:
    read = Interaction.from_body(body)
    assert read.private_metadata is None and read.acting(StepRef) is None
    with pytest.raises(MendError) as told:
        read.require(StepRef)
    assert told.value.user_message == broken(StepRef)


def test_a_form_reads_each_input_by_block_id() -> None:
    form = Form(
        {
            "reason": {"reason_input": {"type": "plain_text_input", "value": "Customer asked"}},
            "owner": {"owner_input": {"type": "users_select", "selected_user": "U0BOB"}},
            "kind": {"kind_input": {"type": "static_select", "selected_option": {"value": "refund"}}},
            "checks": {"checks_input": {"selected_options": [{"value": "a"}, {"value": 5}, "x"]}},
            "day": {"day_input": {"selected_date": "2031-05-06"}},
            "at": {"at_input": {"selected_time": "09:30"}},
            "draft_3": {"draft_input": {"value": "Sorry"}},
            "bad_day": {"bad_day_input": {"selected_date": "2031-02-30"}},
            "bad_user": {"bad_user_input": {"selected_user": "<!channel>"}},
        }
    )
    assert form.text("reason") == "Customer asked" and form.value("reason") == "Customer asked"
    # People are read by kind only (`user`, `person`), never as a bare value.
    assert form.user("owner") == "U0BOB" and form.person("owner") == "U0BOB" and form.value("owner") is None
    assert form.option("kind") == "refund" and form.value("kind") == "refund"
    assert form.options("checks") == ["a"]
    assert (form.date("day"), form.time("at")) == (dt.date(2031, 5, 6), dt.time(9, 30))
    assert form.block_starting("draft") == "draft_3" and form.text("draft_3", "draft_input") == "Sorry"
    assert form.date("bad_day") is None and form.user("bad_user") is None
    assert form.text("missing") is None and form.options("missing") == []


@pytest.mark.parametrize(
    "picked",
    [
        "U1><!channel><https://evil.example|x",
        "<@U0BOSS>",
        "C0SUPPORT",  # a channel's id in a people picker
        "S0GROUP",
        "B0BOT",
        "u0lower",
        "",
        5,
        ["U0BOB"],
        {"id": "U0BOB"},
    ],
)
def test_a_picker_holding_anything_but_a_person_id_is_a_field_error_not_nobody(picked: Any) -> None:
    form = Form({"owner": {"owner_input": {"type": "users_select", "selected_user": picked}}})
    assert form.user("owner") is None
    with pytest.raises(FieldError) as told:
        form.person("owner")
    assert (told.value.block, told.value.user_message) == ("owner", PICK_A_PERSON)


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"owner": {"owner_input": {"type": "users_select", "selected_user": None}}},
        {"owner": {"owner_input": {"type": "users_select"}}},
        {"other": {"other_input": {"selected_user": "U1><!channel>"}}},
    ],
)
def test_a_picker_left_empty_is_nobody(values: Any) -> None:
    assert Form(values).person("owner") is None


@pytest.mark.parametrize(
    "values", [{"owner": 5}, {"owner": None}, {"owner": {"owner_input": "U0BOB"}}, {"owner": {}}]
)
def test_a_picker_of_the_wrong_shape_is_a_field_error(values: Any) -> None:
    with pytest.raises(FieldError):
        Form(values).person("owner")


@pytest.mark.parametrize("values", [None, [], "x", {"reason": "x"}, {"reason": {"reason_input": 5}}])
def test_a_form_of_the_wrong_shape_reads_as_empty(values: Any) -> None:
    form = Form(values)
    assert form.text("reason") is None and form.value("reason") is None and form.date("reason") is None


class SlackResponseStub(dict[str, Any]):
    """What SlackApiError carries: the answer's JSON as `data`."""

    @property
    def data(self) -> dict[str, Any]:
        return dict(self)


class _Ack:
    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []

    async def __call__(self, **kwargs: Any) -> None:
        self.answers.append(kwargs)


async def _fails(exc: BaseException) -> None:
    raise exc


@pytest.mark.parametrize(
    ("exc", "says"),
    [
        (SlackApiError("users.info", SlackResponseStub({"ok": False, "error": "internal_error"})), "Slack"),
        (TimeoutError(), "Slack"),
        (aiohttp.ServerDisconnectedError(), "Slack"),
        (KeyError("a bug"), "Something went wrong on Mend's side (ref "),
    ],
)
async def test_a_save_failing_on_slack_or_on_a_bug_is_a_field_error_never_a_500(
    exc: BaseException, says: str
) -> None:
    """Bolt answers a listener's exception with a 500, which Slack shows as a broken form."""
    ack = _Ack()
    kit = ListenerKit(poster=None, tasks=None)  # type: ignore[arg-type]  # neither is reached on failure
    saved = await kit.save_then_ack(ack, Interaction(), _fails(exc), error_block="reason")  # type: ignore[arg-type]
    assert saved is False
    [answer] = ack.answers
    assert answer["response_action"] == "errors" and list(answer["errors"]) == ["reason"]
    assert says in answer["errors"]["reason"] and "nothing was saved" in answer["errors"]["reason"]


async def test_a_field_error_found_at_the_edge_goes_on_its_own_block() -> None:
    ack = _Ack()
    kit = ListenerKit(poster=None, tasks=None)  # type: ignore[arg-type]
    await kit.save_then_ack(
        ack,  # type: ignore[arg-type]
        Interaction(),
        _fails(FieldError("approver", PICK_A_PERSON)),
        error_block="amount",
        field_blocks={"approver": "somewhere_else"},
    )
    assert ack.answers == [{"response_action": "errors", "errors": {"approver": PICK_A_PERSON}}]
