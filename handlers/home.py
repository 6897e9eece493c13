"""The App Home tab: published when a person opens it, and kept fresh when their cases change."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.clock import Clock
from bot.events import AmendsChanged, CaseChanged
from bot.insights import InsightsService
from handlers.blocks.home import HomeContent, build_home
from handlers.charts import ChartCache
from handlers.interaction import Interaction
from handlers.slack_api import SlackPoster
from handlers.tasks import BackgroundTasks

log = logging.getLogger(__name__)
#: Adds a section to someone's Home tab (approvals waiting, promises coming due); None when there's nothing.
HomeSection = Callable[[str, str], Awaitable[Sequence[Block] | None]]
#: Whether a person sees the manager's view (what needs attention first); Mend passes "is an approver".
IsManager = Callable[[str], Awaitable[bool]]


class HomePublisher:
    """Builds and publishes Home tabs; bursts of changes for one person coalesce into one publish."""

    def __init__(
        self,
        insights: InsightsService,
        poster: SlackPoster,
        clock: Clock,
        tasks: BackgroundTasks,
        sections: Sequence[HomeSection] = (),
        is_manager: IsManager | None = None,
        charts: ChartCache | None = None,
    ) -> None:
        self._insights = insights
        self._poster = poster
        self._is_manager = is_manager
        self._charts = charts if charts is not None else ChartCache(poster)
        self._workspace_urls: dict[str, str] = {}
        self._clock = clock
        self._tasks = tasks
        self._sections = list(sections)
        # People who opened the tab in this process: only their tabs are worth keeping fresh.
        self._viewers: dict[str, str] = {}
        self._running: set[str] = set()
        self._dirty: set[str] = set()

    async def content_for(self, team_id: str, user_id: str) -> HomeContent:
        my_cases, count = await self._insights.my_open_cases(team_id, user_id)
        extra = [s for s in [await section(team_id, user_id) for section in self._sections] if s]
        manager = self._is_manager is not None and await self._is_manager(user_id)
        team = await self._insights.team_view(team_id)
        return HomeContent(
            user_id=user_id,
            my_cases=my_cases,
            my_case_count=count,
            team=team,
            now=self._clock.now(),
            extra_sections=extra,
            workspace_url=await self.workspace_url(team_id),
            attention=await self._insights.attention(team_id) if manager else None,
            queue=await self._insights.agent_queue(team_id, user_id),
            charts=await self._charts.charts(team_id, team),
        )

    async def workspace_url(self, team_id: str) -> str | None:
        """auth.test's `url` (https://<workspace>.slack.com/), asked once per workspace: case permalinks are
        built from it and each card's channel and ts, with no chat.getPermalink per case."""
        if team_id not in self._workspace_urls:
            try:
                url = (await self._poster.client.auth_test()).get("url")
            except SlackApiError as exc:
                log.warning("auth.test failed, case references show without links: %s", exc)
                return None
            if not isinstance(url, str) or not url.startswith("https://"):
                return None
            self._workspace_urls[team_id] = url
        return self._workspace_urls[team_id]

    async def publish(self, team_id: str, user_id: str) -> None:
        self._viewers[user_id] = team_id
        if user_id in self._running:
            self._dirty.add(user_id)  # the publish under way will run once more with the newest data
            return
        self._running.add(user_id)
        try:
            while True:
                self._dirty.discard(user_id)
                view = build_home(await self.content_for(team_id, user_id))
                await self._poster.client.views_publish(user_id=user_id, view=view)
                if user_id not in self._dirty:
                    break
        finally:
            self._running.discard(user_id)

    async def refresh_team(self, team_id: str) -> None:
        """Republish every tab of the team that was opened here (after a change many people may see)."""
        for user_id, viewer_team in list(self._viewers.items()):
            if viewer_team == team_id:
                self._tasks.spawn(self.publish(team_id, user_id), user_id=None, channel_id=None, name="home")

    async def amends_changed(self, event: AmendsChanged) -> None:
        """Approvers' lists and the month's spend are the team's: every open tab of it is refreshed."""
        await self.refresh_team(event.amends.team_id)

    async def case_changed(self, event: CaseChanged) -> None:
        """The case's owner and reporter see it among their cases."""
        case = event.case
        for user_id in {case.owner_user_id, case.reporter_user_id}:
            if user_id in self._viewers:
                self._tasks.spawn(
                    self.publish(case.team_id, user_id), user_id=None, channel_id=None, name="home"
                )


class HomeListeners:
    def __init__(self, publisher: HomePublisher, tasks: BackgroundTasks) -> None:
        self._publisher = publisher
        self._tasks = tasks

    async def open_case_link(self, ack: Callable[[], Awaitable[Any]]) -> None:
        """The Open button is a link: Slack opens the thread and still sends the click, which is acked."""
        await ack()

    async def show_home(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """`app_home_opened`: publish the person's tab (the Messages tab opens the same event: ignored)."""
        opened = Interaction.from_body(body)
        user_id, team_id = opened.user_id, opened.team_id
        if event.get("tab") != "home" or user_id is None or team_id is None:
            return
        self._tasks.spawn(
            self._publisher.publish(team_id, user_id), user_id=None, channel_id=None, name="home"
        )
