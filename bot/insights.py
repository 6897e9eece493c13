"""What the team sees over time: cases opened and closed, time to acknowledge and resolve, root-cause trends."""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from bot.amends.models import Amends
from bot.cases import Case, Category
from bot.clock import Clock
from bot.followup_request import FollowUpRequest
from bot.followups.models import Promise

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


class Outcome(BaseModel):
    """What became of the customers of cases closed in a period: the doctrine's two measures.

    Recovered: the owner answered "Is the customer satisfied?" with Satisfied (the latest answer counts).
    Stayed: the re-survey weeks later said the customer stayed and is satisfied (or neutral, or left)."""

    model_config = ConfigDict(frozen=True)

    asked: int = 0  # cases whose owner answered "Is the customer satisfied?"
    recovered: int = 0  # ... with Satisfied
    stayed: int = 0
    neutral: int = 0
    left: int = 0
    score_total: int = 0
    scored: int = 0

    @property
    def resurveyed(self) -> int:
        return self.stayed + self.neutral + self.left

    @property
    def share_recovered(self) -> float | None:
        return self.recovered / self.asked if self.asked else None

    @property
    def share_stayed(self) -> float | None:
        return self.stayed / self.resurveyed if self.resurveyed else None

    @property
    def mean_score(self) -> float | None:
        return self.score_total / self.scored if self.scored else None

    def __add__(self, other: Outcome) -> Outcome:
        return Outcome(**{k: getattr(self, k) + getattr(other, k) for k in Outcome.model_fields})


class OutcomeRow(BaseModel):
    """One grouped row from the repository: a failure category and root cause, and their outcome."""

    model_config = ConfigDict(frozen=True)

    category: str
    root_cause: str | None
    outcome: Outcome


class Outcomes(BaseModel):
    """One period's outcomes, in all and by failure category and by root cause (keys as stored)."""

    model_config = ConfigDict(frozen=True)

    window: Window
    total: Outcome
    by_category: dict[str, Outcome]
    by_root_cause: dict[str, Outcome]

    @classmethod
    def of(cls, window: Window, rows: Sequence[OutcomeRow]) -> Outcomes:
        total, by_category, by_root = Outcome(), dict[str, Outcome](), dict[str, Outcome]()
        for row in rows:
            total += row.outcome
            by_category[row.category] = by_category.get(row.category, Outcome()) + row.outcome
            if row.root_cause:
                by_root[row.root_cause] = by_root.get(row.root_cause, Outcome()) + row.outcome
        return cls(window=window, total=total, by_category=by_category, by_root_cause=by_root)


class TeamView(BaseModel):
    model_config = ConfigDict(frozen=True)

    this_week: WindowStats
    last_weeks: WindowStats
    root_causes: tuple[RootCauseTrend, ...]
    #: Outcomes of cases closed in the last 4 weeks, and in the 4 weeks before (this period against the last).
    outcomes: Outcomes | None = None
    previous_outcomes: Outcomes | None = None
    #: Cases opened per week, oldest first, this week last (the chart's trend).
    weekly_opened: tuple[int, ...] = ()
    weekly_closed: tuple[int, ...] = ()
    categories: dict[str, str] = {}  # failure category key -> label, for the outcome breakdown
    root_cause_labels: dict[str, str] = {}


class UnacknowledgedCase(BaseModel):
    model_config = ConfigDict(frozen=True)

    case: Case
    overdue: bool  # older than the acknowledgement period: the customer has waited too long for an apology


class CasePromise(BaseModel):
    model_config = ConfigDict(frozen=True)

    case: Case
    promise: Promise


class CaseAmends(BaseModel):
    model_config = ConfigDict(frozen=True)

    case: Case
    amends: Amends


class Attention(BaseModel):
    """The manager's first look: what needs someone now, and each agent's open load."""

    model_config = ConfigDict(frozen=True)

    unacknowledged: tuple[UnacknowledgedCase, ...]
    unacknowledged_count: int
    broken_promises: tuple[CasePromise, ...]
    amends_waiting: tuple[CaseAmends, ...]
    loads: tuple[tuple[str, int], ...]  # (agent user id, open cases), busiest first


