"""BackgroundTasks: work people wait for starts at once, bulk work a few pieces per loop turn, errors go to
the policy, shutdown drains."""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import MendError
from handlers.errors import ErrorPolicy
from handlers.slack_api import SlackPoster
from handlers.tasks import BULK_STARTS_PER_TURN, BackgroundTasks
from slack_double.server import SlackDouble


@pytest.fixture
async def double() -> AsyncIterator[SlackDouble]:
    async with SlackDouble() as running:
        yield running


def tasks_for(double: SlackDouble, **kwargs: int) -> BackgroundTasks:
    client = AsyncWebClient(token=double.bot_token, base_url=double.api_url, retry_handlers=[])
    return BackgroundTasks(ErrorPolicy(SlackPoster(client)), **kwargs)


async def turn() -> None:
    """One turn of the event loop."""
    await asyncio.sleep(0)


async def test_bulk_work_starts_a_few_pieces_per_turn_in_order(double: SlackDouble) -> None:
    tasks = tasks_for(double, bulk_starts_per_turn=3)
    started: list[int] = []

    async def piece(i: int) -> None:
        started.append(i)

    for i in range(10):
        tasks.spawn(piece(i), user_id=None, channel_id=None, name=f"bulk-{i}", bulk=True)
    assert tasks.bulk_waiting == 10
    seen = []
    for _ in range(10):
        await turn()
        seen.append(len(started))
    # Never more than three new starts between two turns, so the loop reads its sockets in between.
    assert all(b - a <= 3 for a, b in zip([0, *seen], seen, strict=False))
    await tasks.wait_idle()
    assert started == list(range(10))
    assert tasks.bulk_waiting == 0


async def test_work_someone_waits_for_starts_ahead_of_queued_bulk_work(double: SlackDouble) -> None:
    tasks = tasks_for(double, bulk_starts_per_turn=2)
    started: list[str] = []

    async def piece(name: str) -> None:
        started.append(name)

    for i in range(50):
        tasks.spawn(piece(f"bulk-{i}"), user_id=None, channel_id=None, name="follow-up", bulk=True)
    tasks.spawn(piece("modal"), user_id="U1", channel_id=None, name="open-report")
    await turn()
    await turn()
    assert "modal" in started
    assert started.index("modal") <= 2
    await tasks.wait_idle()
    assert len(started) == 51


async def test_bulk_piece_waiting_on_slack_does_not_hold_back_the_rest(double: SlackDouble) -> None:
    tasks = tasks_for(double, bulk_starts_per_turn=1)
    release = asyncio.Event()
    done: list[int] = []

    async def stuck(i: int) -> None:
        await release.wait()
        done.append(i)

    async def quick(i: int) -> None:
        done.append(i)

    for i in range(5):
        tasks.spawn(stuck(i), user_id=None, channel_id=None, name="stuck", bulk=True)
    tasks.spawn(quick(99), user_id=None, channel_id=None, name="quick", bulk=True)
    for _ in range(10):
        await turn()
    assert done == [99]
    release.set()
    await tasks.wait_idle()
    assert sorted(done) == [0, 1, 2, 3, 4, 99]


async def test_an_error_goes_to_the_policy_and_the_person_is_told(double: SlackDouble) -> None:
    user = double.add_user("maya")
    channel = double.add_channel("support", members=[user])
    tasks = tasks_for(double)

    async def fails() -> None:
        raise MendError("That case is closed, so nothing changed.")

    async def fine() -> None:
        return None

    tasks.spawn(fails(), user_id=user, channel_id=channel, name="fails", bulk=True)
    tasks.spawn(fine(), user_id=user, channel_id=channel, name="fine")
    await tasks.wait_idle()
    told = [e.text for e in double.ephemerals(user_id=user, channel_id=channel)]
    assert told == ["That case is closed, so nothing changed."]


async def test_wait_idle_waits_for_work_started_by_work(double: SlackDouble) -> None:
    tasks = tasks_for(double)
    finished: list[str] = []

    async def inner() -> None:
        await asyncio.sleep(0.01)
        finished.append("inner")

    async def outer() -> None:
        tasks.spawn(inner(), user_id=None, channel_id=None, name="inner", bulk=True)
        finished.append("outer")

    tasks.spawn(outer(), user_id=None, channel_id=None, name="outer")
    await tasks.wait_idle()
    assert finished == ["outer", "inner"]
    assert tasks.pending == 0


async def test_drain_finishes_what_it_can_and_cancels_the_rest_without_leaks(double: SlackDouble) -> None:
    tasks = tasks_for(double, bulk_starts_per_turn=1)
    cancelled: list[str] = []

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append("forever")
            raise

    tasks.spawn(forever(), user_id=None, channel_id=None, name="forever")
    await turn()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(3 * BULK_STARTS_PER_TURN):
            tasks.spawn(forever(), user_id=None, channel_id=None, name=f"queued-{i}", bulk=True)
        # Cancelled at once: the queued bulk pieces that never started are closed, not left unawaited.
        await tasks.drain(grace_seconds=0.0)
        assert tasks.pending == 0
        # The running piece was cancelled; of the queued ones, most never started at all.
        assert 1 <= len(cancelled) < 1 + 3 * BULK_STARTS_PER_TURN
        for _ in range(3):
            await turn()
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)]
    assert tasks.bulk_waiting == 0


async def test_drain_lets_running_work_finish_within_the_grace(double: SlackDouble) -> None:
    tasks = tasks_for(double)
    finished: list[str] = []

    async def short() -> None:
        await asyncio.sleep(0.01)
        finished.append("short")

    for _ in range(3):
        tasks.spawn(short(), user_id=None, channel_id=None, name="short", bulk=True)
    await tasks.drain(grace_seconds=5.0)
    assert finished == ["short"] * 3


async def test_at_least_one_bulk_start_per_turn(double: SlackDouble) -> None:
    with pytest.raises(ValueError):
        tasks_for(double, bulk_starts_per_turn=0)
