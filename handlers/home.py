"""The App Home tab: published when a person opens it, and kept fresh when their cases change."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from slack_sdk.models.blocks import Block

from bot.clock import Clock
from bot.events import AmendsChanged, CaseChanged
from bot.insights import InsightsService
from handlers.blocks.home import HomeContent, build_home
from handlers.interaction import Interaction
from handlers.slack_api import SlackPoster
from handlers.tasks import BackgroundTasks

log = logging.getLogger(__name__)
#: Adds a section to someone's Home tab (approvals waiting, promises coming due); None when there's nothing.
HomeSection = Callable[[str, str], Awaitable[Sequence[Block] | None]]


class HomePublisher:
    """Builds and publishes Home tabs; bursts of changes for one person coalesce into one publish."""

    def __init__(
        self,
        insights: InsightsService,
        poster: SlackPoster,
        clock: Clock,
        tasks: BackgroundTasks,
        sections: Sequence[HomeSection] = (),
    ) -> None:
        self._insights = insights
        self._poster = poster
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
        return HomeContent(
            user_id=user_id,
            my_cases=my_cases,
            my_case_count=count,
            team=await self._insights.team_view(team_id),
            now=self._clock.now(),
            extra_sections=extra,
        )

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

    async def show_home(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """`app_home_opened`: publish the person's tab (the Messages tab opens the same event: ignored)."""
        opened = Interaction.from_body(body)
        user_id, team_id = opened.user_id, opened.team_id
        if event.get("tab") != "home" or user_id is None or team_id is None:
            return
        self._tasks.spawn(
            self._publisher.publish(team_id, user_id), user_id=None, channel_id=None, name="home"
        )
