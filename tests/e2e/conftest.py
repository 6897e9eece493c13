"""End-to-end harness: Mend running over HTTP, the Slack double as its Web API, and signed people."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from app import Mend, build
from bot.clock import Clock
from handlers.socket_mode import SocketModeConnection, connect_socket_mode
from settings import load_settings
from slack_double.server import SlackDouble
from slack_double.user import Person, SlackSender, Transport
from storage.tables import CaseEventRow, CaseRow

SIGNING_SECRET = "e2e-signing-secret-0123456789"
REPORT_VALUES = {
    "customer_name": "Dana Cole",
    "customer_ref": "order #4411",
    "summary": "Birthday cake arrived crushed, two hours late",
    "customer_words": "My daughter's party was ruined.",
    "impact": "Had to buy another cake at full price",
    "severity": "major",
    "category": "delivery",
}

# An apology the coach takes as it is (care, understanding and a concrete next step).
APOLOGY = (
    "Hi Dana, I'm so sorry we let you down: your birthday cake arrived crushed and two hours late, on your "
    "daughter's party day. I understand how upsetting that is. I've arranged a full refund and a fresh cake "
    "delivered by 4pm tomorrow, and I'll call you at 3pm to confirm."
)


@dataclass
class Stack:
    double: SlackDouble
    mend: Mend
    sender: SlackSender
    alice: Person
    bob: Person
    support: str
    recovery: str | None
    people: dict[str, Person] = field(default_factory=dict)
    socket: SocketModeConnection | None = None  # Mend's Socket Mode link, with transport="socket"

    async def settle(self) -> None:
        """Wait for the work Mend does after its acks (posting cards, opening modals)."""
        await self.mend.tasks.wait_idle()

    async def tick(self) -> int:
        """One follow-up poller tick, then wait for the sends it started."""
        claimed = await self.mend.tick_follow_ups()
        await self.settle()
        return claimed

    async def case_rows(self) -> list[CaseRow]:
        async with self.mend.db.transaction() as session:
            return list((await session.execute(select(CaseRow).order_by(CaseRow.id))).scalars())

    async def event_kinds(self, case_id: int) -> list[str]:
        return [e.kind for e in await self.mend.cases.events(case_id)]

    async def count_cases(self) -> int:
        async with self.mend.db.transaction() as session:
            return int((await session.execute(select(func.count()).select_from(CaseRow))).scalar_one())

    async def forge_view_submission(
        self, person: Person, view: dict[str, Any], values: dict[str, Any]
    ) -> Any:
        """Send a view_submission no Slack client would (limits ignored, or a replay of a closed view)."""
        submitted = {**view, "state": {"values": values}}
        payload = {
            "type": "view_submission",
            "team": {"id": self.double.team_id, "domain": self.double.workspace.team_domain},
            "user": {"id": person.id, "name": person.name, "team_id": self.double.team_id},
            "api_app_id": self.double.app_id,
            "token": self.double.verification_token,
            "trigger_id": self.double.issue_trigger_id(person.id),
            "view": submitted,
            "response_urls": [],
            "is_enterprise_install": False,
        }
        return await self.sender.post_interaction(payload)

    async def report_case(self, person: Person | None = None, **values: str) -> CaseRow:
        """Report a case through /recover and the modal, as a person would; returns its row."""
        person = person or self.alice
        await person.slash_command("/recover", "", channel_id=self.support)
        await self.settle()
        response = await person.submit_view({**REPORT_VALUES, **values})
        assert response.status == 200 and response.field_errors == {}, response.body
        if response.json.get("response_action") == "update":  # the customer has an open case: a new one
            response = await person.submit_view({"duplicate_choice": "new"})
            assert response.status == 200 and response.field_errors == {}, response.body
        await self.settle()
        return (await self.case_rows())[-1]

    async def apologise(self, case_id: int | None = None, person: Person | None = None, **click: Any) -> None:
        """Done on the apology step, which opens its form, and an apology recorded through it (the coach
        sees every apology; docs/playbook.md). Without `case_id`, the latest prompt's Done."""
        person = person or self.alice
        ref = (
            {"value": json.dumps({"c": case_id, "s": "apologize"}, separators=(",", ":"))} if case_id else {}
        )
        assert (await person.click("step_done", **ref, **click)).status == 200
        await self.settle()
        response = await person.submit_view({"Your message to the customer": APOLOGY})
        assert response.status == 200 and response.field_errors == {}, response.body
        await self.settle()

    async def health(self) -> tuple[int, Any]:
        url = self.sender.app_url.replace("/slack/events", "/healthz")
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            return response.status, await response.json()

    async def count_events(self) -> int:
        async with self.mend.db.transaction() as session:
            return int((await session.execute(select(func.count()).select_from(CaseEventRow))).scalar_one())


@asynccontextmanager
async def running_stack(
    database_url: str,
    *,
    with_recovery_channel: bool = True,
    clock: Clock | None = None,
    configure: Callable[[SlackDouble], dict[str, Any]] | None = None,
    schedule: bool = False,
    approvers: tuple[str, ...] = (),
    transport: Transport = "http",
    **settings: Any,
) -> AsyncIterator[Stack]:
    """Mend against the double, taking Slack's requests over HTTP or (`transport="socket"`) over a Socket
    Mode link it opens as serve() does. `configure` seeds more of the workspace (people, groups) and
    returns settings that name them. The follow-up poller only runs with `schedule`; otherwise tests
    tick it by hand (`stack.tick()`), which with a FrozenClock makes time travel deterministic."""
    double = SlackDouble(seed=7)
    await double.start()
    alice = double.add_user("alice", real_name="Alice Agent", tz="Europe/London")
    bob = double.add_user("bob", real_name="Bob Agent", tz="America/New_York")
    support = double.add_channel("support", members=[alice, bob])
    recovery = double.add_channel("recovery", members=[alice, bob]) if with_recovery_channel else None
    if configure is not None:
        settings = {**configure(double), **settings}
    if approvers:
        people = {"alice": alice, "bob": bob}
        settings["approver_ids"] = ",".join(people[name] for name in approvers)
    if transport == "socket":
        settings.setdefault("slack_app_token", double.app_token)
    config = load_settings(
        slack_bot_token=double.bot_token,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=double.api_url,
        database_url=database_url,
        recovery_channel=recovery,
        **settings,
    )
    mend = build(config, clock=clock)
    port = await mend.start(host="127.0.0.1", port=0, escalations=False, schedule=schedule)
    # Slack gives up after 3 s; the tests give a loaded CI machine more room (ack speed is for bench/ack.py).
    sender = SlackSender(
        f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET, double, ack_timeout=10, transport=transport
    )
    socket = None
    try:
        if transport == "socket":
            assert config.slack_app_token is not None
            socket = await connect_socket_mode(mend.bolt, config.slack_app_token.get_secret_value())
        people = {u.name: sender.person(u.id) for u in double.workspace.users.values() if not u.is_bot}
        yield Stack(
            double, mend, sender, sender.person(alice), sender.person(bob), support, recovery, people, socket
        )
    finally:
        await sender.close()
        if socket is not None:
            await socket.close()
        await mend.stop()
        await double.stop()


@pytest.fixture
async def stack(database_url: str) -> AsyncIterator[Stack]:
    async with running_stack(database_url) as running:
        yield running


@pytest.fixture
def make_stack(database_url: str) -> Callable[..., AbstractAsyncContextManager[Stack]]:
    def factory(**kwargs: Any) -> AbstractAsyncContextManager[Stack]:
        return running_stack(database_url, **kwargs)

    return factory
