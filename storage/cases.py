"""SQL storage of cases and their audit trail; returns domain models, never ORM rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.cases import Case, CaseEvent, CaseReport, CaseState, MessageRef, NewCase, Severity
from bot.errors import CaseNotFound
from bot.playbook import StepStatus
from storage.db import Database
from storage.followups import stage
from storage.tables import CaseEventRow, CaseRow, CaseStepRow


def case_from_row(row: CaseRow) -> Case:
    return Case(
        id=row.id,
        team_id=row.team_id,
        report=CaseReport(
            customer_name=row.customer_name,
            customer_ref=row.customer_ref,
            summary=row.summary,
            customer_words=row.customer_words,
            impact=row.impact,
            severity=Severity(row.severity),
            category=row.category,
            source_permalink=row.source_permalink,
        ),
        state=CaseState(row.state),
        reporter_user_id=row.reporter_user_id,
        owner_user_id=row.owner_user_id,
        origin_channel_id=row.origin_channel_id,
        card=MessageRef(channel_id=row.card_channel_id, ts=row.card_ts)
        if row.card_channel_id and row.card_ts
        else None,
        thread_opened=row.thread_opened_at is not None,
        created_at=row.created_at,
        updated_at=row.updated_at,
        closed_at=row.closed_at,
        acknowledged_at=row.acknowledged_at,
        reopen_count=row.reopen_count,
        closed_notice_ts=row.closed_notice_ts,
        root_cause_category=row.root_cause_category,
        root_cause_details=row.root_cause_details,
        amends_note=row.amends_note,
        version=row.version,
        card_version=row.card_version,
    )


def event_row(case_id: int, kind: str, actor: str | None, at: datetime, **data: Any) -> CaseEventRow:
    return CaseEventRow(case_id=case_id, kind=kind, actor_user_id=actor, at=at, data=data)


class SqlCaseRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, new: NewCase) -> tuple[Case, bool]:
        report = new.report
        row = CaseRow(
            team_id=new.team_id,
            state=CaseState.OPEN.value,
            severity=report.severity.value,
            category=report.category,
            customer_name=report.customer_name,
            customer_ref=report.customer_ref,
            summary=report.summary,
            customer_words=report.customer_words,
            impact=report.impact,
            source_permalink=report.source_permalink,
            reporter_user_id=new.reporter_user_id,
            owner_user_id=new.reporter_user_id,
            origin_channel_id=new.origin_channel_id,
            report_key=new.report_key,
            # Version 1 against a card drawn at 0: the first sync after announcing draws the full card.
            version=1,
            card_version=0,
            created_at=new.at,
            updated_at=new.at,
        )
        try:
            async with self._db.transaction() as session:
                session.add(row)
                await session.flush()
                session.add(
                    event_row(
                        row.id,
                        "reported",
                        new.reporter_user_id,
                        new.at,
                        severity=report.severity.value,
                        category=report.category,
                        **(
                            {"origin": new.origin_message.model_dump(mode="json")}
                            if new.origin_message
                            else {}
                        ),
                    )
                )
                session.add(
                    event_row(row.id, "owner_assigned", new.reporter_user_id, new.at, owner=row.owner_user_id)
                )
                await stage(session, new.follow_ups, case_id=row.id, now=new.at)
                for position, step in enumerate(new.steps):
                    session.add(
                        CaseStepRow(
                            case_id=row.id,
                            position=position,
                            step_key=step.key,
                            definition=step.model_dump(mode="json"),
                            required=step.required,
                            status=StepStatus.PENDING.value,
                        )
                    )
            return case_from_row(row), True
        except IntegrityError:
            # The unique report_key says this submission was stored already: hand back that case.
            if new.report_key is None:
                raise
            async with self._db.transaction() as session:
                existing = (
                    await session.execute(select(CaseRow).where(CaseRow.report_key == new.report_key))
                ).scalar_one()
                return case_from_row(existing), False

    async def get(self, case_id: int) -> Case | None:
        async with self._db.transaction() as session:
            row = await session.get(CaseRow, case_id)
            return case_from_row(row) if row else None

    async def record_card(
        self, case_id: int, card: MessageRef, at: datetime, *, drawn_version: int = 0
    ) -> Case:
        async with self._db.transaction() as session:
            # Only the first card counts: a racing second announcer must not overwrite the ts the thread uses.
            result = await session.execute(
                update(CaseRow)
                .where(CaseRow.id == case_id, CaseRow.card_ts.is_(None))
                .values(
                    card_channel_id=card.channel_id,
                    card_ts=card.ts,
                    card_version=drawn_version,
                    updated_at=at,
                )
            )
            if result.rowcount:  # type: ignore[attr-defined]
                session.add(
                    event_row(case_id, "card_posted", None, at, channel_id=card.channel_id, ts=card.ts)
                )
            row = await session.get(CaseRow, case_id, populate_existing=True)
            if row is None:
                raise CaseNotFound(case_id)
            return case_from_row(row)

    async def record_thread_opened(self, case_id: int, at: datetime) -> Case:
        async with self._db.transaction() as session:
            result = await session.execute(
                update(CaseRow)
                .where(CaseRow.id == case_id, CaseRow.thread_opened_at.is_(None))
                .values(thread_opened_at=at, updated_at=at)
            )
            if result.rowcount:  # type: ignore[attr-defined]
                session.add(event_row(case_id, "thread_opened", None, at))
            row = await session.get(CaseRow, case_id, populate_existing=True)
            if row is None:
                raise CaseNotFound(case_id)
            return case_from_row(row)

    async def open_cases(self, team_id: str, *, except_report_key: str | None = None) -> list[Case]:
        query = select(CaseRow).where(CaseRow.team_id == team_id, CaseRow.state == CaseState.OPEN.value)
        if except_report_key is not None:
            query = query.where(or_(CaseRow.report_key.is_(None), CaseRow.report_key != except_report_key))
        async with self._db.transaction() as session:
            rows = (await session.execute(query.order_by(CaseRow.id))).scalars()
            return [case_from_row(r) for r in rows]

    async def add_event(
        self, case_id: int, kind: str, actor_user_id: str | None, at: datetime, data: dict[str, Any]
    ) -> bool:
        async with self._db.transaction() as session:
            # Lock the case row so two deliveries of one submission can't both find the trail without it.
            await session.execute(select(CaseRow.id).where(CaseRow.id == case_id).with_for_update())
            kinds = (
                await session.execute(
                    select(CaseEventRow.data).where(
                        CaseEventRow.case_id == case_id, CaseEventRow.kind == kind
                    )
                )
            ).scalars()
            if any((d or {}).get("key") == data.get("key") for d in kinds):
                return False
            session.add(event_row(case_id, kind, actor_user_id, at, **data))
            return True

    async def events(self, case_id: int) -> list[CaseEvent]:
        async with self._db.transaction() as session:
            rows = (
                await session.execute(
                    select(CaseEventRow).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.id)
                )
            ).scalars()
            return [
                CaseEvent(
                    case_id=r.case_id, kind=r.kind, actor_user_id=r.actor_user_id, at=r.at, data=r.data or {}
                )
                for r in rows
            ]
