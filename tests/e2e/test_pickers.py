"""End to end: every person picker in every modal, sent ids no Slack client would send and people who can't
be picked, over signed HTTP. Each is a field error on that picker: nothing stored, nothing posted with the
forged markup in it, no 5xx; the real person is stored and shown as a mention.

The pickers: the case owner (Assign someone…), the record's process owner, the amends approver, the
process fix's owner and a reminder's new assignee.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from handlers.ids import (
    AmendsAction,
    AmendsBlock,
    FollowUpAction,
    FollowUpBlock,
    LearningId,
    StepAction,
    StepBlock,
)
from handlers.interaction import PICK_A_PERSON
from handlers.people import AN_APP, ANOTHER_WORKSPACE, DEACTIVATED, NOT_A_PERSON, SLACK_SILENT
from slack_double.server import SlackDouble
from slack_double.user import Person
from storage import schema
from storage.amends import AmendsRow
from storage.followups import FollowUpRow
from storage.learning import ProcessFixRow
from storage.records import CaseRecordRow
from storage.tables import CaseRow
from tests.e2e.conftest import Stack
from tests.e2e.test_learning import record_root_cause

MakeStack = Callable[..., AbstractAsyncContextManager[Stack]]
FORGED = "U1><!channel><https://evil.example|x"
PARTNER_TEAM = "T0PARTNER"
# A Tuesday, 10:00 in London: within everyone's working hours.
TUESDAY_10_LONDON = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
# The tables a request may write without changing anything: the Events API delivery log.
BOOKKEEPING = {"processed_events"}


def with_people(double: SlackDouble) -> dict[str, Any]:
    """An approver, and users.info's every kind of someone who can't be picked."""
    carol = double.add_user("carol", real_name="Carol Lead")
    double.add_user("robot", real_name="Deploy Bot", is_bot=True)
    double.add_user("gone", real_name="Gone Away", deleted=True)
    double.add_user("partner", real_name="Pat Partner", team_id=PARTNER_TEAM)
    double.add_user("quiet", real_name="Quinn Quiet")  # asked about only while Slack misbehaves
    process = double.add_channel("process", members=list(double.workspace.users))
    return {"approver_ids": carol, "process_channel": process, "recurrence_threshold": 2}


def uid(stack: Stack, name: str) -> str:
    return next(u.id for u in stack.double.workspace.users.values() if u.name == name)


async def click(stack: Stack, person: Person, action_id: str, **kwargs: Any) -> None:
    response = await person.click(action_id, **kwargs)
    assert response.status == 200, response.body
    await stack.settle()


# ---- each picker: how its modal is reached, the rest of its form, where the pick is stored ------------


async def open_assign_owner(stack: Stack, clock: FrozenClock) -> Person:
    await stack.report_case()
    await stack.apologise(pick="latest")  # the apology through its form, then listen: ownership is next
    await click(stack, stack.alice, StepAction.DONE.value, pick="latest")
    await click(stack, stack.alice, StepAction.ASSIGN_OWNER.value, pick="latest")
    return stack.alice


async def owner_of(stack: Stack) -> str | None:
    return (await stack.case_rows())[-1].owner_user_id


async def open_record(stack: Stack, clock: FrozenClock) -> Person:
    await stack.report_case()
    await click(stack, stack.alice, StepAction.WRITE_RECORD.value, pick="latest")
    return stack.alice


async def process_owner_of(stack: Stack) -> str | None:
    async with stack.mend.db.transaction() as session:
        row = (await session.execute(select(CaseRecordRow))).scalars().first()
    return row.process_owner_user_id if row else None


async def open_offer(stack: Stack, clock: FrozenClock) -> Person:
    row = await stack.report_case()
    assert stack.recovery is not None and row.card_ts
    await click(stack, stack.alice, AmendsAction.OFFER.value, message_ts=row.card_ts)
    return stack.alice


async def approver_of(stack: Stack) -> str | None:
    async with stack.mend.db.transaction() as session:
        row = (await session.execute(select(AmendsRow))).scalars().first()
    return row.addressed_approver_id if row else None


async def open_process_fix(stack: Stack, clock: FrozenClock) -> Person:
    for customer in ("Dana Cole", "Lee Park"):  # the same cause twice: an alert in the process channel
        await record_root_cause(stack, "carrier_logistics", customer=customer)
    await click(stack, stack.bob, LearningId.CREATE_FIX.value)
    return stack.bob


async def fix_owner_of(stack: Stack) -> str | None:
    async with stack.mend.db.transaction() as session:
        row = (await session.execute(select(ProcessFixRow))).scalars().first()
    return row.owner_user_id if row else None


async def open_reassign(stack: Stack, clock: FrozenClock) -> Person:
    await stack.report_case()
    clock.advance(timedelta(minutes=16))  # the apology is late: the owner is nudged
    assert await stack.tick() >= 1
    await click(stack, stack.alice, FollowUpAction.REASSIGN.value, pick="latest")
    return stack.alice


async def assignee_of(stack: Stack) -> str | None:
    async with stack.mend.db.transaction() as session:
        row = (await session.execute(select(FollowUpRow).where(FollowUpRow.kind == "ack_nudge"))).scalar_one()
    return row.recipient_user_id


RECORD_PLAYBOOK = '[[steps]]\nkey = "record"\n\n[[steps]]\nkey = "fix"\n'


@dataclass(frozen=True)
class Picker:
    name: str
    block: str
    open: Callable[[Stack, FrozenClock], Awaitable[Person]]  # opens the modal with its button
    stored: Callable[[Stack], Awaitable[str | None]]
    rest: dict[str, Any] = field(default_factory=dict)  # the form's other inputs, all valid
    good: str = "bob"  # someone who may be picked
    playbook: str | None = None


PICKERS = [
    Picker("case owner", StepBlock.OWNER.value, open_assign_owner, owner_of),
    Picker(
        "process owner",
        StepBlock.RECORD_PROCESS_OWNER.value,
        open_record,
        process_owner_of,
        rest={
            StepBlock.RECORD_ROOT_CAUSE.value: "billing_error",
            StepBlock.RECORD_WHAT_HAPPENED.value: "Charged twice",
            StepBlock.RECORD_WHAT_FIXED.value: "Refunded the same day",
            StepBlock.RECORD_PREVENTION.value: "An idempotency key",
        },
        playbook=RECORD_PLAYBOOK,
    ),
    Picker(
        "amends approver",
        AmendsBlock.APPROVER.value,
        open_offer,
        approver_of,
        rest={
            AmendsBlock.KIND.value: "refund",
            AmendsBlock.AMOUNT.value: "120",  # above the agent limit: an approver decides
            AmendsBlock.JUSTIFICATION.value: "The party was ruined",
        },
        good="carol",
    ),
    Picker(
        "process-fix owner",
        LearningId.FIX_OWNER.value,
        open_process_fix,
        fix_owner_of,
        rest={
            LearningId.FIX_DESCRIPTION.value: "Cooled vans for cakes",
            LearningId.FIX_DUE.value: (TUESDAY_10_LONDON.date() + timedelta(days=14)).isoformat(),
        },
        good="alice",
    ),
    Picker("reminder assignee", FollowUpBlock.ASSIGNEE.value, open_reassign, assignee_of),
]


@pytest.fixture(params=PICKERS, ids=[p.name for p in PICKERS])
def picker(request: pytest.FixtureRequest) -> Picker:
    return request.param


def playbook_settings(picker: Picker, tmp_path: Path) -> dict[str, Any]:
    if picker.playbook is None:
        return {}
    path = tmp_path / "playbook.toml"
    path.write_text(picker.playbook)
    return {"playbook_file": path}


async def stored(stack: Stack) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table Mend keeps."""
    async with stack.mend.db.transaction() as session:
        return {
            table.name: sorted(map(tuple, (await session.execute(select(table))).all()), key=repr)
            for table in schema.metadata.sorted_tables
            if table.name not in BOOKKEEPING
        }


