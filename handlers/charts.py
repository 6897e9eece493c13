"""The team's figures as pictures: the weekly trend and the top root causes, drawn as PNGs with matplotlib,
uploaded once per workspace and content (files_upload_v2), and shown in image blocks by `slack_file` id."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.insights import TeamView
from handlers.blocks.home import Chart
from handlers.slack_api import SlackPoster

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

TREND_TITLE = "Cases per week"
ROOT_CAUSE_TITLE = "Top root causes"


def _week_labels(count: int) -> list[str]:
    return [f"{count - 1 - i} wk ago" if i < count - 1 else "this wk" for i in range(count)]


def trend_figures(view: TeamView) -> dict[str, object]:
    return {"opened": list(view.weekly_opened), "closed": list(view.weekly_closed)}


def root_cause_figures(view: TeamView) -> dict[str, object]:
    return {t.category.label: list(t.weekly) for t in view.root_causes}


def trend_alt(view: TeamView) -> str:
    labels = _week_labels(len(view.weekly_opened))
    weeks = "; ".join(
        f"{label}: {o} opened, {c} closed"
        for label, o, c in zip(labels, view.weekly_opened, view.weekly_closed, strict=False)
    )
    return f"Cases opened and closed per week, oldest first. {weeks}."


def root_cause_alt(view: TeamView) -> str:
    causes = "; ".join(
        f"{t.category.label}: {t.total} ({', '.join(str(n) for n in t.weekly)} by week)"
        for t in view.root_causes
    )
    return f"Top root causes over the last weeks, cases per cause. {causes}."


def _figure(width: float, height: float) -> Figure:
    """A figure drawn into memory (no display). matplotlib is imported here, on the first chart, not when
    Mend starts: it costs ~0.45 s of every process's start-up (the export command, each worker) otherwise."""
    from matplotlib.figure import Figure  # Figure alone never needs a GUI backend

    return Figure(figsize=(width, height))


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100, bbox_inches="tight")
    return out.getvalue()


def draw_trend(opened: Sequence[int], closed: Sequence[int]) -> bytes:
    fig = _figure(6, 2.6)
    ax = fig.subplots()
    labels = _week_labels(len(opened))
    ax.plot(labels, opened, marker="o", label="opened", color="#d9534f")
    ax.plot(labels, closed, marker="o", label="closed", color="#2e7d32")
    ax.set_title(TREND_TITLE)
    ax.legend(loc="upper left", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_ylim(bottom=0)
    return _png(fig)


def draw_root_causes(totals: Sequence[tuple[str, int]]) -> bytes:
    fig = _figure(6, 0.5 + 0.45 * max(1, len(totals)))
    ax = fig.subplots()
    names = [name for name, _ in reversed(totals)]
    values = [value for _, value in reversed(totals)]
    bars = ax.barh(names, values, color="#4a6fa5")
    ax.bar_label(bars, padding=3)
    ax.set_title(ROOT_CAUSE_TITLE + " (last 5 weeks)")
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


class ChartCache:
    """Draws and uploads a chart only when its figures change: one upload per workspace and content hash,
    however many Home tabs open. A failed upload leaves the chart out (the text figures stay)."""

    def __init__(self, poster: SlackPoster, *, upload_timeout: timedelta = timedelta(seconds=20)) -> None:
        self._poster = poster
        # The newest upload of each chart per workspace: (team, chart) -> (figures' hash, file id).
        self._files: dict[tuple[str, str], tuple[str, str]] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._timeout = upload_timeout.total_seconds()
        self.uploads = 0

    async def charts(self, team_id: str, view: TeamView) -> list[Chart]:
        charts: list[Chart] = []
        if any(view.weekly_opened) or any(view.weekly_closed):
            file_id = await self._file(
                team_id,
                "trend",
                trend_figures(view),
                lambda: draw_trend(view.weekly_opened, view.weekly_closed),
            )
            if file_id:
                charts.append(Chart(file_id=file_id, alt_text=trend_alt(view), title=TREND_TITLE))
        if view.root_causes:
            totals = [(t.category.label, t.total) for t in view.root_causes]
            file_id = await self._file(
                team_id, "root_causes", root_cause_figures(view), lambda: draw_root_causes(totals)
            )
            if file_id:
                charts.append(Chart(file_id=file_id, alt_text=root_cause_alt(view), title=ROOT_CAUSE_TITLE))
        return charts

    async def _file(self, team_id: str, name: str, figures: dict[str, object], draw: object) -> str | None:
        digest = hashlib.sha256(json.dumps([name, figures], sort_keys=True).encode()).hexdigest()[:32]
        key = (team_id, name)
        known = self._files.get(key)
        if known is not None and known[0] == digest:
            return known[1]
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:  # many tabs opening at once upload one file
            known = self._files.get(key)
            if known is not None and known[0] == digest:
                return known[1]
            assert callable(draw)
            png = await asyncio.to_thread(draw)
            try:
                async with asyncio.timeout(self._timeout):
                    resp = await self._poster.client.files_upload_v2(
                        file=png, filename=f"mend-{name}-{digest[:8]}.png", title=name.replace("_", " ")
                    )
            except (SlackApiError, TimeoutError, OSError) as exc:
                log.warning("chart upload failed, the Home tab shows text figures: %s", exc)
                return None
            files = resp.get("files") or [resp.get("file") or {}]
            file_id = files[0].get("id") if files and isinstance(files[0], dict) else None
            if not file_id:
                return None
            self.uploads += 1
            self._files[key] = (digest, str(file_id))
            return str(file_id)
