"""Composition root: Settings -> database -> services -> Bolt app -> listeners -> aiohttp; `main()` runs it."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import web
from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

import handlers
from bot.cases import CaseService
from bot.clock import Clock, SystemClock
from bot.errors import StorageUnavailable
from bot.followups import CASE_KINDS, CaseFollowUpRules, FollowUpKind, FollowUpService, parse_duration
from bot.recovery import RecoveryService
from handlers.cases import CaseListeners, SlackCaseNotifier
from handlers.errors import ErrorPolicy
from handlers.followups import (
    CaseFollowUpHandler,
    FollowUpListeners,
    NoticeHandler,
    SlackFollowUpMessenger,
    SlackPeopleDirectory,
)
from handlers.recovery import RecoveryListeners, SlackRecoveryNotifier
from handlers.slack_api import SlackPoster, make_web_client, new_http_session
from handlers.tasks import BackgroundTasks
from handlers.web import build_web_app
from settings import Settings, SettingsError, load_settings
from storage.cases import SqlCaseRepository
from storage.db import Database
from storage.followups import SqlFollowUpRepository
from storage.migrate import upgrade_to_head
from storage.recovery import SqlRecoveryRepository

log = logging.getLogger("mend")

SHUTDOWN_GRACE_SECONDS = 20.0
# chat.postMessage answers in well under a second; a follow-up post not answered in this long is "unknown"
# and reconciled later. Short, because nobody may look for it in Slack before it has surely finished.
OUTBOX_TIMEOUT_SECONDS = 5


class FollowUpPoller:
    """APScheduler is only the clock (principle 9): an in-memory interval job, nothing pickled, ticks `tick`,
    which claims due follow-ups from the table and hands each to BackgroundTasks, so SIGTERM waits for
    sends in flight. Overdue rows are claimed by the first tick, right after start-up."""

    JOB_ID = "follow-up-poller"

    def __init__(self, service: FollowUpService, tasks: BackgroundTasks, every_seconds: float) -> None:
        self._service = service
        self._tasks = tasks
        self._every = every_seconds
        self._scheduler: AsyncIOScheduler | None = None

    def start(self) -> None:
        self._scheduler = AsyncIOScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": AsyncIOExecutor()},
            # A slow tick is skipped, never queued up behind itself; a late one just runs.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        self._scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self._every, timezone=UTC),
            id=self.JOB_ID,
            next_run_time=datetime.now(UTC),
        )
        self._scheduler.start()

    async def tick(self) -> int:
        """Claim what is due and start sending it; returns how many rows were claimed."""
        try:
            items = await self._service.claim_due()
        except StorageUnavailable:
            log.warning("follow-ups: database unavailable; trying again at the next tick")
            return 0
        for item in items:
            self._tasks.spawn(
                self._service.process(item), user_id=None, channel_id=None, name=f"follow-up-{item.id}"
            )
        return len(items)

    def stop(self) -> None:
        """No new claims from here on; rows claimed but not yet posting are handed back at once."""
        self._service.stop_claiming()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None


@dataclass
class Mend:
    """Everything one running Mend process is made of, built once from Settings."""

    settings: Settings
    db: Database
    bolt: AsyncApp
    web_app: web.Application
    tasks: BackgroundTasks
    cases: CaseService
    recovery: RecoveryService
    followups: FollowUpService
    poller: FollowUpPoller
    slack_client: AsyncWebClient
    outbox_client: AsyncWebClient
    _runner: web.AppRunner | None = field(default=None, repr=False)

    async def start(
        self, *, host: str = "0.0.0.0", port: int | None = None, migrate: bool = True, schedule: bool = True
    ) -> int:
        """Bring the schema up to date, start serving HTTP and (with `schedule`) the follow-up poller."""
        if migrate:
            await upgrade_to_head(self.db)
        # One pooled session for every Web API call: without it slack_sdk opens a new connection (and,
        # against Slack, a new TLS handshake) for each call.
        self.slack_client.session = new_http_session()
        self.outbox_client.session = self.slack_client.session
        self._runner = web.AppRunner(self.web_app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, self.settings.port if port is None else port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        bound = sockets[0].getsockname()[1] if sockets else (port or self.settings.port)
        log.info("Mend is serving on %s:%s", host, bound)
        if schedule:
            self.poller.start()
        return int(bound)

    async def tick_follow_ups(self) -> int:
        """One poller tick by hand (tests and the sandbox, whose clock is not the wall clock)."""
        return await self.poller.tick()

    async def stop(self) -> None:
        """Stop claiming follow-ups and taking requests, let in-flight work finish, close the database."""
        self.poller.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.tasks.drain(SHUTDOWN_GRACE_SECONDS)
        if self.slack_client.session is not None:
            await self.slack_client.session.close()
            self.slack_client.session = None
            self.outbox_client.session = None
        await self.db.dispose()


def build(settings: Settings, *, clock: Clock | None = None) -> Mend:
    clock = clock or SystemClock()
    db = Database(settings.database_url)
    client = make_web_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
    poster = SlackPoster(client)
    errors = ErrorPolicy(poster)
    tasks = BackgroundTasks(errors)
    case_config = settings.case_config()
    playbook = settings.playbook()
    root_causes = settings.root_cause_category_list()
    policy = settings.follow_up_policy()
    cases = CaseService(
        SqlCaseRepository(db),
        SlackCaseNotifier(poster, case_config, playbook.steps),
        clock,
        case_config,
        playbook,
        planner=policy,
    )
    recovery_repo = SqlRecoveryRepository(db)
    recovery = RecoveryService(
        recovery_repo,
        SlackRecoveryNotifier(poster, case_config, root_causes),
        clock,
        case_config,
        root_causes,
        policy,
    )

    # Follow-ups post through their own client, which never retries a post by itself: every failure is
    # classified (not posted / outcome unknown) and an unknown one is reconciled before any resend.
    outbox_client = make_web_client(
        settings.slack_bot_token.get_secret_value(),
        settings.slack_api_url,
        retry_posts=False,
        timeout=OUTBOX_TIMEOUT_SECONDS,
    )
    people = SlackPeopleDirectory(client)
    follow_up_repo = SqlFollowUpRepository(db)
    followups = FollowUpService(
        follow_up_repo,
        SlackFollowUpMessenger(outbox_client, client),
        people,
        clock,
        policy,
        lease=parse_duration(settings.follow_up_lease),
        cases=recovery_repo,
        recovery=recovery,
        send_timeout=timedelta(seconds=OUTBOX_TIMEOUT_SECONDS),
    )
    # One handler per kind; another feature registers its own kind here (see bot/followups.py).
    case_handler = CaseFollowUpHandler(CaseFollowUpRules(recovery_repo, follow_up_repo, clock), policy)
    for kind in sorted(CASE_KINDS):
        followups.register(kind, case_handler)
    followups.register(FollowUpKind.NOTICE, NoticeHandler())
    poller = FollowUpPoller(followups, tasks, parse_duration(settings.follow_up_poll).total_seconds())

    # process_before_response: the listener's own ack is the HTTP response, without Bolt's 10 ms ack
    # polling; the listeners hand slow work to BackgroundTasks themselves.
    bolt = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        process_before_response=True,
        raise_error_for_unhandled_request=False,
    )
    handlers.register(
        bolt,
        cases=CaseListeners(cases, poster, tasks, after_announce=recovery.sync),
        recovery=RecoveryListeners(recovery, poster, tasks),
        followups=FollowUpListeners(followups, recovery, case_handler, poster, people, tasks, clock),
        errors=errors,
    )
    return Mend(
        settings=settings,
        db=db,
        bolt=bolt,
        web_app=build_web_app(bolt, db.ping),
        tasks=tasks,
        cases=cases,
        recovery=recovery,
        followups=followups,
        poller=poller,
        slack_client=client,
        outbox_client=outbox_client,
    )


async def serve(settings: Settings) -> None:
    mend = build(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await mend.start()
    socket_handler = None
    if settings.socket_mode:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        assert settings.slack_app_token is not None
        socket_handler = AsyncSocketModeHandler(mend.bolt, settings.slack_app_token.get_secret_value())
        await socket_handler.connect_async()
        log.info("Connected to Slack in Socket Mode")
    await stop.wait()
    log.info("Shutting down: finishing in-flight work")
    if socket_handler is not None:
        await socket_handler.close_async()
    await mend.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run Mend, the service-recovery Slack app.")
    parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
