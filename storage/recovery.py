"""SQL storage of a case's progress through its playbook: conditional step changes and what Slack shows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases import Case, CaseState, MessageRef
from bot.followup_request import FollowUpRequest
from bot.playbook import CaseStep, Step, StepChange, StepStatus
from bot.records import CaseRecord
from storage.cases import case_from_row, event_row
from storage.db import Database
from storage.followups import stage
from storage.records import CaseRecordRow, apply_record, record_from_row
from storage.tables import CaseRow, CaseStepRow


def step_from_row(row: CaseStepRow) -> CaseStep:
    return CaseStep(
        case_id=row.case_id,
        position=row.position,
        step=Step.model_validate(row.definition),
        status=StepStatus(row.status),
        actor_user_id=row.actor_user_id,
        at=row.at,
        note=row.note,
        prompt_channel_id=row.prompt_channel_id,
        prompt_ts=row.prompt_ts,
        rendered_status=StepStatus(row.rendered_status) if row.rendered_status else None,
    )


class _Abort(Exception):
    """Roll the transaction back: a condition did not hold."""


class SqlRecoveryRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self, case_id: int) -> tuple[Case, list[CaseStep]] | None:
        async with self._db.transaction() as session:
            row = await session.get(CaseRow, case_id)
            if row is None:
                return None
            steps = (
                await session.execute(
                    select(CaseStepRow).where(CaseStepRow.case_id == case_id).order_by(CaseStepRow.position)
                )
            ).scalars()
            return case_from_row(row), [step_from_row(s) for s in steps]

    async def finish_step(self, change: StepChange) -> bool:
        try:
            async with self._db.transaction() as session:
                await _apply_step_change(session, change)
        except _Abort:
            return False
        return True

    async def write_record(
        self,
        record: CaseRecord,
        finish: StepChange | None,
        *,
        close: bool,
        follow_ups: Sequence[FollowUpRequest] = (),
    ) -> bool:
        at = record.recorded_at
        try:
            async with self._db.transaction() as session:
                if finish is not None:
                    await _apply_step_change(session, finish)
                else:
                    await _bump_open_case(
                        session,
                        record.case_id,
                        {"updated_at": at, "root_cause_category": record.root_cause_category},
                    )
                    session.add(event_row(record.case_id, "record_written", record.recorded_by, at))
                row = await session.get(CaseRecordRow, record.case_id)
                if row is None:
                    row = CaseRecordRow(case_id=record.case_id)
                    session.add(row)
                apply_record(row, record)
                if close:
                    await _close(session, record.case_id, record.recorded_by, at, follow_ups)
        except _Abort:
            return False
        return True

    async def get_record(self, case_id: int) -> CaseRecord | None:
        async with self._db.transaction() as session:
            row = await session.get(CaseRecordRow, case_id)
            return record_from_row(row) if row else None

    async def record_prompt(self, case_id: int, step_key: str, ref: MessageRef) -> bool:
        async with self._db.transaction() as session:
            result = await session.execute(
                update(CaseStepRow)
                .where(
                    CaseStepRow.case_id == case_id,
                    CaseStepRow.step_key == step_key,
                    CaseStepRow.prompt_ts.is_(None),
                )
                .values(
                    prompt_channel_id=ref.channel_id,
                    prompt_ts=ref.ts,
                    rendered_status=StepStatus.PENDING.value,
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def mark_rendered(self, case_id: int, step_key: str, status: StepStatus) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                update(CaseStepRow)
                .where(CaseStepRow.case_id == case_id, CaseStepRow.step_key == step_key)
                .values(rendered_status=status.value)
            )

    async def mark_card_rendered(self, case_id: int, version: int) -> None:
        async with self._db.transaction() as session:
            # Never move backwards: a slower sync that drew an older version must not hide a newer one.
            await session.execute(
                update(CaseRow)
                .where(CaseRow.id == case_id, CaseRow.card_version < version)
                .values(card_version=version)
            )

    async def close(
        self, case_id: int, actor_user_id: str, at: datetime, follow_ups: Sequence[FollowUpRequest] = ()
    ) -> bool:
        try:
            async with self._db.transaction() as session:
                await _close(session, case_id, actor_user_id, at, follow_ups)
        except _Abort:
            return False
        return True

    async def reopen_steps(
        self, case_id: int, step_keys: Sequence[str], actor_user_id: str, at: datetime, reason: str
    ) -> bool:
        try:
            async with self._db.transaction() as session:
                await _bump_open_case(session, case_id, {"updated_at": at})
                await _reopen_steps(session, case_id, step_keys, actor_user_id, at, reason)
        except _Abort:
            return False
        return True

    async def reopen(
        self, case_id: int, actor_user_id: str, at: datetime, reason: str, steps: Sequence[str] = ()
    ) -> bool:
        async with self._db.transaction() as session:
            result = await session.execute(
                update(CaseRow)
                .where(CaseRow.id == case_id, CaseRow.state == CaseState.CLOSED.value)
                .values(
                    state=CaseState.OPEN.value,
                    closed_at=None,
                    closed_notice_ts=None,
                    reopen_count=CaseRow.reopen_count + 1,
                    updated_at=at,
                    version=CaseRow.version + 1,
                )
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return False
            session.add(event_row(case_id, "reopened", actor_user_id, at, reason=reason, steps=list(steps)))
            await _reopen_steps(session, case_id, steps, actor_user_id, at, reason)
            return True

    async def audit(
        self, case_id: int, kind: str, actor_user_id: str | None, at: datetime, **data: Any
    ) -> None:
        """A line in the case's trail that changes nothing else (a refused change: bot/permissions.py)."""
        async with self._db.transaction() as session:
            session.add(event_row(case_id, kind, actor_user_id, at, **data))

    async def record_closed_notice(self, case_id: int, ref: MessageRef, reopen_count: int) -> None:
        async with self._db.transaction() as session:
            # Only for the closing it was posted for: a reopen in between makes it history.
            await session.execute(
                update(CaseRow)
                .where(
                    CaseRow.id == case_id,
                    CaseRow.state == CaseState.CLOSED.value,
                    CaseRow.reopen_count == reopen_count,
                )
                .values(closed_notice_ts=ref.ts)
            )


