"""The sandbox's world: Mend wired to the Slack double, a small team of personas, and one movable clock."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import types
import typing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app import Mend, build
from bot.clock import SandboxClock
from sandbox.start import PERSONAS_ZONE, default_start
from settings import Settings, load_settings
from slack_double import Person, SlackDouble, SlackSender
from storage.followups import SqlFollowUpRepository

log = logging.getLogger(__name__)

# Not a secret: the sandbox only ever talks to itself on this machine. Mend still checks every signature.
SIGNING_SECRET = "mend-sandbox-signing-secret"
# How long the page waits for Mend's background work before it shows what is there so far.
SETTLE_SECONDS = 10.0
# Ticks of the follow-up engine one time-travel click runs at most (each may stage rows due at once).
RUN_DUE_TICKS = 5
# How many of the earliest pending follow-ups "Next due" looks at to find the first one it can send.
NEXT_DUE_LOOKAHEAD = 50


@dataclass(frozen=True)
class Persona:
    """Someone the person at the browser can act as."""

    user_id: str
    name: str
    real_name: str
    role: str  # "agent" or "manager"
    title: str


# (handle, real name, role, title); the order is the order of the persona switcher.
PERSONAS = (
    ("alex", "Alex Rivera", "agent", "Support agent"),
    ("sam", "Sam Okafor", "agent", "Support agent"),
    ("morgan", "Morgan Lee", "manager", "Support manager (approver)"),
)
# Teammates who are not personas but make the channels feel inhabited.
TEAMMATES = (("jordan", "Jordan Blake"), ("priya", "Priya Nair"))

# What a support channel looks like before anyone has used Mend: failures relayed by the front line,
# for the Start recovery shortcut to turn into cases.
SUPPORT_CHATTER = (
    ("jordan", "Morning all. Heads-up: the 06:00 delivery run out of the north depot left 40 minutes late."),
    (
        "priya",
        "Customer on chat: Mrs Okonkwo, order #58213. Her daughter's birthday cake arrived two hours late "
        'and squashed, after the party had started. She says "I will never order from you again". '
        "Can someone pick this up?",
    ),
    (
        "jordan",
        "Billing: account ACME-2291 was charged twice for March (2 × £1,240). Their finance lead "
        "called, very calm but very clear they want it fixed today.",
    ),
)


def approver_overrides(settings_type: type[Settings], approver_ids: list[str]) -> dict[str, Any]:
    """Pass the manager as Mend's approver, if this version of Mend has that setting at all.

    The setting belongs to the amends feature; until it lands there is nothing to set. Its type is read
    from the field, so a list setting gets a list and a comma-separated one a string.
    """
    field = settings_type.model_fields.get("approver_ids")
    if field is None:
        return {}
    annotation = field.annotation
    is_union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    if annotation is str or (is_union and str in typing.get_args(annotation)):
        return {"approver_ids": ",".join(approver_ids)}
    return {"approver_ids": list(approver_ids)}


class Sandbox:
    """Mend running against an in-process Slack double, driven by signed requests as Slack would send them."""

    def __init__(
        self,
        *,
        double: SlackDouble,
        mend: Mend,
        clock: SandboxClock,
        personas: list[Persona],
        support_channel: str,
        recovery_channel: str,
        teammates: dict[str, str],
        insights_channel: str,
        data_dir: Path | None,
        start_offset: timedelta = timedelta(0),
    ) -> None:
        self.double = double
        self.mend = mend
        self.clock = clock
        self.personas = personas
        self.support_channel = support_channel
        self.recovery_channel = recovery_channel
        self.teammates = teammates  # handle -> user id
        self.insights_channel = insights_channel
        # The clock's offset at the chosen start (seed history runs before it, from a smaller offset).
        self.start_offset = start_offset
        self._follow_ups = SqlFollowUpRepository(mend.db)
        self.default_persona = personas[0].user_id
        self._data_dir = data_dir
        self._sender: SlackSender | None = None
        self.port: int | None = None

    # ---- building and running ------------------------------------------------------------------

    @classmethod
    async def create(
        cls,
        *,
        database_url: str | None = None,
        start: datetime | None = None,
        history: timedelta = timedelta(0),
        **settings_overrides: Any,
    ) -> Sandbox:
        """Start the double, seed the team, and build Mend against it (not serving yet: see `start`).

        The clock starts at `start` (default: a weekday 09:00 in the personas' zone, so +1 hour and Next due
        land in working hours), `history` earlier if seed data is to be back-dated up to `start`.

        Without `database_url` the database is a fresh SQLite file in a temporary directory: the double's
        workspace lives in memory, so a database that outlived it would point at messages that are gone.
        """
        double = SlackDouble(team_name="Mend Sandbox", team_domain="mend-sandbox", seed=8)
        real_now = datetime.fromtimestamp(double.clock.now(), UTC)
        start_offset = (start or default_start(real_now)) - real_now
        # The double's clock and Mend's start at the same (possibly back-dated) moment and move together.
        double.clock.advance((start_offset - history).total_seconds())
        await double.start()
        personas = [
            Persona(double.add_user(h, real_name=n, is_admin=(r == "manager")), h, n, r, t)
            for h, n, r, t in PERSONAS
        ]
        teammates = {h: double.add_user(h, real_name=n) for h, n in TEAMMATES}
        everyone = [p.user_id for p in personas] + list(teammates.values())
        support = double.add_channel("support", members=everyone)
        recovery = double.add_channel("recovery", members=everyone)
        double.channel(support).purpose = "Where the front line raises customer problems"
        double.channel(recovery).purpose = "One thread per recovery case (Mend posts here)"
        insights = double.add_channel("support-leads", members=everyone)
        double.channel(insights).purpose = "Mend's weekly digest (Mondays 09:00 UTC) and recurrence alerts"

        data_dir: Path | None = None
        if database_url is None:
            data_dir = Path(tempfile.mkdtemp(prefix="mend-sandbox-"))
            database_url = f"sqlite:///{data_dir / 'mend-sandbox.db'}"
        managers = [p.user_id for p in personas if p.role == "manager"]
        config = load_settings(
            **{
                "slack_bot_token": double.bot_token,
                "slack_signing_secret": SIGNING_SECRET,
                "slack_app_token": None,
                "slack_api_url": double.api_url,
                "database_url": database_url,
                "recovery_channel": recovery,
                "digest_channel": insights,
                "process_channel": insights,
                **approver_overrides(Settings, managers),
                **settings_overrides,
            }
        )
        clock = SandboxClock(offset=start_offset - history)
        mend = build(config, clock=clock)
        sandbox = cls(
            double=double,
            mend=mend,
            clock=clock,
            personas=personas,
            support_channel=support,
            recovery_channel=recovery,
            teammates=teammates,
            insights_channel=insights,
            data_dir=data_dir,
            start_offset=start_offset,
        )
        return sandbox

    def post_support_chatter(self) -> None:
        """A few messages in #support, so there is something to use the Start recovery shortcut on."""
        for handle, text in SUPPORT_CHATTER:
            self.double.post_as_user(self.teammates[handle], self.support_channel, text)

    async def start(self, *, host: str = "127.0.0.1", port: int | None = None) -> int:
        """Migrate and serve Mend (with the sandbox routes already added to its web app)."""
        self.port = await self.mend.start(host=host, port=port)
        self._sender = SlackSender(
            f"http://127.0.0.1:{self.port}/slack/events", SIGNING_SECRET, self.double, ack_timeout=3.0
        )
        return self.port

    async def stop(self) -> None:
        if self._sender is not None:
            await self._sender.close()
            self._sender = None
        await self.mend.stop()
        await self.double.stop()
        if self._data_dir is not None:
            shutil.rmtree(self._data_dir, ignore_errors=True)

    # ---- acting --------------------------------------------------------------------------------

    @property
    def sender(self) -> SlackSender:
        if self._sender is None:
            raise RuntimeError("the sandbox is not serving: await sandbox.start() first")
        return self._sender

    def person(self, user_id: str) -> Person:
        return self.sender.person(user_id)

    def persona(self, user_id: str) -> Persona | None:
        return next((p for p in self.personas if p.user_id == user_id), None)

    async def settle(self) -> bool:
        """Wait for the work Mend does after its acks; False if it is still busy after SETTLE_SECONDS.

        The wait is shielded: giving up waiting must not cancel Mend's own work.
        """
        try:
            await asyncio.wait_for(asyncio.shield(self.mend.tasks.wait_idle()), SETTLE_SECONDS)
        except TimeoutError:
            return False
        return True

    async def advance(self, delta: timedelta, *, run_due: bool = True) -> None:
        """Time travel: Mend's clock and the double's move together, so messages get later timestamps too.

        What became due runs at once (approval reminders, escalations and follow-up nudges: all rows of the
        follow-up engine), rather than at Mend's next poll some seconds later, so the page shows it in the
        answer to the click. Crossing the weekly digest's moment (Mondays 09:00 UTC) stops there and runs
        it, as Mend's scheduler would have.
        """
        if not run_due:  # seeding back-dated history step by step: nothing is sent on the way
            self._move(delta)
            return
        start, travelled = self.clock.now(), timedelta(0)
        for moment in self.mend.poller.digest_runs(start, start + delta):
            self._move(moment - start - travelled)
            travelled = moment - start
            await self.run_due()
            try:
                await self.mend.poller.stage_digest()
            except Exception:
                log.exception("the weekly digest failed")
            await self.run_due()
        self._move(delta - travelled)
        await self.run_due()

    def _move(self, delta: timedelta) -> None:
        delta = max(delta, timedelta(0))
        self.clock.advance(delta)
        self.double.clock.advance(delta.total_seconds())

    async def run_due(self) -> None:
        """Tick the follow-up engine until a tick finds nothing (a row that fell due may stage more that are
        due now: an amends reminder stages one per approver)."""
        try:
            for _ in range(RUN_DUE_TICKS):
                if not await self.mend.tick_follow_ups():
                    break
                await self.settle()
        except Exception:
            log.exception("running the follow-ups that became due failed")
        await self.settle()

    def timezone(self, user_id: str | None) -> str:
        user = self.double.workspace.users.get(user_id) if user_id else None
        return user.tz if user is not None and user.tz else PERSONAS_ZONE

    async def next_due(self) -> datetime | None:
        """The next moment something is due and may go out: the earliest pending follow-up, moved to its
        recipient's next working-hours opening as the engine would (exact rows keep their time); or the
        weekly digest's next run if that comes first. None when nothing is waiting."""
        now = self.clock.now()
        hours = self.mend.settings.follow_up_policy().hours
        moments: list[datetime] = []
        for item in await self._follow_ups.next_pending(NEXT_DUE_LOOKAHEAD):
            at = max(item.due_at, now)
            if not item.exact and not hours.always:
                at = hours.next_open(at, self.timezone(item.recipient_user_id))
            moments.append(at)
        if moments and self.mend.settings.digest_channel:
            digest = self.mend.poller.digest_runs(now, min(moments))
            moments.extend(digest[:1])
        return min(moments, default=None)
