"""In-memory stand-ins for the domain's ports, for fast service tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.cases import Case, CaseEvent, CaseReport, CaseState, MessageRef, NewCase
from bot.errors import CaseNotFound
from bot.followup_request import FollowUpRequest
from bot.playbook import CaseStep, Progress, Step, StepChange, StepStatus
from bot.records import CaseRecord
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
            version=1,
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

    async def record_card(
        self, case_id: int, card: MessageRef, at: datetime, *, drawn_version: int = 0
    ) -> Case:
        if self.cases[case_id].card is not None:
            return self.cases[case_id]
        self.event_log.append(CaseEvent(case_id=case_id, kind="card_posted", actor_user_id=None, at=at))
        return self._update(case_id, card=card, updated_at=at, card_version=drawn_version)

    async def record_thread_opened(self, case_id: int, at: datetime) -> Case:
        self.event_log.append(CaseEvent(case_id=case_id, kind="thread_opened", actor_user_id=None, at=at))
        return self._update(case_id, thread_opened=True, updated_at=at)

    async def events(self, case_id: int) -> list[CaseEvent]:
        return [e for e in self.event_log if e.case_id == case_id]

    async def open_cases(self, team_id: str, *, except_report_key: str | None = None) -> list[Case]:
        mine = self._keys.get(except_report_key) if except_report_key else None
        return [c for c in self.cases.values() if c.team_id == team_id and c.is_open and c.id != mine]

    async def add_event(
        self, case_id: int, kind: str, actor_user_id: str | None, at: datetime, data: dict[str, Any]
    ) -> bool:
        if any(e.kind == kind and e.data.get("key") == data.get("key") for e in await self.events(case_id)):
            return False
        self.event_log.append(
            CaseEvent(case_id=case_id, kind=kind, actor_user_id=actor_user_id, at=at, data=data)
        )
        return True


class RecordingCaseNotifier:
    """Records what the domain asked the chat surface to do; can be told to fail."""

    def __init__(self) -> None:
        self.cards: list[tuple[int, str]] = []
        self.threads: list[int] = []
        self.reporter_notices: list[int] = []
        self.added_reports: list[tuple[int, str]] = []
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

    async def post_added_report(
        self, case: Case, report: CaseReport, reporter_user_id: str, key: str
    ) -> None:
        self.added_reports.append((case.id, key))

    async def reply_to_origin(self, case: Case, origin: MessageRef) -> MessageRef | None:
        return None

    async def update_origin_reply(self, case: Case, reply: MessageRef) -> None:
        return None


class InMemoryRecoveryRepository:
    """The recovery port over an InMemoryCaseRepository's cases, with the same conditional semantics."""

    def __init__(self, cases: InMemoryCaseRepository) -> None:
        self.cases = cases
        self.steps: dict[int, list[CaseStep]] = {}
        self.records: dict[int, CaseRecord] = {}
        self.staged: list[tuple[int, FollowUpRequest]] = []  # follow-ups written with a change

    def start(self, case: Case, steps: tuple[Step, ...]) -> None:
        self.steps[case.id] = [CaseStep(case_id=case.id, position=i, step=s) for i, s in enumerate(steps)]

    async def load(self, case_id: int) -> tuple[Case, list[CaseStep]] | None:
        case = self.cases.cases.get(case_id)
        return (case, list(self.steps.get(case_id, []))) if case else None

    def _replace(self, case_id: int, key: str, **changes: object) -> None:
        self.steps[case_id] = [
            s.model_copy(update=changes) if s.key == key else s for s in self.steps[case_id]
        ]

    async def finish_step(self, change: StepChange) -> bool:
        case = self.cases.cases[change.case_id]
        step = next(s for s in self.steps[change.case_id] if s.key == change.step_key)
        if not case.is_open or step.finished:
            return False
        self._replace(
            change.case_id,
            change.step_key,
            status=change.status,
            actor_user_id=change.actor_user_id,
            at=change.at,
            note=change.note,
        )
        updates: dict[str, object] = {"version": case.version + 1}
        if change.new_owner_user_id:
            updates["owner_user_id"] = change.new_owner_user_id
        if change.root_cause_category:
            updates.update(
                root_cause_category=change.root_cause_category, root_cause_details=change.root_cause_details
            )
        self.cases._update(change.case_id, **updates)
        self.staged.extend((change.case_id, r) for r in change.follow_ups)
        self.cases.event_log.append(
            CaseEvent(
                case_id=change.case_id,
                kind=change.event_kind,
                actor_user_id=change.actor_user_id,
                at=change.at,
                data=change.event_data,
            )
        )
        return True

    async def record_prompt(self, case_id: int, step_key: str, ref: MessageRef) -> bool:
        self._replace(
            case_id,
            step_key,
            prompt_channel_id=ref.channel_id,
            prompt_ts=ref.ts,
            rendered_status=StepStatus.PENDING,
        )
        return True

    async def mark_rendered(self, case_id: int, step_key: str, status: StepStatus) -> None:
        self._replace(case_id, step_key, rendered_status=status)

    async def mark_card_rendered(self, case_id: int, version: int) -> None:
        self.cases._update(case_id, card_version=max(version, self.cases.cases[case_id].card_version))

    async def close(
        self, case_id: int, actor_user_id: str, at: datetime, follow_ups: Sequence[FollowUpRequest] = ()
    ) -> bool:
        if not self.cases.cases[case_id].is_open:
            return False
        self.cases._update(
            case_id, state=CaseState.CLOSED, closed_at=at, version=self.cases.cases[case_id].version + 1
        )
        self.staged.extend((case_id, r) for r in follow_ups)
        return True

    async def reopen_steps(
        self, case_id: int, step_keys: Sequence[str], actor_user_id: str, at: datetime, reason: str
    ) -> bool:
        if not self.cases.cases[case_id].is_open:
            return False
        self._reopen(case_id, step_keys, actor_user_id, at, reason)
        self.cases._update(case_id, version=self.cases.cases[case_id].version + 1)
        return True

    def _reopen(
        self, case_id: int, keys: Sequence[str], actor_user_id: str, at: datetime, reason: str
    ) -> None:
        for key in keys:
            self._replace(
                case_id,
                key,
                status=StepStatus.PENDING,
                actor_user_id=actor_user_id,
                at=at,
                note=reason,
                prompt_channel_id=None,
                prompt_ts=None,
                rendered_status=None,
            )

    async def write_record(self, record: CaseRecord, finish: StepChange | None, *, close: bool) -> bool:
        if not self.cases.cases[record.case_id].is_open:
            return False
        if finish is not None and not await self.finish_step(finish):
            return False
        self.records[record.case_id] = record
        if close:
            await self.close(record.case_id, record.recorded_by, record.recorded_at)
        return True

    async def get_record(self, case_id: int) -> CaseRecord | None:
        return self.records.get(case_id)

    async def reopen(
        self, case_id: int, actor_user_id: str, at: datetime, reason: str, steps: Sequence[str] = ()
    ) -> bool:
        case = self.cases.cases[case_id]
        if case.is_open:
            return False
        self._reopen(case_id, steps, actor_user_id, at, reason)
        self.cases._update(
            case_id,
            state=CaseState.OPEN,
            closed_at=None,
            closed_notice_ts=None,
            reopen_count=case.reopen_count + 1,
            version=case.version + 1,
        )
        return True

    async def record_closed_notice(self, case_id: int, ref: MessageRef, reopen_count: int) -> None:
        case = self.cases.cases[case_id]
        if not case.is_open and case.reopen_count == reopen_count:
            self.cases._update(case_id, closed_notice_ts=ref.ts)

    async def audit(
        self, case_id: int, kind: str, actor_user_id: str | None, at: datetime, **data: Any
    ) -> None:
        self.cases.event_log.append(
            CaseEvent(case_id=case_id, kind=kind, actor_user_id=actor_user_id, at=at, data=data)
        )


