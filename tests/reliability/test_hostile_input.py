"""Hostile input, property-based, over signed HTTP against the running app through the Slack double.

Whatever a person types or a forged client sends (slash-command text, every report field, button values,
private_metadata, payloads of the wrong shape; every Unicode plane, control characters, NUL, 100 kB
strings, mrkdwn and link injection), Mend answers 200 with a field error or a polite message: never a
5xx, never a traceback, never a payload Slack would refuse, never a stored case that can't be shown.
"""

from __future__ import annotations

import copy
import inspect
import itertools
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import handlers
from bot.apology_templates import Situation
from bot.cases import Severity
from bot.clock import FrozenClock
from bot.followups import SnoozeChoice
from bot.playbook import DEFAULT_STEPS
from handlers.blocks.cases import (
    build_case_card,
    build_case_opened_notice,
    build_thread_opening,
    case_card_text,
)
from handlers.blocks.followups import FollowUpRef
from handlers.blocks.recovery import StepRef
from handlers.ids import (
    Action,
    AmendsAction,
    AmendsBlock,
    Command,
    Event,
    FollowUpBlock,
    LearningId,
    ReportBlock,
    StepAction,
    StepBlock,
    View,
)
from handlers.interaction import PICK_A_PERSON
from handlers.payloads import slack_id
from handlers.people import AN_APP, ANOTHER_WORKSPACE, DEACTIVATED, NOT_A_PERSON
from handlers.web import MAX_BODY_BYTES
from slack_double.blocks import validate_message_blocks
from slack_double.user import AppResponse, build_state_values
from storage import schema
from storage.cases import case_from_row
from storage.followups import FollowUpRow
from tests.e2e.conftest import Stack
from tests.e2e.test_pickers import (
    PICKERS,
    TUESDAY_10_LONDON,
    open_process_fix,
    open_reassign,
    with_people,
)
from tests.e2e.test_report_case import REPORT, open_report, state_of
from tests.reliability.strategies import (
    any_json,
    field_text,
    hostile_text,
    input_elements,
    json_scalars,
    ref_values,
    short_hostile_text,
)

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


# ---- every listener in the index --------------------------------------------------------------------
# Each command, shortcut, action, view and event handlers/__init__.py registers gets hostile payloads over
# signed HTTP. Besides what Watch checks (no 5xx, no traceback, nothing Slack would refuse, no error logged),
# a payload that names nothing real changes nothing: not one stored row, not one message in a channel.


