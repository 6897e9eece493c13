"""Hostile input, property-based, over signed HTTP against the running app through the Slack double.

Whatever a person types or a forged client sends (slash-command text, every report field, button values,
private_metadata, payloads of the wrong shape; every Unicode plane, control characters, NUL, 100 kB
strings, mrkdwn and link injection), Mend answers 200 with a field error or a polite message: never a
5xx, never a traceback, never a payload Slack would refuse, never a stored case that can't be shown.
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from bot.cases import Severity
from bot.playbook import DEFAULT_STEPS
from handlers.blocks.cases import (
    build_case_card,
    build_case_opened_notice,
    build_thread_opening,
    case_card_text,
)
from handlers.ids import Action, Command, ReportBlock
from handlers.web import MAX_BODY_BYTES
from slack_double.blocks import validate_message_blocks
from slack_double.user import AppResponse
from storage.cases import case_from_row
from tests.e2e.conftest import Stack
from tests.e2e.test_report_case import REPORT, open_report, state_of
from tests.reliability.strategies import any_json, field_text, hostile_text

FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
INPUT_BLOCKS = [b for b in ReportBlock if b is not ReportBlock.SOURCE]
TEXT_BLOCKS = [b for b in INPUT_BLOCKS if b not in (ReportBlock.SEVERITY, ReportBlock.CATEGORY)]
CATEGORIES = ["delivery", "billing", "product_defect", "staff_conduct", "wait_time", "communication", "other"]
TRACEBACK_MARKS = ("Traceback", 'File "', "Error:", "Exception")
_ids = itertools.count(1)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def encoded_size(payload: Any) -> int:
    """About how many bytes a payload takes as Slack's form-encoded interactivity body."""
    return len(urlencode({"payload": json.dumps(payload)}))


def next_view_id() -> str:
    return f"V0FUZZ{next(_ids):06d}"