class RecordingRecoveryNotifier:
    def __init__(self) -> None:
        self.prompts: list[str] = []
        self.redraws: list[tuple[str, StepStatus]] = []
        self.cards: list[str] = []
        self.closed: list[int] = []
        self.reopened: list[int] = []
        self.retired: list[tuple[str, bool]] = []

    async def post_step_prompt(self, case: Case, step: CaseStep, progress: Progress) -> MessageRef:
        self.prompts.append(step.key)
        return MessageRef(channel_id="C1", ts=f"2.{len(self.prompts):06d}")

    async def redraw_step_prompt(self, case: Case, step: CaseStep, progress: Progress) -> None:
        self.redraws.append((step.key, step.status))

    async def update_case_card(self, case: Case, progress: Progress) -> None:
        self.cards.append(progress.label)

    async def post_closing_summary(
        self, case: Case, steps: Sequence[CaseStep], record: CaseRecord | None
    ) -> MessageRef:
        self.closed.append(case.id)
        return MessageRef(channel_id="C1", ts=f"3.{len(self.closed):06d}")

    async def announce_reopened(self, case: Case, actor_user_id: str, reason: str) -> None:
        self.reopened.append(case.id)

    async def retire_prompt(
        self, case: Case, step: CaseStep, ref: MessageRef, progress: Progress, *, reopened: bool
    ) -> None:
        self.retired.append((step.key, reopened))


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