def refused_picks(stack: Stack) -> list[tuple[str, str, str, Callable[[], object] | None]]:
    """(what, the id sent, the field error, a fault to inject first) for each pick that must be refused."""
    double = stack.double
    quiet = uid(stack, "quiet")
    return [
        ("a forged id", FORGED, PICK_A_PERSON, None),
        ("a mention", f"<@{stack.bob.id}>", PICK_A_PERSON, None),
        ("a channel", stack.support, PICK_A_PERSON, None),
        ("a user group", "S0LEADS", PICK_A_PERSON, None),
        ("nobody Slack knows", "U0NOBODY", NOT_A_PERSON, None),
        ("an app", uid(stack, "robot"), AN_APP, None),
        ("a deactivated account", uid(stack, "gone"), DEACTIVATED, None),
        ("someone of another workspace", uid(stack, "partner"), ANOTHER_WORKSPACE, None),
        (
            "someone Slack won't show",
            quiet,
            NOT_A_PERSON,
            lambda: double.faults.add("users.info", "error", error="user_not_visible"),
        ),
        (
            "someone while users.info fails",
            quiet,
            SLACK_SILENT,
            lambda: double.faults.add("users.info", "error", error="internal_error"),
        ),
    ]


def forged_markup_sent(stack: Stack) -> list[str]:
    """Web API calls (posts, redraws, views) carrying the forged id's markup anywhere in their arguments."""
    return [
        c.method
        for c in stack.double.calls
        if c.method != "users.info" and any(m in json.dumps(c.args) for m in ("<!channel>", "evil.example"))
    ]