class Watch:
    """What must stay true after every hostile request."""

    def __init__(self, stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
        self.stack = stack
        self.caplog = caplog
        caplog.set_level(logging.INFO)
        self.requests = 0
        self._calls = 0
        self._logs = 0
        self._ephemerals = 0

    def begin(self) -> None:
        """Each example is judged on what it caused, not on what earlier examples left behind."""
        self._calls = len(self.stack.double.calls)
        self._logs = len(self.caplog.records)
        self._ephemerals = len(self.stack.double.ephemerals())

    async def check(
        self, response: AppResponse, *, cases_may_grow_by: int = 0, before: int = 0, sent: Any = None
    ) -> None:
        self.requests += 1
        if response.status == 413:
            # Only a request over the size limit may be refused, and Slack never sends one that big.
            assert sent is not None and encoded_size(sent) > MAX_BODY_BYTES - 4096, response.body
            return
        assert response.status == 200, (response.status, response.body)
        assert not response.timed_out
        assert not any(mark in json.dumps(response.body) for mark in TRACEBACK_MARKS), response.body
        await self.stack.settle()
        double = self.stack.double
        rejected = [c for c in double.rejected_calls if double.calls.index(c) >= self._calls]
        assert rejected == [], [(c.method, c.error, c.errors) for c in rejected]
        errors = [r for r in self.caplog.records[self._logs :] if r.levelno >= logging.ERROR]
        assert errors == [], [r.getMessage() for r in errors]
        for ephemeral in double.ephemerals()[self._ephemerals :]:
            assert not any(mark in ephemeral.text for mark in TRACEBACK_MARKS), ephemeral.text
        if cases_may_grow_by:
            assert await self.stack.count_cases() <= before + cases_may_grow_by
        await self.cases_still_render()
        double.clear_views(self.stack.alice.id)

    async def cases_still_render(self) -> None:
        """Every stored case renders everything built from it: a bad row would break every later page."""
        config = self.stack.mend.cases.config
        for row in await self.stack.case_rows():
            case = case_from_row(row)
            assert validate_message_blocks([b.to_dict() for b in build_case_card(case, config)]) == []
            assert (
                validate_message_blocks([b.to_dict() for b in build_thread_opening(case, DEFAULT_STEPS)])
                == []
            )
            _, notice = build_case_opened_notice(case, None)
            assert validate_message_blocks([b.to_dict() for b in notice]) == []
            assert len(case_card_text(case, config)) <= 4000


@pytest.fixture
def watch(stack: Stack, caplog: pytest.LogCaptureFixture) -> Watch:
    return Watch(stack, caplog)


# ---- /recover text --------------------------------------------------------------------------------


@FUZZ
@given(text=hostile_text)
async def test_recover_text(stack: Stack, watch: Watch, text: str) -> None:
    watch.begin()
    response = await stack.alice.slash_command(Command.RECOVER.value, text, channel_id=stack.support)
    await watch.check(response)


# ---- the report modal, forged past every client-side limit -----------------------------------------


def mostly(
    usual: st.SearchStrategy[Any], odd: st.SearchStrategy[Any], times: int = 6
) -> st.SearchStrategy[Any]:
    return st.one_of(*([usual] * times), odd)


@st.composite
def report_values(draw: st.DrawFn) -> Any:
    """view.state.values: mostly the right shape with hostile values, sometimes the wrong shape anywhere."""
    if draw(st.sampled_from(["dict"] * 19 + ["json"])) == "json":
        return draw(any_json)
    values: dict[str, Any] = {}
    for block in INPUT_BLOCKS:
        # Hypothesis leans towards the first choice and the shortest value: well-formed comes first.
        shape = draw(st.sampled_from(["ok"] * 12 + ["missing", "json", "element json"]))
        if shape == "missing":
            continue
        if shape == "json":
            values[block.value] = draw(any_json)
            continue
        if shape == "element json":
            values[block.value] = {block.action_id: draw(any_json)}
            continue
        if block is ReportBlock.SEVERITY:
            value = draw(mostly(st.sampled_from([s.value for s in Severity]), hostile_text))
            element: Any = {"type": "radio_buttons", "selected_option": {"value": value}}
        elif block is ReportBlock.CATEGORY:
            value = draw(mostly(st.sampled_from(CATEGORIES), hostile_text))
            element = {"type": "static_select", "selected_option": {"value": value}}
        else:
            element = {"type": "plain_text_input", "value": draw(field_text)}
        values[block.value] = {block.action_id: element}
    return values


private_metadata = st.one_of(
    st.just('{"c": "C000000002"}'),
    st.just('{"c": "C000000002", "p": "https://mend-test.slack.com/archives/C000000002/p1700000000000100"}'),
    hostile_text,
    any_json.map(json.dumps),
    st.builds(lambda c, p: json.dumps({"c": c, "p": p}), any_json, any_json),
    st.integers(1, 100_000).map(lambda n: "[" * n + "]" * n),  # valid JSON, nested past any recursion limit
    any_json,  # not even a string
)
view_ids = st.one_of(st.builds(next_view_id), st.builds(next_view_id), hostile_text, any_json)


@FUZZ
@given(values=report_values(), metadata=private_metadata, view_id=view_ids)
async def test_report_submission(
    stack: Stack, watch: Watch, values: Any, metadata: Any, view_id: Any
) -> None:
    view = await report_view(stack)
    view = {**view, "id": view_id, "private_metadata": metadata}
    watch.begin()
    before = await stack.count_cases()
    response = await stack.forge_view_submission(stack.alice, view, values)
    for block_id, message in response.field_errors.items():
        assert block_id in {b.value for b in INPUT_BLOCKS}
        assert isinstance(message, str) and 0 < len(message) <= 2000
    await watch.check(response, cases_may_grow_by=1, before=before, sent=[view, values])
    event("stored a case" if await stack.count_cases() > before else "field error")


@FUZZ
@given(
    texts=st.fixed_dictionaries({b.value: st.one_of(field_text, st.none()) for b in TEXT_BLOCKS}),
    severity=st.sampled_from([s.value for s in Severity]),
    category=st.sampled_from(CATEGORIES),
    metadata=private_metadata,
)
# Pinned: pasted text of many short lines, which a random draw rarely makes (each line gains a ">" quoted).
@example(
    texts={
        **{b.value: None for b in TEXT_BLOCKS},
        ReportBlock.CUSTOMER_NAME.value: "Dana",
        ReportBlock.SUMMARY.value: "\n".join(["<"] * 700),
        ReportBlock.CUSTOMER_WORDS.value: "\n".join(["a"] * 1500),
        ReportBlock.IMPACT.value: "\n".join(["> x"] * 700),
    },
    severity="minor",
    category="other",
    metadata="{}",
)
async def test_stored_reports_with_hostile_text_render(
    stack: Stack, watch: Watch, texts: dict[str, str | None], severity: str, category: str, metadata: Any
) -> None:
    """Well-formed forms full of hostile text: most are stored, so storing and rendering them is exercised."""
    values = {ReportBlock.SEVERITY.value: severity, ReportBlock.CATEGORY.value: category, **texts}
    view = {**await report_view(stack), "id": next_view_id(), "private_metadata": metadata}
    watch.begin()
    before = await stack.count_cases()
    response = await stack.forge_view_submission(stack.alice, view, state_of(values))
    await watch.check(response, cases_may_grow_by=1, before=before, sent=[view, values])
    stored = await stack.count_cases() > before
    event("stored a case" if stored else "field error")
    if stored:
        [row] = (await stack.case_rows())[-1:]
        assert row.card_ts, "a stored case is announced"
        assert row.summary == CONTROL.sub("", texts[ReportBlock.SUMMARY.value] or "").strip()


_views: dict[int, dict[str, Any]] = {}


async def report_view(stack: Stack) -> dict[str, Any]:
    """The real report modal as Mend built it, opened once per stack."""
    key = id(stack)
    if key not in _views:
        _views[key] = copy.deepcopy(await open_report(stack))
        stack.double.clear_views(stack.alice.id)
    return _views[key]


async def test_a_valid_forged_submission_still_opens_a_case(stack: Stack, watch: Watch) -> None:
    """The property above must be able to store cases, or it proves nothing about rendering them."""
    view = await report_view(stack)
    watch.begin()
    response = await stack.forge_view_submission(
        stack.alice, {**view, "id": next_view_id()}, state_of(REPORT)
    )
    await watch.check(response)
    assert await stack.count_cases() == 1


# ---- button values and payloads of the wrong shape -------------------------------------------------


def button_click(stack: Stack, value: Any) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": stack.alice.id, "username": "alice", "team_id": stack.double.team_id},
        "api_app_id": stack.double.app_id,
        "token": stack.double.verification_token,
        "team": {"id": stack.double.team_id, "domain": "mend-test"},
        "trigger_id": stack.double.issue_trigger_id(stack.alice.id),
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": stack.support},
        "channel": {"id": stack.support, "name": "support"},
        "actions": [
            {
                "type": "button",
                "action_id": Action.REPORT_FROM_TEXT.value,
                "block_id": "b1",
                "value": value,
                "action_ts": "1700000001.000200",
            }
        ],
    }


