"""`FollowUpService`: the follow-up feature as the app wires it, one engine and the case actions on it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from bot.clock import Clock
from bot.followups.case_actions import CaseFollowUpActions
from bot.followups.engine import FollowUpEngine
from bot.followups.models import FollowUp, OutgoingMessage
from bot.followups.policy import FollowUpPolicy
from bot.followups.ports import (
    CaseLoader,
    FollowUpHandler,
    FollowUpMessenger,
    FollowUpRepository,
    PeopleDirectory,
    RecoveryActions,
)


class FollowUpService(CaseFollowUpActions):
    """What people do with follow-ups (`CaseFollowUpActions`) over the delivery engine (`.engine`).

    The engine's surface is forwarded, so the poller and the Slack edge hold one object; the engine itself
    knows no case and can be built and tested alone."""

    def __init__(
        self,
        repo: FollowUpRepository,
        messenger: FollowUpMessenger,
        people: PeopleDirectory,
        clock: Clock,
        policy: FollowUpPolicy,
        *,
        kinds: Mapping[str, FollowUpHandler],
        lease: timedelta = timedelta(seconds=60),
        batch: int = 200,
        max_in_flight: int = 1000,
        owner: str | None = None,
        cases: CaseLoader | None = None,
        recovery: RecoveryActions | None = None,
        send_timeout: timedelta = timedelta(seconds=5),
    ) -> None:
        super().__init__(repo, people, clock, policy, cases=cases, recovery=recovery)
        self.engine = FollowUpEngine(
            repo,
            messenger,
            people,
            clock,
            policy.hours,
            kinds=kinds,
            lease=lease,
            batch=batch,
            max_in_flight=max_in_flight,
            owner=owner,
            send_timeout=send_timeout,
        )

    # ---- the engine's surface -------------------------------------------------------------------

    def handler(self, kind: str) -> FollowUpHandler | None:
        return self.engine.handler(kind)

    @property
    def settle(self) -> timedelta:
        return self.engine.settle

    @property
    def in_flight(self) -> int:
        return self.engine.in_flight

    @property
    def stopping(self) -> bool:
        return self.engine.stopping

    def stop_claiming(self) -> None:
        self.engine.stop_claiming()

    async def claim_due(self) -> list[FollowUp]:
        return await self.engine.claim_due()

    async def process(self, item: FollowUp) -> None:
        await self.engine.process(item)

    async def deliver_now(self, case_id: int | None, key_prefix: str) -> int:
        return await self.engine.deliver_now(case_id, key_prefix)

    async def update_message(self, item: FollowUp, message: OutgoingMessage) -> None:
        await self.engine.update_message(item, message)