async def _bump_open_case(session: AsyncSession, case_id: int, values: dict[str, Any]) -> None:
    """Bump an open case's version (locking its row on PostgreSQL); abort if it is not open."""
    bumped = await session.execute(
        update(CaseRow)
        .where(CaseRow.id == case_id, CaseRow.state == CaseState.OPEN.value)
        .values(version=CaseRow.version + 1, **values)
    )
    if not bumped.rowcount:  # type: ignore[attr-defined]
        raise _Abort


async def _apply_step_change(session: AsyncSession, change: StepChange) -> None:
    case_values: dict[str, Any] = {"updated_at": change.at}
    if change.new_owner_user_id:
        case_values["owner_user_id"] = change.new_owner_user_id
    if change.root_cause_category:
        case_values["root_cause_category"] = change.root_cause_category
    if change.root_cause_details:
        case_values["root_cause_details"] = change.root_cause_details
    if change.acknowledges:
        case_values["acknowledged_at"] = func.coalesce(CaseRow.acknowledged_at, change.at)
    # The case row first: on PostgreSQL its row lock orders concurrent changes to one case.
    await _bump_open_case(session, change.case_id, case_values)
    finished = await session.execute(
        update(CaseStepRow)
        .where(
            CaseStepRow.case_id == change.case_id,
            CaseStepRow.step_key == change.step_key,
            CaseStepRow.status == StepStatus.PENDING.value,
        )
        .values(
            status=change.status.value, actor_user_id=change.actor_user_id, at=change.at, note=change.note
        )
    )
    if not finished.rowcount:  # type: ignore[attr-defined]
        raise _Abort
    session.add(
        event_row(change.case_id, change.event_kind, change.actor_user_id, change.at, **change.event_data)
    )
    await stage(session, change.follow_ups, case_id=change.case_id, now=change.at)


async def _close(
    session: AsyncSession,
    case_id: int,
    actor_user_id: str,
    at: datetime,
    follow_ups: Sequence[FollowUpRequest] = (),
) -> None:
    result = await session.execute(
        update(CaseRow)
        .where(CaseRow.id == case_id, CaseRow.state == CaseState.OPEN.value)
        .values(state=CaseState.CLOSED.value, closed_at=at, updated_at=at, version=CaseRow.version + 1)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise _Abort
    session.add(event_row(case_id, "closed", actor_user_id, at))
    await stage(session, follow_ups, case_id=case_id, now=at)


async def _reopen_steps(
    session: AsyncSession,
    case_id: int,
    step_keys: Sequence[str],
    actor_user_id: str,
    at: datetime,
    reason: str,
) -> None:
    """Steps back to pending, marked reopened (who, when, why) and without a prompt, so the thread gets a
    fresh one at the bottom when each is due again (the old prompt is history: RecoveryService retires it)."""
    for key in step_keys:
        await session.execute(
            update(CaseStepRow)
            .where(CaseStepRow.case_id == case_id, CaseStepRow.step_key == key)
            .values(
                status=StepStatus.PENDING.value,
                actor_user_id=actor_user_id,
                at=at,
                note=reason,
                prompt_channel_id=None,
                prompt_ts=None,
                rendered_status=None,
            )
        )
        session.add(event_row(case_id, "step_reopened", actor_user_id, at, step=key, reason=reason))
