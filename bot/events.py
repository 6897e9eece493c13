"""Domain events: the one way a feature reacts to another.

A service publishes what happened (a case announced, shown in Slack after a change, closed; an amends
request shown after a change) and knows nothing of who listens; the composition root (app.py) subscribes
each listener. Listeners run one after another, in the order they were subscribed, and `publish` returns
once the last has: a publisher that awaits it knows its listeners have run (a listener that must not keep
the person waiting hands its work to a background task itself). A listener's failure reaches the
publisher, as a failure of its own work would.

Why events and not callbacks or observers per service: see docs/architecture.md#reactions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from bot.amends.models import Amends
    from bot.cases import Case


@dataclass(frozen=True)
class CaseAnnounced:
    """The case's card is posted and its thread opened, just now: its playbook can start there."""

    case_id: int


@dataclass(frozen=True)
class CaseChanged:
    """Slack shows the case as the database has it (after each `RecoveryService.sync`)."""

    case: Case


@dataclass(frozen=True)
class CaseWasClosed:
    """Once per closing, right after the closing summary is posted."""

    case: Case


@dataclass(frozen=True)
class AmendsChanged:
    """Slack shows an amends request's offer or decision (after each `AmendsService.sync`)."""

    amends: Amends


DomainEvent = CaseAnnounced | CaseChanged | CaseWasClosed | AmendsChanged
E = TypeVar("E", CaseAnnounced, CaseChanged, CaseWasClosed, AmendsChanged)


class Events:
    """The hub: listeners subscribed by event type, told in order."""

    def __init__(self) -> None:
        self._listeners: dict[type, list[Callable[[Any], Awaitable[None]]]] = {}

    def subscribe(self, event_type: type[E], *listeners: Callable[[E], Awaitable[None]]) -> None:
        """Tell `listeners` about each event of `event_type`, in this order, after those subscribed before."""
        self._listeners.setdefault(event_type, []).extend(listeners)

    def listeners(self, event_type: type[DomainEvent]) -> tuple[Callable[[Any], Awaitable[None]], ...]:
        return tuple(self._listeners.get(event_type, ()))

    async def publish(self, event: DomainEvent) -> None:
        for listener in self.listeners(type(event)):
            await listener(event)
