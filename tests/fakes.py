"""In-memory stand-ins for the domain's ports, for fast service tests."""

from __future__ import annotations

from datetime import datetime

from bot.cases import Case, CaseEvent, CaseState, MessageRef, NewCase
from bot.errors import CaseNotFound
from bot.workspaces import InstallStatus, Workspace


class InMemoryCaseRepository:
    def __init__(self) -> None:
        self.cases: dict[int, Case] = {}
        self.event_log: list[CaseEvent] = []
        self._keys: dict[str, int] = {}

    async def add(self, new: NewCase) -> tuple[Case, bool]:
        if new.report_key and new.report_key in self._keys:
            return self.cases[self._keys[new.report_key]], False
        case = Case(
            id=len(self.cases) + 1,
            team_id=new.team_id,
            report=new.report,
            state=CaseState.OPEN,
            reporter_user_id=new.reporter_user_id,
            owner_user_id=new.reporter_user_id,
            origin_channel_id=new.origin_channel_id,
            card=None,
            thread_opened=False,
            created_at=new.at,
            updated_at=new.at,
        )
        self.cases[case.id] = case
        if new.report_key:
            self._keys[new.report_key] = case.id
        self.event_log.append(
            CaseEvent(case_id=case.id, kind="reported", actor_user_id=new.reporter_user_id, at=new.at)
        )
        return case, True

    async def get(self, case_id: int) -> Case | None:
        return self.cases.get(case_id)

    def _update(self, case_id: int, **changes: object) -> Case:
        if case_id not in self.cases:
            raise CaseNotFound(case_id)
        case = self.cases[case_id].model_copy(update=changes)
        self.cases[case_id] = case
        return case

    async def record_card(self, case_id: int, card: MessageRef, at: datetime) -> Case:
        if self.cases[case_id].card is not None:
            return self.cases[case_id]
        self.event_log.append(CaseEvent(case_id=case_id, kind="card_posted", actor_user_id=None, at=at))
        return self._update(case_id, card=card, updated_at=at)

    async def record_thread_opened(self, case_id: int, at: datetime) -> Case:
        self.event_log.append(CaseEvent(case_id=case_id, kind="thread_opened", actor_user_id=None, at=at))
        return self._update(case_id, thread_opened=True, updated_at=at)

    async def events(self, case_id: int) -> list[CaseEvent]:
        return [e for e in self.event_log if e.case_id == case_id]


class RecordingCaseNotifier:
    """Records what the domain asked the chat surface to do; can be told to fail."""

    def __init__(self) -> None:
        self.cards: list[tuple[int, str]] = []
        self.threads: list[int] = []
        self.reporter_notices: list[int] = []
        self.fail_thread_once = False

    async def post_case_card(self, case: Case, channel_id: str) -> MessageRef:
        self.cards.append((case.id, channel_id))
        return MessageRef(channel_id=channel_id, ts=f"1700000000.{len(self.cards):06d}")

    async def open_case_thread(self, case: Case) -> None:
        if self.fail_thread_once:
            self.fail_thread_once = False
            raise RuntimeError("slack down")
        self.threads.append(case.id)

    async def tell_reporter_case_opened(self, case: Case) -> None:
        self.reporter_notices.append(case.id)


class InMemoryDeliveryLog:
    def __init__(self) -> None:
        self.claimed: dict[str, datetime] = {}
        self.prunes: list[datetime] = []

    async def claim(self, delivery_id: str, *, team_id: str | None, at: datetime) -> bool:
        if delivery_id in self.claimed:
            return False
        self.claimed[delivery_id] = at
        return True

    async def forget_before(self, cutoff: datetime) -> int:
        self.prunes.append(cutoff)
        old = [k for k, at in self.claimed.items() if at < cutoff]
        for key in old:
            del self.claimed[key]
        return len(old)


class InMemoryWorkspaceRepository:
    def __init__(self) -> None:
        self.workspaces: dict[str, Workspace] = {}

    async def set_status(self, team_id: str, status: InstallStatus, at: datetime) -> bool:
        current = self.workspaces.get(team_id)
        if current is not None and current.status is status:
            return False
        self.workspaces[team_id] = Workspace(team_id=team_id, status=status, changed_at=at)
        return True

    async def get(self, team_id: str) -> Workspace | None:
        return self.workspaces.get(team_id)

    async def is_active(self, team_id: str) -> bool:
        current = self.workspaces.get(team_id)
        return current is None or current.status is InstallStatus.ACTIVE
