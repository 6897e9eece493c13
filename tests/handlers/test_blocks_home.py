"""Home tab builder: text bars and sparklines, and staying inside Block Kit's limits with many cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.cases import Case, CaseReport, CaseState, Category, Severity
from bot.insights import OpenCase, RootCauseTrend, TeamView, Window, WindowStats
from handlers.blocks.home import HomeContent, bar, build_home, sparkline

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def open_case(i: int) -> OpenCase:
    case = Case(
        id=i,
        team_id="T1",
        report=CaseReport(
            customer_name="<!channel> " * 30, summary="x" * 3000, severity=Severity.MAJOR, category="delivery"
        ),
        state=CaseState.OPEN,
        reporter_user_id="U1",
        owner_user_id="U1",
        origin_channel_id="C1",
        card=None,
        thread_opened=True,
        created_at=NOW - timedelta(hours=i),
        updated_at=NOW,
    )
    return OpenCase(case=case, next_step="Fix the problem")


def stats(label: str) -> WindowStats:
    return WindowStats(
        window=Window(label=label, start=NOW, end=NOW),
        opened=3,
        closed=1,
        median_acknowledge=timedelta(minutes=42),
        median_resolve=None,
    )


def test_sparkline_and_bar() -> None:
    assert sparkline([0, 0, 0]) == "▁▁▁"
    assert sparkline([0, 5, 10]) == "▁▅█"
    assert bar(0, 0) == "·" * 12 and bar(6, 12) == "█" * 6 + "·" * 6 and bar(12, 12) == "█" * 12


def test_home_fits_limits_and_escapes() -> None:
    team = TeamView(
        this_week=stats("This week"),
        last_weeks=stats("Last 4 weeks"),
        root_causes=(
            RootCauseTrend(category=Category(key="a", label="Carrier <b>"), weekly=(1, 2, 3, 4, 5)),
        ),
    )
    view = build_home(
        HomeContent(
            user_id="U1", my_cases=[open_case(i) for i in range(1, 16)], my_case_count=40, team=team, now=NOW
        )
    ).to_dict()
    assert len(view["blocks"]) <= 100
    text = str(view)
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "…and 25 more." in text and "42m" in text and "Carrier &lt;b&gt;" in text and "▂▄▅▇█" in text
