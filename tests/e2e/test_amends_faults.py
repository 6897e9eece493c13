"""End to end: amends' Slack side survives Slack failing at the wrong moment. Every effect of an offer or a
decision is a follow-up row; after 503s, the clock moved forward and the engine ticked, each approver's
copy, the thread's notices and the requester's DM exist exactly once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from handlers.ids import AmendsAction, AmendsBlock
from slack_double.server import SlackDouble
from slack_double.user import Person
from storage.amends import AmendsCopyRow
from storage.followups import FollowUpRow
from tests.e2e.conftest import Stack, running_stack
from tests.e2e.test_amends import (
    amends_rows,
    approval_messages,
    kind_of,
    offer,
    run_due,
    text_of,
    thread,
    with_approvers,
)

MakeStack = Callable[..., AbstractAsyncContextManager[Stack]]
BUTTON = '"type": "button"'


def without_backups(double: SlackDouble) -> dict[str, Any]:
    settings = with_approvers(double)
    del settings["backup_approver_ids"]
    return settings


@pytest.fixture
def clock() -> FrozenClock:
    # Near the wall clock, which the double's timestamps follow: reconciliation looks for messages by time.
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def make(database_url: str, clock: FrozenClock) -> MakeStack:
    def factory(**kwargs: Any) -> AbstractAsyncContextManager[Stack]:
        kwargs.setdefault("configure", with_approvers)
        return running_stack(database_url, clock=clock, **kwargs)

    return factory


async def later(stack: Stack, clock: FrozenClock, delta: timedelta) -> None:
    """Move Mend's clock and the double's together, then let the engine run what fell due."""
    clock.advance(delta)
    stack.double.clock.advance(delta.total_seconds())
    await run_due(stack)


def in_thread(stack: Stack, event_type: str) -> list[dict[str, Any]]:
    return [m for m in thread(stack) if kind_of(m) == event_type]


def told(stack: Stack, person: Person, words: str) -> list[dict[str, Any]]:
    dm = stack.double.dm_channel_id(person.id) or ""
    return [m for m in stack.double.messages(dm) if words in (m.get("text") or "")]


async def follow_up_states(stack: Stack) -> Counter[tuple[str, str]]:
    async with stack.mend.db.transaction() as session:
        query = select(FollowUpRow.kind, FollowUpRow.state).where(FollowUpRow.kind.startswith("amends_"))
        return Counter((kind, state) for kind, state in await session.execute(query))


async def test_approvers_get_their_copies_after_503s_during_the_offer(
    make: MakeStack, clock: FrozenClock
) -> None:
    """The incident: 503s during an offer, no backups, and the approvers' DMs still missing hours later."""
    async with make(configure=without_backups) as stack:
        await stack.report_case()
        carol, dave = stack.people["carol"], stack.people["dave"]
        # The thread's notice is refused; Carol's copy lands although Slack answers 503; Dave's is refused.
        faults = [
            stack.double.faults.add("chat.postMessage", "server_error", status=503),
            stack.double.faults.add("chat.postMessage", "server_error", status=503, applied=True),
            stack.double.faults.add("chat.postMessage", "server_error", status=503),
        ]
        response = await offer(stack, "120")
        assert response.field_errors == {}  # the request itself is saved whatever Slack does
        [amends] = await amends_rows(stack)
        assert amends.state == "pending"
        assert all(f.exhausted for f in faults)
        assert len(approval_messages(stack, carol)) == 1 and approval_messages(stack, dave) == []
        assert in_thread(stack, "mend_amends_notice") == []
        rows = await follow_up_states(stack)
        assert rows[("amends_copy", "unknown")] == 2 and rows[("amends_notice", "unknown")] == 1

        await later(stack, clock, timedelta(minutes=1))
        # Carol's copy was found by its metadata, not posted again; Dave's and the notice were posted.
        assert [len(approval_messages(stack, p)) for p in (carol, dave)] == [1, 1]
        assert "above the agent limit" in text_of(approval_messages(stack, dave)[0])
        assert len(in_thread(stack, "mend_amends_notice")) == 1
        async with stack.mend.db.transaction() as session:
            copies = list((await session.execute(select(AmendsCopyRow))).scalars())
        assert len(copies) == 2 and all(c.ts is not None for c in copies)
        rows = await follow_up_states(stack)
        assert rows[("amends_copy", "sent")] == 2 and rows[("amends_notice", "sent")] == 1

        await later(stack, clock, timedelta(hours=1))  # and nothing more, ever
        assert [len(approval_messages(stack, p)) for p in (carol, dave)] == [1, 1]
        assert len(in_thread(stack, "mend_amends_notice")) == 1

        # The copy that arrived late works like any other.
        assert (await dave.click(AmendsAction.APPROVE.value)).status == 200
        await stack.settle()
        assert (await amends_rows(stack))[0].state == "approved"
        assert all(BUTTON not in text_of(approval_messages(stack, p)[0]) for p in (carol, dave))
        stack.double.assert_no_rejections()


