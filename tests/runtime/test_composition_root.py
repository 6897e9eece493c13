"""What app.py and settings.py import, checked the way pyproject's layers check the packages; and what
app.build wires: the follow-up kind table and the reactions through the event hub.

import-linter takes only packages as roots, so it sees these two top-level modules only from outside (who
imports them); their own imports are read here from the source, including imports inside functions.
"""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app import Mend, build
from bot.amends import AmendsEffect
from bot.events import AmendsChanged, CaseAnnounced, CaseChanged, CaseWasClosed, DomainEvent, Events
from bot.followups import CASE_KINDS, FollowUpKind
from settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_the_composition_root_imports_nothing_that_sits_above_it() -> None:
    above = ("runtime.cli", "runtime.__main__", "sandbox", "slack_double")
    imports = imports_of(ROOT / "app.py")
    assert {"runtime.server", "runtime.scheduler", "settings"} <= imports  # it is reading the right file
    assert sorted(m for m in imports if within(m, above)) == []


def test_settings_depend_only_on_the_domain_and_storage() -> None:
    product = ("bot", "handlers", "storage", "runtime", "app", "sandbox", "slack_double")
    imports = imports_of(ROOT / "settings.py")
    assert sorted(m for m in imports if within(m, product) and not within(m, ("bot", "storage"))) == []
    assert any(within(m, ("bot",)) for m in imports)


# ---- what build() wires -----------------------------------------------------------------------------


@pytest.fixture
async def mend(tmp_path: Path) -> AsyncIterator[Mend]:
    settings = load_settings(
        slack_bot_token="xoxb-wiring",
        slack_signing_secret="wiring-secret",
        database_url=f"sqlite:///{tmp_path / 'mend.db'}",
    )
    built = build(settings)
    try:
        yield built
    finally:
        await built.db.dispose()


async def test_every_follow_up_kind_has_a_handler_in_the_kind_table(mend: Mend) -> None:
    kinds = {*FollowUpKind, *AmendsEffect}
    assert {k for k in kinds if mend.followups.handler(k) is None} == set()
    assert {mend.followups.handler(k).__class__.__name__ for k in CASE_KINDS} == {"CaseFollowUpHandler"}


async def test_features_react_to_each_other_through_the_event_hub_in_this_order(mend: Mend) -> None:
    """The reactions the tests rely on: the first step after the thread opens, Home tabs and the recurrence
    check after a case's sync, the check-in on close, and a grant shown on the case before Home tabs."""

    def told(event: type[DomainEvent]) -> list[str]:
        return [
            f"{type(listener.__self__).__name__}.{listener.__name__}"
            for listener in mend.events.listeners(event)
        ]

    assert told(CaseAnnounced) == ["RecoveryService.case_announced"]
    assert told(CaseChanged) == ["HomePublisher.case_changed", "LearningListeners.case_changed"]
    assert told(CaseWasClosed) == ["EmployeeCareService.case_was_closed", "CaseService.case_was_closed"]
    assert told(AmendsChanged) == ["RecoveryService.amends_changed", "HomePublisher.amends_changed"]


async def test_events_reach_listeners_in_order_and_a_failure_reaches_the_publisher() -> None:
    hub, heard = Events(), []

    async def first(event: CaseAnnounced) -> None:
        heard.append(("first", event.case_id))

    async def second(event: CaseAnnounced) -> None:
        heard.append(("second", event.case_id))
        raise RuntimeError("listener failed")

    hub.subscribe(CaseAnnounced, first, second)
    with pytest.raises(RuntimeError):
        await hub.publish(CaseAnnounced(7))
    await Events().publish(CaseAnnounced(8))  # nobody listens: nothing happens
    assert heard == [("first", 7), ("second", 7)]
