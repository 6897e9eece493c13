"""Modal submissions that must be saved before Slack gets its answer, so a failure keeps the modal open."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, TypeVar

from bot.errors import InvalidInput, MendError
from handlers.tasks import BackgroundTasks

T = TypeVar("T")
Ack = Callable[..., Awaitable[None]]

# Slack closes the door after 3 seconds; the save gets 2 of them, the rest is for the answer to travel.
SAVE_DEADLINE_SECONDS = 2.0
SLOW_SAVE_MESSAGE = (
    "Mend's database is slow to answer right now. What you entered is still here: please try again "
    "in a moment."
)


async def save_then_ack(
    ack: Ack,
    save: Coroutine[Any, Any, T],
    *,
    tasks: BackgroundTasks,
    user_id: str | None,
    error_block: str,
    field_blocks: Mapping[str, str] | None = None,
    when_late: Callable[[T], Awaitable[None]] | None = None,
) -> T | None:
    """Run `save`, then ack: closed on success, or field errors on the modal (domain errors, outages).

    A save still running at the deadline goes on in the background (then `when_late` runs with its
    result) and the person is asked to try again; saves are idempotent, so a retry finds what the first
    one stored.
    """
    task = asyncio.ensure_future(save)
    done, _ = await asyncio.wait({task}, timeout=SAVE_DEADLINE_SECONDS)
    if not done:
        tasks.spawn(_finish_late(task, when_late), user_id=None, channel_id=None, name="late-save")
        await ack(response_action="errors", errors={error_block: SLOW_SAVE_MESSAGE})
        return None
    try:
        result = task.result()
    except InvalidInput as exc:
        block = (field_blocks or {}).get(exc.field, error_block)
        await ack(response_action="errors", errors={block: exc.user_message})
        return None
    except MendError as exc:
        await ack(response_action="errors", errors={error_block: exc.user_message})
        return None
    await ack()
    return result


async def _finish_late(task: asyncio.Future[T], when_late: Callable[[T], Awaitable[None]] | None) -> None:
    try:
        result = await task
    except MendError:
        return  # the person was already asked to submit again
    if when_late is not None:
        await when_late(result)