@FUZZ
@given(value=st.one_of(hostile_text, any_json))
async def test_report_button_value(stack: Stack, watch: Watch, value: Any) -> None:
    watch.begin()
    click = button_click(stack, value)
    response = await stack.sender.post_interaction(click)
    await watch.check(response, sent=click)


def shortcut(stack: Stack) -> dict[str, Any]:
    return {
        "type": "message_action",
        "callback_id": "start_recovery",
        "user": {"id": stack.alice.id, "team_id": stack.double.team_id},
        "team": {"id": stack.double.team_id},
        "token": stack.double.verification_token,
        "trigger_id": stack.double.issue_trigger_id(stack.alice.id),
        "channel": {"id": stack.support, "name": "support"},
        "message_ts": "1700000000.000100",
        "message": {"type": "message", "text": "It broke", "ts": "1700000000.000100", "user": stack.bob.id},
        "action_ts": "1700000001.000200",
    }


async def submission(stack: Stack) -> dict[str, Any]:
    view = {**await report_view(stack), "id": next_view_id(), "state": {"values": state_of(REPORT)}}
    return {
        "type": "view_submission",
        "user": {"id": stack.alice.id, "team_id": stack.double.team_id},
        "team": {"id": stack.double.team_id},
        "api_app_id": stack.double.app_id,
        "token": stack.double.verification_token,
        "trigger_id": stack.double.issue_trigger_id(stack.alice.id),
        "view": view,
    }