async def test_every_picker_refuses_what_is_not_a_person_here_and_stores_who_is(
    make_stack: MakeStack, picker: Picker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = playbook_settings(picker, tmp_path)
    clock = FrozenClock(TUESDAY_10_LONDON)
    async with make_stack(configure=with_people, clock=clock, working_hours="always", **settings) as stack:
        person = await picker.open(stack, clock)
        before, picked_before = await stored(stack), await picker.stored(stack)
        caplog.set_level(logging.INFO)
        for what, sent, error, fault in refused_picks(stack):
            if fault is not None:
                fault()
            response = await person.submit_view({**picker.rest, picker.block: sent})
            await stack.settle()
            assert response.status == 200, (what, response.status, response.body)
            assert response.field_errors == {picker.block: error}, what
            assert await stored(stack) == before, f"{what} changed what Mend stores"
        assert forged_markup_sent(stack) == []
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []

        good = uid(stack, picker.good)
        saved = await person.submit_view({**picker.rest, picker.block: good})
        await stack.settle()
        assert saved.field_errors == {}
        assert picked_before != good and await picker.stored(stack) == good
        stack.double.assert_no_rejections()


async def test_the_case_owner_is_shown_only_as_a_checked_mention(make_stack: MakeStack) -> None:
    """A row written before ids were checked (or by hand) still can't ping a channel from the card."""
    async with make_stack() as stack:
        row = await stack.report_case()
        async with stack.mend.db.transaction() as session:
            case = await session.get(CaseRow, row.id)
            assert case is not None
            case.owner_user_id = "U1><!channel><https://ev.il|x"  # within the column's 32 characters
            case.version += 1
        await stack.mend.recovery.sync(row.id)
        await stack.settle()
        assert stack.recovery is not None
        card = stack.double.message(stack.recovery, row.card_ts or "")
        text = json.dumps(card.get("blocks"))
        assert "<!channel>" not in text and "ev.il" not in text and "*Owner*\\nsomeone" in text


def test_the_pickers_cover_every_person_picker_of_every_modal() -> None:
    """A new users_select in any modal must be added to PICKERS (and so to these tests)."""
    import handlers.blocks as blocks_package

    source = Path(blocks_package.__file__).parent
    calls = sum(p.read_text().count("fields.person_input(") for p in source.glob("*.py"))
    assert calls == len(PICKERS)
