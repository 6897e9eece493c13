"""Block Kit for the App Home tab: my open cases, the team's week, and root-cause trends as text bars."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    ImageBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.cases import Case
from bot.insights import AgentQueue, Attention, OpenCase, RootCauseTrend, TeamView, WindowStats, outcome_lines
from bot.records import human_duration
from handlers.blocks.cases import SEVERITY_EMOJI
from handlers.blocks.kit import button, context, section
from handlers.blocks.text import (
    channel_mention,
    date_token,
    escape_mrkdwn,
    is_slack_permalink,
    mention,
    safe_mrkdwn,
)
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
    #: The workspace's web address (auth.test's `url`): case references link to their thread from it.
    workspace_url: str | None = None
    attention: Attention | None = None  # the manager's view; None for everyone else
    queue: AgentQueue | None = None
    charts: Sequence[Chart] = ()


@dataclass(frozen=True)
class Chart:
    """A PNG uploaded to Slack, shown by its file id; the alt text carries the figures."""

    file_id: str
    alt_text: str
    title: str


def permalink(workspace_url: str | None, case: Case) -> str | None:
    """The case thread's address, built from the stored card ref: no Web API call per case."""
    if not workspace_url or case.card is None:
        return None
    link = f"{workspace_url.rstrip('/')}/archives/{case.card.channel_id}/p{case.card.ts.replace('.', '')}"
    return link if is_slack_permalink(link) else None


def _ref(case: Case, link: str | None) -> str:
    return f"*<{link}|{case.reference}>*" if link else f"*{case.reference}*"


def _case_section(text: str, link: str | None) -> Block:
    """A case line with an Open button that opens the case's thread."""
    if link is None:
        return section(text)
    return SectionBlock(
        text=MarkdownTextObject(text=text[:3000]),
        accessory=ButtonElement(action_id=Action.CASE_LINK.value, text="Open", url=link, value="open"),
    )


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


def _case_line(item: OpenCase, now: datetime, link: str | None) -> str:
    case = item.case
    report = case.report
    nxt = f"next: *{escape_mrkdwn(item.next_step)}*" if item.next_step else "all steps finished: close it"
    where = f" in {channel_mention(case.card.channel_id)}" if case.card and link is None else ""
    return (
        f"{SEVERITY_EMOJI[report.severity]} {_ref(case, link)} · {safe_mrkdwn(report.customer_display, 80)} · "
        f"{safe_mrkdwn(report.summary, 120)}\n{nxt} · opened {_age(now, case.created_at)} ago{where}"
    )


def _short(case: Case, link: str | None) -> str:
    return f"{_ref(case, link)} · {safe_mrkdwn(case.report.customer_display, 60)}"


def _attention_blocks(attention: Attention, now: datetime, url: str | None) -> list[Block]:
    """The manager's first look: what needs someone now, then each agent's open load."""
    blocks: list[Block] = [HeaderBlock(text="Needs attention")]
    quiet = True
    if attention.unacknowledged:
        quiet = False
        blocks.append(section(f"*Not acknowledged yet* ({attention.unacknowledged_count})"))
        for item in attention.unacknowledged:
            late = " · :warning: *overdue*" if item.overdue else ""
            text = f"{_short(item.case, (link := permalink(url, item.case)))} · {mention(item.case.owner_user_id)} · " \
                f"reported {_age(now, item.case.created_at)} ago{late}"
            blocks.append(_case_section(text, link))
    if attention.broken_promises:
        quiet = False
        blocks.append(section(f"*Broken promises* ({len(attention.broken_promises)})"))
        for p in attention.broken_promises:
            link = permalink(url, p.case)
            text = f"{_short(p.case, link)} · “{safe_mrkdwn(p.promise.text, 120)}” was due {date_token(p.promise.due_at)}"
            blocks.append(_case_section(text, link))
    if attention.amends_waiting:
        quiet = False
        blocks.append(section(f"*Amends waiting for a decision* ({len(attention.amends_waiting)})"))
        for a in attention.amends_waiting:
            link = permalink(url, a.case)
            text = (
                f"{_short(a.case, link)} · {escape_mrkdwn(a.amends.kind.label)} {escape_mrkdwn(str(a.amends.offered))}"
                f" asked by {mention(a.amends.requester_user_id)} {_age(now, a.amends.requested_at)} ago"
            )
            blocks.append(_case_section(text, link))
    if quiet:
        blocks.append(context("No unacknowledged cases, broken promises or amends waiting. :white_check_mark:"))
    if attention.loads:
        loads = " · ".join(f"{mention(user)} *{n}*" for user, n in attention.loads)
        blocks.append(section(f"*Open cases per agent*\n{loads}"))
    return blocks


def _queue_blocks(queue: AgentQueue, now: datetime, url: str | None) -> list[Block]:
    if not queue.pending_requests and not queue.open_promises:
        return []
    blocks: list[Block] = []
    if queue.pending_requests:
        blocks.append(section(f"*Your approval requests waiting* ({len(queue.pending_requests)})"))
        for a in queue.pending_requests:
            link = permalink(url, a.case)
            text = (
                f"{_short(a.case, link)} · {escape_mrkdwn(a.amends.kind.label)} {escape_mrkdwn(str(a.amends.offered))}"
                f" · asked {_age(now, a.amends.requested_at)} ago"
            )
            blocks.append(_case_section(text, link))
    if queue.open_promises:
        blocks.append(section(f"*Your open promises* ({len(queue.open_promises)})"))
        for p in queue.open_promises:
            link = permalink(url, p.case)
            late = " · :warning: *past due*" if p.promise.due_at <= now else ""
            text = f"{_short(p.case, link)} · “{safe_mrkdwn(p.promise.text, 120)}” due {date_token(p.promise.due_at)}{late}"
            blocks.append(_case_section(text, link))
    return blocks


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
    url = content.workspace_url
    blocks: list[Block] = [
        HeaderBlock(text="Mend: service recovery"),
        ActionsBlock(elements=[button(Action.OPEN_REPORT.value, "Report a failure", style="primary")]),
        DividerBlock(),
    ]
    if content.attention is not None:  # the manager's view starts with what needs attention
        blocks += [*_attention_blocks(content.attention, content.now, url), DividerBlock()]
    if content.queue is not None and (queue := _queue_blocks(content.queue, content.now, url)):
        blocks += [*queue, DividerBlock()]
    blocks.append(section(f"*Your open cases* ({content.my_case_count})"))
    if content.my_cases:
        for item in content.my_cases:
            link = permalink(url, item.case)
            blocks.append(_case_section(_case_line(item, content.now, link), link))
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
        ]
        if team.outcomes is not None:
            lines = outcome_lines(team.outcomes, team.previous_outcomes, team.categories, team.root_cause_labels)
            blocks.append(section("*Outcomes* of cases closed in the last 4 weeks\n" + "\n".join(lines)))
        charted = {c.title for c in content.charts}
        for chart in content.charts:
            blocks.append(ImageBlock(slack_file={"id": chart.file_id}, alt_text=chart.alt_text[:2000], title=chart.title))
        if "Top root causes" not in charted:
            blocks += [
                section("*Top root causes*, last 4 weeks and this one"),
                section(_trend_lines(team.root_causes)[:3000]),
            ]
    return View(type="home", blocks=blocks[:MAX_HOME_BLOCKS])
