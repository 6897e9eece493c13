"""Trend queries on real databases: windows, durations, root causes by week, and someone's open cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from bot.cases import CaseReport, NewCase, Severity, categories_from_labels
from bot.clock import FrozenClock
from bot.insights import InsightsService, week_start
from bot.playbook import DEFAULT_STEPS
from storage.cases import SqlCaseRepository
from storage.db import Database
from storage.insights import SqlInsightsRepository
from storage.tables import CaseRow

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday
ROOT_CAUSES = categories_from_labels(["Carrier / logistics", "Billing error", "Other"])


async def add(
    db: Database, *, at: datetime, owner: str = "U1", severity: Severity = Severity.MODERATE, **values: object
) -> int:
    case, _ = await SqlCaseRepository(db).add(
        NewCase(
            team_id="T1",
            report=CaseReport(customer_name="C", summary="S", severity=severity, category="delivery"),
            reporter_user_id=owner,
            origin_channel_id="C1",
            report_key=None,
            at=at,
            steps=DEFAULT_STEPS,
        )
    )
    if values:
        async with db.transaction() as session:
            await session.execute(update(CaseRow).where(CaseRow.id == case.id).values(**values))
    return case.id


async def test_team_view(db: Database) -> None:
    monday = week_start(NOW)
    assert monday == datetime(2026, 11, 23, tzinfo=UTC)
    # This week: two opened, one acknowledged after 30 min, one closed after 2 days (opened last week).
    await add(db, at=monday + timedelta(hours=1), acknowledged_at=monday + timedelta(hours=1, minutes=30))
    await add(db, at=monday + timedelta(days=1), root_cause_category="billing_error")
    await add(
        db,
        at=monday - timedelta(days=2),
        closed_at=monday + timedelta(hours=2),
        root_cause_category="carrier_logistics",
    )
    # Earlier weeks: root causes spread over time; one case from another team is ignored.
    for weeks_ago, category in (
        (1, "carrier_logistics"),
        (2, "carrier_logistics"),
        (3, "billing_error"),
        (6, "other"),
    ):
        await add(
            db, at=monday - timedelta(weeks=weeks_ago) + timedelta(hours=3), root_cause_category=category
        )
    other = await add(db, at=monday + timedelta(hours=2))
    async with db.transaction() as session:
        await session.execute(update(CaseRow).where(CaseRow.id == other).values(team_id="T2"))

    view = await InsightsService(SqlInsightsRepository(db), FrozenClock(NOW), ROOT_CAUSES).team_view("T1")
    assert (view.this_week.opened, view.this_week.closed) == (2, 1)
    assert view.this_week.median_acknowledge == timedelta(minutes=30)
    assert view.this_week.median_resolve == timedelta(days=2, hours=2)
    assert view.last_weeks.opened == 4  # 2 days ago + 1, 2 and 3 weeks ago; 6 weeks ago is outside
    trends = {t.category.key: t.weekly for t in view.root_causes}
    # Weeks oldest first: 4, 3, 2, 1 weeks ago, then this week.
    assert trends["carrier_logistics"] == (0, 0, 1, 2, 0)
    assert trends["billing_error"] == (0, 1, 0, 0, 1)
    assert "other" not in trends
    assert view.root_causes[0].category.label == "Carrier / logistics"


async def test_open_cases_most_severe_then_oldest_with_their_next_step(db: Database) -> None:
    minor_old = await add(db, at=NOW - timedelta(days=3), severity=Severity.MINOR)
    critical = await add(db, at=NOW - timedelta(days=1), severity=Severity.CRITICAL)
    moderate_old = await add(db, at=NOW - timedelta(days=2))
    moderate_new = await add(db, at=NOW - timedelta(hours=1))
    await add(db, at=NOW, owner="U2")
    await add(db, at=NOW, state="closed")
    service = InsightsService(SqlInsightsRepository(db), FrozenClock(NOW), ROOT_CAUSES)
    cases, total = await service.my_open_cases("T1", "U1", limit=3)
    assert total == 4
    assert [c.case.id for c in cases] == [critical, moderate_old, moderate_new]
    assert all(c.next_step == "Acknowledge and apologize" for c in cases)
    assert minor_old not in [c.case.id for c in cases]


async def test_outcomes_count_the_latest_answer_per_case_by_category_and_root_cause(db: Database) -> None:
    from sqlalchemy import insert

    from storage.followups import FollowUpRow

    closed = NOW - timedelta(days=3)
    first = await add(
        db, at=closed - timedelta(days=1), closed_at=closed, root_cause_category="billing_error"
    )
    second = await add(db, at=closed - timedelta(days=1), closed_at=closed, category="billing")
    old = await add(db, at=NOW - timedelta(weeks=6), closed_at=NOW - timedelta(weeks=5))

    def answer(case_id: int, n: int, kind: str, resolution: str, data: object = None) -> dict[str, object]:
        return {
            "kind": kind,
            "case_id": case_id,
            "dedupe_key": f"k{case_id}-{n}",
            "payload": {},
            "due_at": closed,
            "state": "resolved",
            "resolution": resolution,
            "resolution_data": data,
            "resolved_at": closed,
            "created_at": closed,
            "updated_at": closed,
        }

    async with db.transaction() as session:
        await session.execute(
            insert(FollowUpRow),
            [
                answer(first, 1, "customer_follow_up", "not_yet"),
                answer(first, 2, "customer_follow_up", "satisfied"),  # the latest answer counts
                answer(first, 3, "resurvey", "recorded", {"outcome": "stayed_satisfied", "score": 5}),
                answer(second, 1, "customer_follow_up", "not_yet"),
                answer(second, 2, "resurvey", "recorded", {"outcome": "left", "score": None}),
                answer(old, 1, "customer_follow_up", "satisfied"),
            ],
        )
    view = await InsightsService(SqlInsightsRepository(db), FrozenClock(NOW), ROOT_CAUSES).team_view("T1")
    assert view.outcomes is not None and view.previous_outcomes is not None
    total = view.outcomes.total
    assert (total.asked, total.recovered, total.stayed, total.left, total.mean_score) == (2, 1, 1, 1, 5.0)
    assert view.outcomes.by_category["delivery"].recovered == 1
    assert view.outcomes.by_category["billing"].left == 1
    assert view.outcomes.by_root_cause == {"billing_error": view.outcomes.by_category["delivery"]}
    assert view.previous_outcomes.total.recovered == 1  # closed 5 weeks ago: the period before
    assert view.weekly_closed[-1] + view.weekly_closed[-2] >= 2