class _Index:
    """Stands in for Bolt's app while handlers.register runs: records what is registered under which id."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, str]] = []

    def __getattr__(self, kind: str) -> Callable[..., Any]:
        def register(*args: Any, **_: Any) -> Callable[[Any], Any]:
            if args and isinstance(args[0], str):
                self.routes.append((kind, args[0]))
            return lambda listener: listener

        return register


class _AnyListeners:
    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


def registered_routes() -> list[tuple[str, str]]:
    index = _Index()
    groups = list(inspect.signature(handlers.register).parameters)[1:]
    handlers.register(index, **{group: _AnyListeners() for group in groups})  # type: ignore[arg-type]
    return index.routes


ROUTES = registered_routes()
ACTIONS = sorted(i for kind, i in ROUTES if kind == "action")
VIEWS = sorted(i for kind, i in ROUTES if kind == "view_submission")
OTHERS = sorted((kind, i) for kind, i in ROUTES if kind in ("command", "shortcut", "event"))
# The report modal opens a case from free text: a well-formed one may store one (the properties above).
CREATES = {View.REPORT.value}
BLOCK_IDS = sorted(
    {b.value for ids in (ReportBlock, StepBlock, AmendsBlock, FollowUpBlock, LearningId) for b in ids}
)
FORGED_TEAM = "T0FORGED"
# The tables a request may write without acting on anything: the Events API delivery log.
BOOKKEEPING = {"processed_events"}
CHANGES = {"chat.postMessage", "chat.update", "chat.delete", "reactions.add", "files.completeUploadExternal"}


def test_the_properties_cover_every_registered_listener() -> None:
    assert {kind for kind, _ in ROUTES} == {"command", "shortcut", "action", "view_submission", "event"}
    assert len(ACTIONS) + len(VIEWS) + len(OTHERS) == len(ROUTES)
    assert len(ACTIONS) > 20 and len(VIEWS) > 10


@dataclass
class World:
    """A real case in the stack, so that "names nothing real" is tested against something real."""

    case_id: int
    follow_ups: list[tuple[int, int]]  # (id, round)

    def names_real(self, raw: Any) -> bool:
        if not isinstance(raw, str):
            return False
        ids = {f for f, _ in self.follow_ups}
        for text in {raw, raw.partition("|")[2]}:
            step, follow_up = StepRef.decode(text), FollowUpRef.decode(text)
            if (step and step.case_id == self.case_id) or (follow_up and follow_up.follow_up_id in ids):
                return True
        return False

    def real_refs(self) -> list[str]:
        """Refs naming the real case's open steps and its follow-ups' current rounds."""
        steps = [
            StepRef(self.case_id, key).encode() for key in ("", DEFAULT_STEPS[0].key, DEFAULT_STEPS[1].key)
        ]
        return steps + [FollowUpRef(f, r).encode() for f, r in self.follow_ups]


_worlds: dict[int, World] = {}


async def world_of(stack: Stack) -> World:
    """One reported case per stack (as report_view opens one modal per stack)."""
    if id(stack) not in _worlds:
        row = await stack.report_case()
        async with stack.mend.db.transaction() as session:
            follow_ups = (await session.execute(select(FollowUpRow.id, FollowUpRow.round))).all()
        _worlds[id(stack)] = World(row.id, [(f, r) for f, r in follow_ups])
        stack.double.clear_views(stack.alice.id)
    return _worlds[id(stack)]


async def stored(stack: Stack) -> dict[str, list[tuple[Any, ...]]]:
    async with stack.mend.db.transaction() as session:
        return {
            table.name: sorted(map(tuple, (await session.execute(select(table))).all()), key=repr)
            for table in schema.metadata.sorted_tables
            if table.name not in BOOKKEEPING
        }


async def changes_nothing(
    stack: Stack, watch: Watch, payload: Any, send: Callable[[Any], Awaitable[AppResponse]] | None = None
) -> None:
    """Send `payload` (an interaction unless `send` says otherwise) and check it changed nothing."""
    before = await stored(stack)
    calls = len(stack.double.calls)
    watch.begin()
    await watch.check(await (send or stack.sender.post_interaction)(payload), sent=payload)
    assert await stored(stack) == before, "a payload naming nothing real changed what Mend stores"
    # Slack changed nowhere either: nothing posted or redrawn in a channel (a DM to the person may explain).
    # A file uploaded to no channel (a Home tab's chart) is shared nowhere: the upload names a channel
    # (`channel_id` / `channels`) when it posts one.
    changed = [
        (c.method, c.args.get("channel") or c.args.get("channel_id") or c.args.get("channels"))
        for c in stack.double.calls[calls:]
        if c.ok
        and c.method in CHANGES
        and not (
            c.method == "files.completeUploadExternal"
            and not (c.args.get("channel_id") or c.args.get("channels"))
        )
        and not str(c.args.get("channel", "")).startswith(("U", "D"))
    ]
    assert changed == []


def actors(stack: Stack) -> st.SearchStrategy[tuple[Any, Any]]:
    """Who the payload says acted: the real person, or someone or some workspace Slack would never name."""
    nobody = st.one_of(short_hostile_text.filter(lambda s: slack_id(s) is None), st.none(), any_json)
    return st.one_of(
        st.just((stack.alice.id, stack.double.team_id)),
        st.tuples(nobody, st.just(stack.double.team_id)),
        st.tuples(st.just(stack.alice.id), nobody),
    )


def forged_interaction(stack: Stack, kind: str, user: Any, team: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "user": {"id": user, "team_id": team} if isinstance(user, str) else user,
        "team": {"id": team} if isinstance(team, str) else team,
        "api_app_id": stack.double.app_id,
        "token": stack.double.verification_token,
        "trigger_id": stack.double.issue_trigger_id(stack.alice.id),
    }


def click(
    stack: Stack,
    action_id: str,
    *,
    user: Any,
    team: Any,
    value: Any,
    option: Any,
    metadata: Any,
    in_modal: bool,
) -> dict[str, Any]:
    payload = forged_interaction(stack, "block_actions", user, team)
    action: dict[str, Any] = {"type": "button", "action_id": action_id, "block_id": "b1", "value": value}
    if option is not None:
        action = {**action, "type": "static_select", "selected_option": {"value": option}}
    payload["actions"] = [{**action, "action_ts": "1700000001.000200"}]
    if in_modal:
        payload["container"] = {"type": "view", "view_id": "V0FORGED"}
        payload["view"] = {"id": next_view_id(), "hash": "1.x", "type": "modal", "private_metadata": metadata}
    else:
        payload["container"] = {
            "type": "message",
            "message_ts": "1700000000.000100",
            "channel_id": stack.support,
        }
        payload["channel"] = {"id": stack.support}
    return payload


def submission_of(
    stack: Stack, callback_id: str, *, user: Any, team: Any, view_id: Any, metadata: Any, values: Any
) -> dict[str, Any]:
    payload = forged_interaction(stack, "view_submission", user, team)
    payload["view"] = {
        "id": view_id,
        "type": "modal",
        "callback_id": callback_id,
        "hash": "1.x",
        "private_metadata": metadata,
        "state": {"values": values},
    }
    return payload


@FUZZ
@given(action_id=st.sampled_from(ACTIONS), data=st.data())
async def test_every_action_with_a_payload_naming_nothing_changes_nothing(
    stack: Stack, watch: Watch, action_id: str, data: st.DataObject
) -> None:
    world = await world_of(stack)
    user, team = data.draw(actors(stack))
    option = data.draw(st.one_of(st.none(), ref_values, st.sampled_from([s.value for s in Situation])))
    value, metadata = data.draw(ref_values), data.draw(st.one_of(ref_values, st.none()))
    assume(not any(world.names_real(v) for v in (value, option, metadata)))
    payload = click(
        stack,
        action_id,
        user=user,
        team=team,
        value=value,
        option=option,
        metadata=metadata,
        in_modal=data.draw(st.booleans()),
    )
    await changes_nothing(stack, watch, payload)


@FUZZ
@given(callback_id=st.sampled_from(sorted(set(VIEWS) - CREATES)), data=st.data())
async def test_every_submission_of_a_form_naming_nothing_changes_nothing(
    stack: Stack, watch: Watch, callback_id: str, data: st.DataObject
) -> None:
    world = await world_of(stack)
    user, team = data.draw(actors(stack))
    metadata = data.draw(ref_values)
    assume(not world.names_real(metadata))
    people = st.one_of(st.just(stack.alice.id), st.just(stack.bob.id), ref_values)
    elements = data.draw(st.dictionaries(st.sampled_from(BLOCK_IDS), input_elements(people), max_size=8))
    values = {block: {f"{block}_input": element} for block, element in elements.items()}
    view_id = data.draw(st.one_of(st.builds(next_view_id), hostile_text))
    payload = submission_of(
        stack, callback_id, user=user, team=team, view_id=view_id, metadata=metadata, values=values
    )
    await changes_nothing(stack, watch, payload)


# An input holding every kind of value at once, each plausible: whichever way a form reads it, it gets far
# enough for the service to look at what the ref names (and so at its workspace).
PLAUSIBLE = {
    "type": "plain_text_input",
    "value": "25",
    "selected_option": {"value": "delivery"},
    "selected_options": [{"value": "send_as_written"}],
    "selected_date": "2031-05-06",
    "selected_time": "09:30",
}


async def test_no_action_on_a_real_case_from_another_workspace_changes_anything(
    stack: Stack, watch: Watch
) -> None:
    """Every button, with refs to a real case and its follow-ups, clicked in a workspace it isn't in."""
    world = await world_of(stack)
    for action_id in ACTIONS:
        for ref in world.real_refs():
            for option, in_modal in ((None, False), (f"{SnoozeChoice.TOMORROW.value}|{ref}", True)):
                payload = click(
                    stack,
                    action_id,
                    user=stack.alice.id,
                    team=FORGED_TEAM,
                    value=ref,
                    option=option,
                    metadata=ref,
                    in_modal=in_modal,
                )
                await changes_nothing(stack, watch, payload)


