"""What the team sees over time: cases opened and closed, time to acknowledge and resolve, root-cause trends."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from bot.cases import Case, Category
from bot.clock import Clock
from bot.followup_request import FollowUpRequest

WEEKS_OF_TREND = 4


class Window(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str
    start: datetime
    end: datetime


class WindowStats(BaseModel):
    model_config = ConfigDict(frozen=True)

    window: Window
    opened: int
    closed: int
    median_acknowledge: timedelta | None
    median_resolve: timedelta | None


class RootCauseTrend(BaseModel):
    """Cases per root cause, one count per week, oldest first (the last is this week so far)."""

    model_config = ConfigDict(frozen=True)

    category: Category
    weekly: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.weekly)


class TeamView(BaseModel):
    model_config = ConfigDict(frozen=True)

    this_week: WindowStats
    last_weeks: WindowStats
    root_causes: tuple[RootCauseTrend, ...]


class OpenCase(BaseModel):
    """A line of someone's "my open cases": the case and the step it waits on."""

    model_config = ConfigDict(frozen=True)

    case: Case
    next_step: str | None


class InsightsRepository(Protocol):
    async def counts(self, team_id: str, start: datetime, end: datetime) -> tuple[int, int]:
        """Cases opened, and cases closed, in [start, end)."""
        ...

    async def acknowledge_durations(self, team_id: str, start: datetime, end: datetime) -> list[timedelta]:
        """Report to apology, for cases opened in [start, end) that were acknowledged."""
        ...

    async def resolve_durations(self, team_id: str, start: datetime, end: datetime) -> list[timedelta]:
        """Report to close, for cases closed in [start, end)."""
        ...

    async def root_cause_counts(
        self, team_id: str, starts: Sequence[datetime], end: datetime
    ) -> dict[str, list[int]]:
        """Per root cause, cases opened in each [starts[i], starts[i+1]) (the last up to `end`)."""
        ...

    async def open_cases(self, team_id: str, owner_user_id: str, limit: int) -> list[OpenCase]: ...

    async def count_open_cases(self, team_id: str, owner_user_id: str) -> int: ...

    async def team_ids(self) -> list[str]:
        """Every workspace that has cases."""
        ...


