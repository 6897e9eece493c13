"""Rows for CSV export: cases opened and amends requested in a time range, as plain dicts keyed by column."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.cases import format_reference
from storage.amends import AmendsRow, amends_from_row
from storage.db import Database
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
        query = (
            select(CaseRow).where(CaseRow.created_at >= start, CaseRow.created_at < end).order_by(CaseRow.id)
        )
        if team_id is not None:
            query = query.where(CaseRow.team_id == team_id)
        async with self._db.transaction() as session:
            rows = (await session.execute(query)).scalars()
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
                    "reporter": r.reporter_user_id,
                    "owner": r.owner_user_id,
                    "root_cause": r.root_cause_category,
                    "acknowledged_at": r.acknowledged_at,
                    "minutes_to_acknowledge": _minutes(r.created_at, r.acknowledged_at),
                    "closed_at": r.closed_at,
                    "hours_to_resolve": _hours(r.created_at, r.closed_at),
                    "reopened": r.reopen_count,
                }
                for r in rows
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
                        "offered": str(amends.offered),
                        "state": amends.state.value,
                        "final": str(amends.final) if amends.final is not None else "",
                        "requester": amends.requester_user_id,
                        "decided_by": amends.decided_by,
                        "decided_at": amends.decided_at,
                        "reasons": "; ".join(r.text for r in amends.reasons),
                        "justification": amends.justification,
                    }
                )
            return result