async def test_no_form_about_a_real_case_from_another_workspace_changes_anything(
    stack: Stack, watch: Watch
) -> None:
    world = await world_of(stack)
    values = {block: {f"{block}_input": {**PLAUSIBLE, "selected_user": stack.bob.id}} for block in BLOCK_IDS}
    for callback_id in sorted(set(VIEWS) - CREATES):
        for ref in world.real_refs():
            payload = submission_of(
                stack,
                callback_id,
                user=stack.alice.id,
                team=FORGED_TEAM,
                view_id=next_view_id(),
                metadata=ref,
                values=values,
            )
            await changes_nothing(stack, watch, payload)


@FUZZ
@given(route=st.sampled_from(OTHERS), data=st.data())
async def test_every_command_shortcut_and_event_naming_nothing_changes_nothing(
    stack: Stack, watch: Watch, route: tuple[str, str], data: st.DataObject
) -> None:
    await world_of(stack)
    kind, name = route
    sender = stack.sender
    if kind == "command":
        user, team = data.draw(actors(stack))
        fields = {
            "token": stack.double.verification_token,
            "command": name,
            "text": data.draw(hostile_text),
            "team_id": team if isinstance(team, str) else "",
            "user_id": user if isinstance(user, str) else "",
            "channel_id": data.draw(st.one_of(st.just(stack.support), short_hostile_text)),
            "trigger_id": stack.double.issue_trigger_id(stack.alice.id),
        }
        await changes_nothing(stack, watch, fields, lambda sent: sender.post_form(sender.commands_url, sent))
        return
    if kind == "shortcut":
        payload = mangle(
            shortcut(stack),
            data.draw(st.sampled_from(PATHS["shortcut"])),
            data.draw(st.one_of(any_json, hostile_text)),
            data.draw(st.booleans()),
        )
        await changes_nothing(stack, watch, payload)
        return
    # Events: a lifecycle event for Mend's own workspace is real, so those name another that isn't one.
    lifecycle = name in (Event.APP_UNINSTALLED.value, Event.TOKENS_REVOKED.value)
    nobody = short_hostile_text.filter(lambda s: slack_id(s) is None)
    team = data.draw(nobody if lifecycle else st.one_of(st.just(stack.double.team_id), nobody))
    event = {
        "type": name,
        "user": data.draw(st.one_of(st.just(stack.alice.id), nobody, any_json)),
        "tab": data.draw(st.one_of(st.sampled_from(["home", "messages"]), any_json)),
        "tokens": data.draw(
            st.one_of(st.fixed_dictionaries({"bot": st.lists(nobody, max_size=3)}), any_json)
        ),
        "channel": data.draw(st.one_of(st.just("D0FORGED"), any_json)),
    }
    envelope = {**sender.envelope(event, event_id=f"Ev0FUZZ{next(_ids):06d}"), "team_id": team}

    async def deliver(sent: Any) -> AppResponse:
        return await sender.post(sender.events_url, json.dumps(sent).encode(), "application/json")

    await changes_nothing(stack, watch, envelope, deliver)


