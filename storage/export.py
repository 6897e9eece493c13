"""Rows for CSV export: cases opened and amends requested in a time range, as plain dicts keyed by column.

Values are what is stored (category keys, Slack user ids, amounts as Money); bot/export.py turns them into
what people read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.cases import format_reference
from bot.followups.models import FollowUpKind, FollowUpState
from storage.amends import AmendsRow, amends_from_row
from storage.db import Database
from storage.followups import FollowUpRow
from storage.records import CaseRecordRow
from storage.tables import CaseRow


def _minutes(start: datetime | None, end: datetime | None) -> str:
    return "" if start is None or end is None else f"{(end - start).total_seconds() / 60:.0f}"


def _hours(start: datetime | None, end: datetime | None) -> str:
    return "" if start is None or end is None else f"{(end - start).total_seconds() / 3600:.1f}"


class SqlExportRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def cases_between(
        self, team_id: str | None, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        in_range = [CaseRow.created_at >= start, CaseRow.created_at < end]
        if team_id is not None:
            in_range.append(CaseRow.team_id == team_id)
        query = (
            select(CaseRow, CaseRecordRow.lesson)
            .outerjoin(CaseRecordRow, CaseRecordRow.case_id == CaseRow.id)
            .where(*in_range)
            .order_by(CaseRow.id)
        )
        # What the owner recorded when asked "Is the customer satisfied?" and at the re-survey: the latest
        # answer of each kind per case, read in the same range (not an IN list as long as the export).
        answers = (
            select(FollowUpRow.case_id, FollowUpRow.kind, FollowUpRow.resolution, FollowUpRow.resolution_data)
            .join(CaseRow, CaseRow.id == FollowUpRow.case_id)
            .where(
                *in_range,
                FollowUpRow.state == FollowUpState.RESOLVED.value,
                FollowUpRow.kind.in_([FollowUpKind.CUSTOMER_FOLLOW_UP.value, FollowUpKind.RESURVEY.value]),
            )
            .order_by(FollowUpRow.resolved_at, FollowUpRow.id)
        )
        async with self._db.transaction() as session:
            satisfied: dict[int, str | None] = {}
            resurveyed: dict[int, dict[str, Any]] = {}
            for case_id, kind, resolution, data in (await session.execute(answers)).all():
                if kind == FollowUpKind.CUSTOMER_FOLLOW_UP.value:
                    satisfied[case_id] = resolution
                elif resolution == "recorded" and data:
                    resurveyed[case_id] = data
            rows = (await session.execute(query)).all()
            return [
                {
                    "reference": format_reference(r.id),
                    "created_at": r.created_at,
                    "state": r.state,
                    "severity": r.severity,
                    "category": r.category,
                    "customer_name": r.customer_name,
                    "customer_ref": r.customer_ref,
                    "summary": r.summary,
                    "reporter_id": r.reporter_user_id,
                    "owner_id": r.owner_user_id,
                    "root_cause": r.root_cause_category,
                    "lesson": lesson,
                    "acknowledged_at": r.acknowledged_at,
                    "minutes_to_acknowledge": _minutes(r.created_at, r.acknowledged_at),
                    "closed_at": r.closed_at,
                    "hours_to_resolve": _hours(r.created_at, r.closed_at),
                    "reopened": r.reopen_count,
                    "satisfied_after_fix": satisfied.get(r.id),
                    "outcome": resurveyed.get(r.id, {}).get("outcome"),
                    "satisfaction_score": resurveyed.get(r.id, {}).get("score"),
                }
                for r, lesson in rows
            ]

    async def amends_between(
        self, team_id: str | None, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        query = (
            select(AmendsRow)
            .where(AmendsRow.requested_at >= start, AmendsRow.requested_at < end)
            .order_by(AmendsRow.id)
        )
        if team_id is not None:
            query = query.where(AmendsRow.team_id == team_id)
        async with self._db.transaction() as session:
            result = []
            for row in (await session.execute(query)).scalars():
                amends = amends_from_row(row)
                result.append(
                    {
                        "case": format_reference(amends.case_id),
                        "requested_at": amends.requested_at,
                        "kind": amends.kind.value,
                        "offered": amends.offered,
                        "final": amends.final,
                        "state": amends.state.value,
                        "requester_id": amends.requester_user_id,
                        "decided_by_id": amends.decided_by,
                        "decided_at": amends.decided_at,
                        "hours_to_decide": _hours(amends.requested_at, amends.decided_at),
                        "reasons": "; ".join(r.text for r in amends.reasons),
                        "justification": amends.justification,
                    }
                )
            return result
