"""The toolkit's one modal opener: a form opens only for a person of the workspace its subject belongs to."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.models.views import View

from bot.errors import NotAllowed
from handlers.errors import ErrorPolicy
from handlers.interaction import Interaction, ListenerKit
from handlers.slack_api import SlackPoster, make_web_client
from handlers.tasks import BackgroundTasks
from slack_double.server import SlackDouble


@pytest.fixture
async def double() -> AsyncIterator[SlackDouble]:
    async with SlackDouble() as running:
        yield running


def kit(double: SlackDouble) -> ListenerKit:
    poster = SlackPoster(make_web_client(double.bot_token, double.api_url))
    return ListenerKit(poster, BackgroundTasks(ErrorPolicy(poster)))


def form() -> View:
    return View(type="modal", title="A form", blocks=[SectionBlock(text="Hello")])


def click(double: SlackDouble, user_id: str, team_id: str | None) -> Interaction:
    return Interaction(user_id=user_id, team_id=team_id, trigger_id=double.issue_trigger_id(user_id))


async def test_a_form_about_another_workspaces_thing_is_not_opened(double: SlackDouble) -> None:
    alice = double.add_user("alice")
    for team in ("T0OTHER", None):  # a click from elsewhere, or one that names no workspace at all
        with pytest.raises(NotAllowed, match="another workspace"):
            await kit(double).open_modal(click(double, alice, team), form(), belongs_to=double.team_id)
    assert double.calls_to("views.open") == [] and double.open_views(alice) == []


async def test_a_form_opens_for_its_own_workspace_and_for_nothing_stored_yet(double: SlackDouble) -> None:
    alice = double.add_user("alice")
    await kit(double).open_modal(click(double, alice, double.team_id), form(), belongs_to=double.team_id)
    new_report = click(double, alice, double.team_id)
    await kit(double).open_modal(new_report, form(), belongs_to=None)  # about nothing stored yet
    assert [c.ok for c in double.calls_to("views.open")] == [True, True]