# ---- every person picker of every modal -----------------------------------------------------------------
# Each modal with a users_select (tests/e2e/test_pickers.py lists them), opened for real on real cases, then
# submitted with the rest of the form valid and the picker holding whatever a forged client sends: markup,
# ids of the wrong kind, ids of nobody, of apps, of deactivated accounts and of other workspaces, values of
# the wrong type, the input itself of the wrong shape. Each is a field error on that picker, and nothing
# is stored or posted.

PICKER_REFUSALS = {PICK_A_PERSON, NOT_A_PERSON, AN_APP, DEACTIVATED, ANOTHER_WORKSPACE}


@dataclass
class PickerWorld:
    views: dict[str, dict[str, Any]]  # picker name -> the real modal, as Mend built it
    pickable: set[str]  # people who may be picked: the property sends anyone but them


_picker_worlds: dict[int, PickerWorld] = {}


@pytest.fixture
async def picker_stack(make_stack: Callable[..., Any]) -> Any:
    """A stack whose clock the setup moves (a reminder is due a quarter of an hour after the report)."""
    clock = FrozenClock(TUESDAY_10_LONDON)
    async with make_stack(configure=with_people, clock=clock, working_hours="always") as running:
        yield running, clock


async def picker_world(stack: Stack, clock: FrozenClock) -> PickerWorld:
    """The five modals with a person picker, each opened with its own button on real cases."""
    if id(stack) in _picker_worlds:
        return _picker_worlds[id(stack)]
    views: dict[str, dict[str, Any]] = {}
    await open_process_fix(stack, clock)  # two cases with one root cause, the alert, Bob's modal
    views["process-fix owner"] = copy.deepcopy(stack.bob.current_view())
    await open_reassign(stack, clock)  # a third case whose owner is nudged about the apology
    views["reminder assignee"] = copy.deepcopy(stack.alice.current_view())
    [*_, row] = await stack.case_rows()
    await open_offer_on(stack, row.card_ts or "")
    views["amends approver"] = copy.deepcopy(stack.alice.current_view())
    await stack.apologise(row.id)  # the apology through its form (docs/playbook.md)
    await stack.alice.click(StepAction.DONE.value, value=StepRef(row.id, "listen").encode())
    await stack.settle()
    await stack.alice.click(StepAction.ASSIGN_OWNER.value, value=StepRef(row.id, "own").encode())
    await stack.settle()
    views["case owner"] = copy.deepcopy(stack.alice.current_view())
    for key in ("own", "root_cause", "fix", "amends", "follow_up"):
        await stack.alice.click(StepAction.DONE.value, value=StepRef(row.id, key).encode())
        await stack.settle()
    await stack.alice.click(StepAction.WRITE_RECORD.value, value=StepRef(row.id, "record").encode())
    await stack.settle()
    views["process owner"] = copy.deepcopy(stack.alice.current_view())
    assert sorted(views) == sorted(p.name for p in PICKERS)
    users = stack.double.workspace.users.values()
    pickable = {u.id for u in users if not (u.is_bot or u.deleted) and u.team_id == stack.double.team_id}
    _picker_worlds[id(stack)] = world = PickerWorld(views, pickable)
    stack.double.clear_views(stack.alice.id)
    stack.double.clear_views(stack.bob.id)
    return world