def week_start(at: datetime) -> datetime:
    """Monday 00:00 UTC of the week `at` falls in."""
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def median(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


class InsightsService:
    def __init__(
        self,
        repo: InsightsRepository,
        clock: Clock,
        root_causes: Sequence[Category],
        *,
        team_view_max_age: timedelta = timedelta(seconds=60),
    ) -> None:
        self._repo = repo
        self._clock = clock
        self._root_causes = tuple(root_causes)
        # The team's figures are the same for everyone and move slowly; Home tabs share one copy a minute.
        self._team_view_max_age = team_view_max_age
        self._team_views: dict[str, tuple[datetime, TeamView]] = {}

    async def window_stats(self, team_id: str, window: Window) -> WindowStats:
        opened, closed = await self._repo.counts(team_id, window.start, window.end)
        return WindowStats(
            window=window,
            opened=opened,
            closed=closed,
            median_acknowledge=median(
                await self._repo.acknowledge_durations(team_id, window.start, window.end)
            ),
            median_resolve=median(await self._repo.resolve_durations(team_id, window.start, window.end)),
        )

    async def team_view(self, team_id: str, *, fresh: bool = False) -> TeamView:
        """The team's figures; computed at most once per `team_view_max_age` unless `fresh` is asked for."""
        now = self._clock.now()
        cached = self._team_views.get(team_id)
        if not fresh and cached is not None and now - cached[0] < self._team_view_max_age:
            return cached[1]
        view = await self._compute_team_view(team_id, now)
        self._team_views[team_id] = (now, view)
        return view

    async def _compute_team_view(self, team_id: str, now: datetime) -> TeamView:
        this_week = week_start(now)
        first = this_week - timedelta(weeks=WEEKS_OF_TREND)
        starts = [first + timedelta(weeks=i) for i in range(WEEKS_OF_TREND + 1)]
        counts = await self._repo.root_cause_counts(team_id, starts, now)
        known = {c.key: c for c in self._root_causes}
        trends = [
            RootCauseTrend(category=known.get(key, Category(key=key, label=key)), weekly=tuple(weekly))
            for key, weekly in counts.items()
        ]
        trends.sort(key=lambda t: (-t.total, t.category.label))
        return TeamView(
            this_week=await self.window_stats(team_id, Window(label="This week", start=this_week, end=now)),
            last_weeks=await self.window_stats(
                team_id, Window(label=f"Last {WEEKS_OF_TREND} weeks", start=first, end=this_week)
            ),
            root_causes=tuple(trends[:6]),
        )

    async def my_open_cases(self, team_id: str, user_id: str, limit: int = 15) -> tuple[list[OpenCase], int]:
        """The person's open cases, most severe and oldest first, and how many there are in all."""
        return (
            await self._repo.open_cases(team_id, user_id, limit),
            await self._repo.count_open_cases(team_id, user_id),
        )


class FollowUpQueue(Protocol):
    """The durable follow-up queue (bot/followups/engine.py): a digest is one exactly-once notice on it."""

    async def stage(
        self, requests: Sequence[FollowUpRequest], case_id: int | None, now: datetime
    ) -> None: ...


def _duration(delta: timedelta | None) -> str:
    if delta is None:
        return "–"
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_digest(view: TeamView, previous: WindowStats) -> str:
    """The weekly digest: last week against the week before, and the root causes that keep coming back."""
    week = view.this_week

    def change(now: int, before: int) -> str:
        return f"{now} ({'+' if now >= before else ''}{now - before} on the week before)"

    lines = [
        "*Mend weekly digest*",
        f"Cases opened: {change(week.opened, previous.opened)} · closed: {change(week.closed, previous.closed)}",
        f"Median time to acknowledge: {_duration(week.median_acknowledge)} "
        f"(week before {_duration(previous.median_acknowledge)}) · to resolve: {_duration(week.median_resolve)} "
        f"(week before {_duration(previous.median_resolve)})",
    ]
    if view.root_causes:
        causes = ", ".join(f"{_escape(t.category.label)} {t.weekly[-1]}" for t in view.root_causes[:5])
        lines.append(f"Root causes last week: {causes}")
    return "\n".join(lines)


class DigestService:
    """Stages the weekly digest for each team as a notice with a per-week dedupe key: however many
    processes run the weekly job, one digest is posted."""

    def __init__(
        self,
        insights: InsightsService,
        repo: InsightsRepository,
        queue: FollowUpQueue,
        clock: Clock,
        channel_id: str | None,
    ) -> None:
        self._insights = insights
        self._repo = repo
        self._queue = queue
        self._clock = clock
        self._channel_id = channel_id

    async def stage_weekly(self) -> int:
        if not self._channel_id:
            return 0
        now = self._clock.now()
        last_week = week_start(now) - timedelta(weeks=1)
        week_before = last_week - timedelta(weeks=1)
        staged = 0
        for team_id in await self._repo.team_ids():
            this = await self._insights.window_stats(
                team_id, Window(label="Last week", start=last_week, end=week_start(now))
            )
            before = await self._insights.window_stats(
                team_id, Window(label="Week before", start=week_before, end=last_week)
            )
            view = await self._insights.team_view(team_id, fresh=True)
            text = render_digest(view.model_copy(update={"this_week": this}), before)
            year, week, _ = last_week.isocalendar()
            await self._queue.stage(
                [
                    FollowUpRequest(
                        kind="notice",
                        key=f"digest:{team_id}:{year}-W{week:02d}",
                        due_at=now,
                        payload={"channel_id": self._channel_id, "text": text},
                    )
                ],
                None,
                now,
            )
            staged += 1
        return staged
