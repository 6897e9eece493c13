"""Service tests: install status, the announce check it drives, and the delivery log's first-time rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.cases import CaseConfig, CaseReport, CaseService, Severity
from bot.clock import FrozenClock
from bot.deliveries import DELIVERY_RETENTION, PRUNE_INTERVAL, Deliveries
from bot.workspaces import InstallStatus, WorkspaceService
from tests.fakes import (
    InMemoryCaseRepository,
    InMemoryDeliveryLog,
    InMemoryWorkspaceRepository,
    RecordingCaseNotifier,
)

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
REPORT = CaseReport(customer_name="Dana", summary="Parcel lost", severity=Severity.MAJOR, category="delivery")


async def test_unknown_workspaces_are_active_until_slack_says_otherwise() -> None:
    service = WorkspaceService(InMemoryWorkspaceRepository(), FrozenClock(NOW))
    assert await service.is_active("T1")
    assert await service.uninstalled("T1") is True
    assert await service.uninstalled("T1") is False  # a retried event changes nothing
    assert not await service.is_active("T1")
    assert await service.is_active("T2")


async def test_only_a_revoked_bot_token_stops_sends() -> None:
    service = WorkspaceService(InMemoryWorkspaceRepository(), FrozenClock(NOW))
    assert await service.tokens_revoked("T1", bot_user_ids=[]) is False  # user tokens only: Mend has none
    assert await service.is_active("T1")
    assert await service.tokens_revoked("T1", bot_user_ids=["U0BOT"]) is True
    workspace = await service.get("T1")
    assert workspace is not None and workspace.status is InstallStatus.TOKENS_REVOKED
    assert workspace.changed_at == NOW


async def test_a_confirmed_token_makes_the_workspace_active_again() -> None:
    clock = FrozenClock(NOW)
    service = WorkspaceService(InMemoryWorkspaceRepository(), clock)
    await service.uninstalled("T1")
    clock.advance(timedelta(days=2))
    assert await service.token_confirmed("T1") is True
    assert await service.is_active("T1")
    workspace = await service.get("T1")
    assert workspace is not None and workspace.changed_at == NOW + timedelta(days=2)


async def test_announce_posts_nothing_to_an_inactive_workspace() -> None:
    repo, notifier = InMemoryCaseRepository(), RecordingCaseNotifier()
    workspaces = WorkspaceService(InMemoryWorkspaceRepository(), FrozenClock(NOW))
    config = CaseConfig(recovery_channel_id="C0REC")
    service = CaseService(repo, notifier, FrozenClock(NOW), config, workspaces=workspaces)
    gone, _ = await service.open_case(
        REPORT, team_id="T1", reporter_user_id="U1", origin_channel_id="C1", report_key="V1"
    )
    here, _ = await service.open_case(
        REPORT, team_id="T2", reporter_user_id="U2", origin_channel_id="C2", report_key="V2"
    )
    await workspaces.uninstalled("T1")
    assert (await service.announce(gone.id)).card is None
    assert (await service.announce(here.id)).card is not None
    assert notifier.cards == [(here.id, "C0REC")] and notifier.threads == [here.id]


async def test_a_delivery_is_new_once() -> None:
    deliveries = Deliveries(InMemoryDeliveryLog(), FrozenClock(NOW))
    assert await deliveries.first_time("Ev1", team_id="T1") is True
    assert await deliveries.first_time("Ev1", team_id="T1") is False
    assert await deliveries.first_time("Ev2", team_id="T1") is True


async def test_old_deliveries_are_forgotten_now_and_then() -> None:
    log, clock = InMemoryDeliveryLog(), FrozenClock(NOW)
    deliveries = Deliveries(log, clock)
    await deliveries.first_time("Ev1", team_id=None)
    clock.advance(PRUNE_INTERVAL / 2)
    await deliveries.first_time("Ev2", team_id=None)
    assert log.prunes == [NOW - DELIVERY_RETENTION]  # not on every delivery
    clock.advance(DELIVERY_RETENTION + PRUNE_INTERVAL)
    assert await deliveries.first_time("Ev3", team_id=None) is True
    assert set(log.claimed) == {"Ev3"}