async def open_offer_on(stack: Stack, card_ts: str) -> None:
    response = await stack.alice.click(AmendsAction.OFFER.value, message_ts=card_ts)
    assert response.status == 200
    await stack.settle()


def hostile_people(stack: Stack) -> st.SearchStrategy[Any]:
    """What a forged client can put where a person's id goes (None, "nobody picked", is left out)."""
    double = stack.double
    users = double.workspace.users.values()
    refused = [u.id for u in users if u.is_bot or u.deleted or u.team_id != double.team_id]
    wrong_kind = [stack.support, double.team_id, double.workspace.bot_id, "S0LEADS", "V0VIEW", "E0GRID"]
    kinds: dict[str, st.SearchStrategy[Any]] = {
        # users.info's refusals: apps, deactivated people, other workspaces, ids of nobody
        "refused person": st.sampled_from(refused),
        "nobody's id": st.from_regex(r"[UW][A-Z0-9]{1,30}", fullmatch=True),
        # refused before any lookup
        "another kind of id": st.sampled_from(wrong_kind),
        "markup": st.sampled_from([f"<@{stack.bob.id}>", "U1><!channel><https://evil.example|x"]),
        "an id and more": st.builds(
            lambda uid, tail: uid + tail, st.sampled_from(sorted(double.workspace.users)), short_hostile_text
        ),
        "hostile text": short_hostile_text,
        "json": any_json.filter(lambda v: v is not None),
    }
    return st.sampled_from(sorted(kinds)).flatmap(lambda kind: kinds[kind])


def picker_element(people: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The picker's input: mostly a users_select holding a hostile id, sometimes not an input at all."""
    # Anything but a dict (a dict without a pick in it is Slack's "nobody picked").
    odd = st.one_of(json_scalars, st.lists(any_json, max_size=3))
    shapes: dict[str, st.SearchStrategy[Any]] = {
        "users_select": st.builds(lambda p: {"type": "users_select", "selected_user": p}, people),
        "another element type": st.builds(
            lambda p: {"type": "multi_users_select", "selected_user": p}, people
        ),
        "element of the wrong shape": odd.map(lambda e: ("element", e)),
        "block of the wrong shape": odd.map(lambda e: ("block", e)),
    }
    weighted = ["users_select"] * 5 + sorted(set(shapes) - {"users_select"})
    return st.sampled_from(weighted).flatmap(lambda shape: shapes[shape])


@FUZZ
@given(name=st.sampled_from(sorted(p.name for p in PICKERS)), data=st.data())
async def test_every_picker_of_every_modal_refuses_hostile_ids(
    picker_stack: tuple[Stack, FrozenClock], caplog: pytest.LogCaptureFixture, name: str, data: st.DataObject
) -> None:
    stack, clock = picker_stack
    world = await picker_world(stack, clock)
    picker = next(p for p in PICKERS if p.name == name)
    view = world.views[name]
    values = build_state_values(view, picker.rest, enforce_required=False)
    element = data.draw(picker_element(hostile_people(stack)))
    action_id = f"{picker.block}_input"
    if isinstance(element, tuple) and element[0] == "block":
        values[picker.block] = element[1]
    elif isinstance(element, tuple):
        values[picker.block] = {action_id: element[1]}
    else:
        sent = element["selected_user"]
        assume(not (isinstance(sent, str) and sent in world.pickable))
        values[picker.block] = {action_id: element}
    watch = Watch(stack, caplog)
    before = await stored(stack)
    watch.begin()
    calls = len(stack.double.calls)
    response = await stack.forge_view_submission(
        stack.alice if name != "process-fix owner" else stack.bob, {**view, "id": next_view_id()}, values
    )
    await watch.check(response)
    assert response.field_errors.keys() == {picker.block}, response.field_errors
    assert response.field_errors[picker.block] in PICKER_REFUSALS
    event(f"{name}: {response.field_errors[picker.block]}")
    assert await stored(stack) == before, "a hostile pick changed what Mend stores"
    posted = [c.method for c in stack.double.calls[calls:] if c.method in CHANGES]
    assert posted == []
