"""Block Kit for the App Home tab: my open cases, the team's week, and root-cause trends as text bars."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.insights import OpenCase, RootCauseTrend, TeamView, WindowStats
from bot.records import human_duration
from handlers.blocks.cases import SEVERITY_EMOJI
from handlers.blocks.kit import button, context, section
from handlers.blocks.text import channel_mention, escape_mrkdwn, safe_mrkdwn
from handlers.ids import Action

SPARK = "▁▂▃▄▅▆▇█"
BAR_WIDTH = 12
MAX_HOME_BLOCKS = 100


@dataclass(frozen=True)
class HomeContent:
    """Everything one person's Home tab shows; each part is optional so features can add theirs."""

    user_id: str
    my_cases: Sequence[OpenCase]
    my_case_count: int
    team: TeamView | None
    now: datetime
    extra_sections: Sequence[Sequence[Block]] = field(default_factory=tuple)


def sparkline(weekly: Sequence[int]) -> str:
    top = max(weekly) if weekly else 0
    if top == 0:
        return SPARK[0] * len(weekly)
    return "".join(SPARK[min(len(SPARK) - 1, round(v / top * (len(SPARK) - 1)))] for v in weekly)


def bar(value: int, top: int) -> str:
    filled = 0 if top == 0 else round(value / top * BAR_WIDTH)
    return "█" * filled + "·" * (BAR_WIDTH - filled)


def _age(now: datetime, then: datetime) -> str:
    return human_duration(max(now - then, timedelta(0)))


def _case_line(item: OpenCase, now: datetime) -> str:
    case = item.case
    report = case.report
    nxt = f"next: *{escape_mrkdwn(item.next_step)}*" if item.next_step else "all steps finished: close it"
    where = f" in {channel_mention(case.card.channel_id)}" if case.card else ""
    return (
        f"{SEVERITY_EMOJI[report.severity]} *{case.reference}* · {safe_mrkdwn(report.customer_display, 80)} · "
        f"{safe_mrkdwn(report.summary, 120)}\n{nxt} · opened {_age(now, case.created_at)} ago{where}"
    )


def _stats_line(stats: WindowStats) -> str:
    ack = human_duration(stats.median_acknowledge) if stats.median_acknowledge is not None else "–"
    resolve = human_duration(stats.median_resolve) if stats.median_resolve is not None else "–"
    return (
        f"*{stats.window.label}*\nOpened *{stats.opened}* · closed *{stats.closed}*\n"
        f"Median time to acknowledge *{ack}* · to resolve *{resolve}*"
    )


def _trend_lines(trends: Sequence[RootCauseTrend]) -> str:
    if not trends:
        return "_No root causes recorded in the last weeks._"
    top = max(t.total for t in trends)
    lines = [
        f"`{bar(t.total, top)}` *{t.total}* {escape_mrkdwn(t.category.label)}  `{sparkline(t.weekly)}`"
        for t in trends
    ]
    return "\n".join(lines)


def build_home(content: HomeContent) -> View:
    blocks: list[Block] = [
        HeaderBlock(text="Mend: service recovery"),
        ActionsBlock(elements=[button(Action.OPEN_REPORT.value, "Report a failure", style="primary")]),
        DividerBlock(),
        section(f"*Your open cases* ({content.my_case_count})"),
    ]
    if content.my_cases:
        for item in content.my_cases:
            blocks.append(section(_case_line(item, content.now)))
        if content.my_case_count > len(content.my_cases):
            more = content.my_case_count - len(content.my_cases)
            blocks.append(context(f"…and {more} more."))
    else:
        blocks.append(context("Nothing waiting on you. :tada:"))
    for extra in content.extra_sections:
        blocks += [DividerBlock(), *extra]
    if content.team is not None:
        team = content.team
        blocks += [
            DividerBlock(),
            HeaderBlock(text="Team view"),
            SectionBlock(
                fields=[
                    MarkdownTextObject(text=_stats_line(team.this_week)),
                    MarkdownTextObject(text=_stats_line(team.last_weeks)),
                ]
            ),
            section("*Top root causes*, last 4 weeks and this one"),
            section(_trend_lines(team.root_causes)[:3000]),
        ]
    return View(type="home", blocks=blocks[:MAX_HOME_BLOCKS])