PATHS = {
    "click": [
        ("user",),
        ("user", "id"),
        ("team",),
        ("channel",),
        ("channel", "id"),
        ("container",),
        ("container", "channel_id"),
        ("actions",),
        ("actions", 0),
        ("actions", 0, "value"),
        ("trigger_id",),
    ],
    "shortcut": [
        ("user",),
        ("user", "id"),
        ("channel",),
        ("channel", "id"),
        ("message",),
        ("message", "text"),
        ("message", "ts"),
        ("message_ts",),
        ("trigger_id",),
        ("team",),
    ],
    "submission": [
        ("user",),
        ("user", "id"),
        ("team",),
        ("team", "id"),
        ("view",),
        ("view", "id"),
        ("view", "state"),
        ("view", "state", "values"),
        ("view", "private_metadata"),
        ("view", "team_id"),
        ("view", "blocks"),
    ],
}


def mangle(payload: dict[str, Any], path: tuple[Any, ...], value: Any, delete: bool) -> dict[str, Any]:
    payload = copy.deepcopy(payload)
    target: Any = payload
    for key in path[:-1]:
        target = target[key]
    if delete and isinstance(target, dict):
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return payload


@FUZZ
@given(
    kind=st.sampled_from(sorted(PATHS)),
    data=st.data(),
    value=st.one_of(any_json, hostile_text),
    delete=st.booleans(),
)
async def test_payloads_of_the_wrong_shape(
    stack: Stack, watch: Watch, kind: str, data: st.DataObject, value: Any, delete: bool
) -> None:
    path = data.draw(st.sampled_from(PATHS[kind]))
    payload = {
        "click": lambda: button_click(stack, "Refund failed"),
        "shortcut": lambda: shortcut(stack),
    }.get(kind, lambda: None)()
    if payload is None:
        payload = await submission(stack)
    watch.begin()
    mangled = mangle(payload, path, value, delete)
    response = await stack.sender.post_interaction(mangled)
    await watch.check(response, cases_may_grow_by=1, before=await stack.count_cases(), sent=mangled)


# ---- raw bodies that are not Slack's at all (signed, so they reach the app) ----------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
        (b"payload=%ff%fe", "application/x-www-form-urlencoded"),
        (b"payload=not-json", "application/x-www-form-urlencoded"),
        (b"payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),  # a JSON list
        (b"payload=null", "application/x-www-form-urlencoded"),
        (b"", "application/x-www-form-urlencoded"),
        (b"{not json", "application/json"),
        (b"[]", "application/json"),
        (b'{"type": "event_callback", "event": "nope", "event_id": "Ev0RAW"}', "application/json"),
        (
            b'{"type": "event_callback", "event": {"type": ["app_mention"]}, "event_id": "Ev0RAW2"}',
            "application/json",
        ),
        (b"command=%2Frecover&text=%00&user_id=&channel_id=", "application/x-www-form-urlencoded"),
        (b"command=%2Frecover", "application/x-www-form-urlencoded"),
    ],
)
async def test_raw_bodies_never_get_a_5xx(stack: Stack, watch: Watch, body: bytes, content_type: str) -> None:
    watch.begin()
    response = await stack.sender.post(stack.sender.app_url, body, content_type)
    assert response.status < 500, (response.status, response.body)
    await watch.check(AppResponse(200, response.body))


async def test_a_body_over_the_limit_is_refused_politely(stack: Stack) -> None:
    response = await stack.alice.slash_command(Command.RECOVER.value, "x" * (MAX_BODY_BYTES + 1))
    assert response.status == 413