async def test_a_rejection_reaches_everyone_after_503s_on_chat_update(
    make: MakeStack, clock: FrozenClock
) -> None:
    """The incident: 503s on chat.update during a rejection left the thread and the requester untold."""
    async with make() as stack:
        await stack.report_case()
        await offer(stack, "300")
        carol, dave = stack.people["carol"], stack.people["dave"]
        await carol.click(AmendsAction.REJECT.value)
        await stack.settle()
        redraws = stack.double.faults.add("chat.update", "server_error", status=503, times=2)
        done = await carol.submit_view({AmendsBlock.REASON.value: "A full refund plus a new cake covers it."})
        assert done.field_errors == {}
        await stack.settle()
        assert (await amends_rows(stack))[0].state == "rejected"
        assert redraws.exhausted
        # Both copies still show the buttons; the thread and the requester were told regardless.
        assert all(BUTTON in text_of(approval_messages(stack, p)[0]) for p in (carol, dave))
        assert len(in_thread(stack, "mend_amends_outcome")) == 1
        assert len(told(stack, stack.alice, "were rejected")) == 1

        await later(stack, clock, timedelta(minutes=1))
        for person in (carol, dave):
            [copy] = approval_messages(stack, person)
            assert "Rejected* by" in text_of(copy) and BUTTON not in text_of(copy)
        [outcome] = in_thread(stack, "mend_amends_outcome")
        assert "rejected" in text_of(outcome)
        assert len(told(stack, stack.alice, "were rejected")) == 1
        async with stack.mend.db.transaction() as session:
            copies = list((await session.execute(select(AmendsCopyRow))).scalars())
        assert [c.rendered_version for c in copies] == [2, 2]

        await later(stack, clock, timedelta(hours=5))  # past the reminder, which a decision cancels
        assert len(in_thread(stack, "mend_amends_outcome")) == 1
        assert len(told(stack, stack.alice, "were rejected")) == 1
        assert all(
            not [
                m
                for m in stack.double.messages(stack.double.dm_channel_id(p.id) or "")
                if "Reminder" in str(m)
            ]
            for p in (carol, dave)
        )
        rows = await follow_up_states(stack)
        assert rows[("amends_remind", "cancelled")] == 1
        assert {state for (kind, state) in rows if kind != "amends_remind"} == {"sent"}, rows


async def test_with_slack_healthy_everything_shows_at_once(make: MakeStack) -> None:
    """No regression: the rows an offer and a decision stage go out right after the ack, without a tick."""
    async with make() as stack:
        await stack.report_case()
        await offer(stack, "120")
        carol, dave = stack.people["carol"], stack.people["dave"]
        assert [len(approval_messages(stack, p)) for p in (carol, dave)] == [1, 1]
        assert len(in_thread(stack, "mend_amends_notice")) == 1
        await carol.click(AmendsAction.APPROVE.value)
        await stack.settle()
        assert all("Approved* by" in text_of(approval_messages(stack, p)[0]) for p in (carol, dave))
        assert len(in_thread(stack, "mend_amends_outcome")) == 1
        assert len(told(stack, stack.alice, "were approved")) == 1
        rows = await follow_up_states(stack)
        assert rows == Counter(
            {
                ("amends_notice", "sent"): 1,
                ("amends_copy", "sent"): 4,  # two posts, two redraws
                ("amends_outcome", "sent"): 1,
                ("amends_tell_requester", "sent"): 1,
                ("amends_remind", "pending"): 1,  # due later; cancelled then, as the request is decided
            }
        )
        stack.double.assert_no_rejections()