class AgentQueue(BaseModel):
    """The agent's own waiting items: approval requests not decided yet, and promises still open."""

    model_config = ConfigDict(frozen=True)

    pending_requests: tuple[CaseAmends, ...]
    open_promises: tuple[CasePromise, ...]


class OpenCase(BaseModel):
    """A line of someone's "my open cases": the case and the step it waits on."""

    model_config = ConfigDict(frozen=True)

    case: Case
    next_step: str | None


class InsightsRepository(Protocol):
    async def window_figures(
        self, team_id: str, start: datetime, end: datetime
    ) -> tuple[int, int, timedelta | None, timedelta | None]:
        """Cases opened and closed in [start, end); the median report-to-apology of the cases opened in it
        that were acknowledged, and the median report-to-close of the cases closed in it."""
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

    async def weekly_counts(
        self, team_id: str, starts: Sequence[datetime], end: datetime
    ) -> tuple[list[int], list[int]]:
        """Cases opened, and closed, in each week bucket (as root_cause_counts buckets them)."""
        ...

    async def outcomes(
        self, team_id: str, starts: Sequence[datetime], end: datetime
    ) -> list[list[OutcomeRow]]:
        """Outcomes of the cases closed in each [starts[i], starts[i+1]) (the last up to `end`), grouped by
        failure category and root cause: one list per period."""
        ...

    async def unacknowledged(
        self, team_id: str, limit: int
    ) -> tuple[list[Case], int]:
        """Open cases without an apology yet, oldest first, and how many there are."""
        ...

    async def broken_promises(self, team_id: str, limit: int) -> list[CasePromise]:
        """Broken promises of open cases, newest deadline first."""
        ...

    async def amends_waiting(
        self, team_id: str, limit: int, requester_user_id: str | None = None
    ) -> list[CaseAmends]:
        """Amends requests waiting for a decision (only one person's when `requester_user_id` is given)."""
        ...

    async def open_promises(self, team_id: str, owner_user_id: str, limit: int) -> list[CasePromise]:
        """Open promises on the person's open cases, soonest due first."""
        ...

    async def open_loads(self, team_id: str, limit: int) -> list[tuple[str, int]]:
        """Open cases per owner, busiest first."""
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
        categories: Sequence[Category] = (),
        ack_after: timedelta = timedelta(minutes=15),
        *,
        team_view_max_age: timedelta = timedelta(seconds=60),
    ) -> None:
        self._repo = repo
        self._clock = clock
        self._root_causes = tuple(root_causes)
        self._categories = {c.key: c.label for c in categories}
        self._ack_after = ack_after
        # The team's figures are the same for everyone and move slowly; Home tabs share one copy a minute.
        self._team_view_max_age = team_view_max_age
        self._team_views: dict[str, tuple[datetime, TeamView]] = {}

    async def window_stats(self, team_id: str, window: Window) -> WindowStats:
        opened, closed, ack, resolve = await self._repo.window_figures(team_id, window.start, window.end)
        return WindowStats(
            window=window, opened=opened, closed=closed, median_acknowledge=ack, median_resolve=resolve
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
        period = timedelta(weeks=WEEKS_OF_TREND)
        # The queries are independent: they run at once, each on its own connection.
        counts, per_week, outcomes, this, last = await asyncio.gather(
            self._repo.root_cause_counts(team_id, starts, now),
            self._repo.weekly_counts(team_id, starts, now),
            self._repo.outcomes(team_id, [now - 2 * period, now - period], now),
            self.window_stats(team_id, Window(label="This week", start=this_week, end=now)),
            self.window_stats(team_id, Window(label=f"Last {WEEKS_OF_TREND} weeks", start=first, end=this_week)),
        )
        known = {c.key: c for c in self._root_causes}
        trends = [
            RootCauseTrend(category=known.get(key, Category(key=key, label=key)), weekly=tuple(weekly))
            for key, weekly in counts.items()
        ]
        trends.sort(key=lambda t: (-t.total, t.category.label))
        previous, current = outcomes
        return TeamView(
            outcomes=Outcomes.of(Window(label="Last 4 weeks", start=now - period, end=now), current),
            previous_outcomes=Outcomes.of(
                Window(label="4 weeks before", start=now - 2 * period, end=now - period), previous
            ),
            weekly_opened=tuple(per_week[0]),
            weekly_closed=tuple(per_week[1]),
            categories=self._categories,
            root_cause_labels={c.key: c.label for c in self._root_causes},
            this_week=this,
            last_weeks=last,
            root_causes=tuple(trends[:6]),
        )

    async def attention(self, team_id: str, limit: int = 5) -> Attention:
        """What a manager looks at first: cases still without an apology (overdue past the acknowledgement
        period), broken promises, amends waiting for a decision, and each agent's open load."""
        now = self._clock.now()
        cases, count = await self._repo.unacknowledged(team_id, limit)
        return Attention(
            unacknowledged=tuple(
                UnacknowledgedCase(case=c, overdue=now - c.created_at > self._ack_after) for c in cases
            ),
            unacknowledged_count=count,
            broken_promises=tuple(await self._repo.broken_promises(team_id, limit)),
            amends_waiting=tuple(await self._repo.amends_waiting(team_id, limit)),
            loads=tuple(await self._repo.open_loads(team_id, 10)),
        )

    async def agent_queue(self, team_id: str, user_id: str, limit: int = 5) -> AgentQueue:
        return AgentQueue(
            pending_requests=tuple(await self._repo.amends_waiting(team_id, limit, requester_user_id=user_id)),
            open_promises=tuple(await self._repo.open_promises(team_id, user_id, limit)),
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


def share(part: int, whole: int) -> str:
    return f"{part / whole:.0%} ({part} of {whole})" if whole else "–"


def outcome_summary(outcome: Outcome) -> str:
    """ "67% recovered (2 of 3) · re-survey: 1 stayed, 1 neutral, 0 left, score 4.5" """
    text = f"{share(outcome.recovered, outcome.asked)} recovered"
    if outcome.resurveyed:
        text += f" · re-survey: {outcome.stayed} stayed, {outcome.neutral} neutral, {outcome.left} left"
        if outcome.mean_score is not None:
            text += f", score {outcome.mean_score:.1f}"
    return text


def outcome_lines(
    now: Outcomes, before: Outcomes | None, category_label: dict[str, str], root_label: dict[str, str]
) -> list[str]:
    """The doctrine's outcome measures, this period against the last, then by category and by root cause."""
    previous = before.total if before is not None else Outcome()
    lines = [
        f"Share recovered (customer satisfied at follow-up): {share(now.total.recovered, now.total.asked)}"
        f" · {before.window.label if before else 'before'}: {share(previous.recovered, previous.asked)}",
        f"Stayed (re-survey): {share(now.total.stayed, now.total.resurveyed)}"
        f" ({now.total.stayed} stayed, {now.total.neutral} neutral, {now.total.left} left"
        + (f", score {now.total.mean_score:.1f}" if now.total.mean_score is not None else "")
        + f") · {before.window.label if before else 'before'}: {share(previous.stayed, previous.resurveyed)}",
    ]
    for title, groups, labels, old in (
        ("By category", now.by_category, category_label, before.by_category if before else {}),
        ("By root cause", now.by_root_cause, root_label, before.by_root_cause if before else {}),
    ):
        parts = [
            f"{_escape(labels.get(key, key))} {outcome_summary(o)}"
            + (f" (before {share(old[key].recovered, old[key].asked)})" if key in old else "")
            for key, o in sorted(groups.items(), key=lambda kv: (-kv[1].asked, kv[0]))[:5]
            if o.asked or o.resurveyed
        ]
        if parts:
            lines.append(f"{title}: " + "; ".join(parts))
    return lines


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
    if view.outcomes is not None:
        lines.append(f"*Outcomes* of cases closed in the {view.outcomes.window.label.lower()}:")
        lines += outcome_lines(view.outcomes, view.previous_outcomes, view.categories, view.root_cause_labels)
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
