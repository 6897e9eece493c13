"""Composition root: Settings -> database -> services -> Bolt app -> listeners -> aiohttp; `main()` runs it."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

import handlers
from bot.amends import AmendsEffect, AmendsEffects, AmendsService
from bot.cases import CaseService
from bot.catch_up import CatchUpService
from bot.clock import Clock, SystemClock, parse_duration
from bot.deliveries import Deliveries
from bot.errors import MendError, StorageUnavailable
from bot.export import ExportFile, ExportService, write_files
from bot.followups import CASE_KINDS, CaseFollowUpRules, FollowUpKind, FollowUpService
from bot.insights import DigestService, InsightsService
from bot.learning import EmployeeCareService, LearningService
from bot.recovery import RecoveryService
from bot.workspaces import WorkspaceService
from handlers.amends import AmendsHomeSection, AmendsListeners, SlackApproverDirectory
from handlers.amends_effects import AmendsEffectHandler
from handlers.cases import CaseListeners, SlackCaseNotifier
from handlers.deliveries import EventDeduplication
from handlers.errors import ErrorPolicy
from handlers.export import ExportListeners
from handlers.followups import (
    CaseFollowUpHandler,
    FollowUpListeners,
    NoticeHandler,
    SlackFollowUpMessenger,
    SlackPeopleDirectory,
)
from handlers.home import HomeListeners, HomePublisher
from handlers.learning import LearningListeners, SlackCheckInNotifier, SlackLearningNotifier
from handlers.recovery import RecoveryListeners, SlackRecoveryNotifier
from handlers.redaction import redact_logs
from handlers.slack_api import SlackPoster, make_web_client, new_http_session
from handlers.tasks import BackgroundTasks
from handlers.web import build_web_app
from handlers.workspaces import WorkspaceListeners, confirm_installation
from settings import Settings, SettingsError, load_settings
from storage.amends import SqlAmendsRepository
from storage.cases import SqlCaseRepository
from storage.catch_up import SqlLaggingCases
from storage.db import Database
from storage.deliveries import SqlDeliveryLog
from storage.export import SqlExportRepository
from storage.followups import SqlFollowUpRepository
from storage.insights import SqlInsightsRepository
from storage.learning import SqlLearningRepository
from storage.migrate import upgrade_to_head
from storage.recovery import SqlRecoveryRepository
from storage.workspaces import SqlWorkspaceRepository

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

    CATCH_UP_JOB_ID = "slack-catch-up"
    CATCH_UP_SECONDS = 15.0
    DIGEST_JOB_ID = "weekly-digest"

    def __init__(
        self,
        service: FollowUpService,
        tasks: BackgroundTasks,
        every_seconds: float,
        catch_up: CatchUpService | None = None,
        digest: DigestService | None = None,
    ) -> None:
        self._service = service
        self._tasks = tasks
        self._every = every_seconds
        self._catch_up = catch_up
        self._digest = digest
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
        if self._catch_up is not None:
            # The same clock ticks the Slack catch-up: cases whose Slack side lags get synced again.
            self._scheduler.add_job(
                self.catch_up,
                IntervalTrigger(seconds=self.CATCH_UP_SECONDS, timezone=UTC),
                id=self.CATCH_UP_JOB_ID,
            )
        if self._digest is not None:
            # Every process runs this; the digest's per-week dedupe key lets only one be posted.
            self._scheduler.add_job(
                self.stage_digest,
                CronTrigger(day_of_week="mon", hour=9, timezone=UTC),
                id=self.DIGEST_JOB_ID,
            )
        self._scheduler.start()

    async def stage_digest(self) -> int:
        """The weekly job's work (tests and the sandbox call it by hand): stage this week's digest."""
        return await self._digest.stage_weekly() if self._digest is not None else 0

    async def catch_up(self) -> int:
        if self._catch_up is None:
            return 0
        try:
            return await self._catch_up.run_once()
        except StorageUnavailable:
            log.warning("Slack catch-up: database unavailable; trying again shortly")
            return 0

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
    home: HomePublisher
    amends: AmendsService
    workspaces: WorkspaceService
    followups: FollowUpService
    poller: FollowUpPoller
    slack_client: AsyncWebClient
    outbox_client: AsyncWebClient
    _runner: web.AppRunner | None = field(default=None, repr=False)

    async def start(
        self,
        *,
        host: str = "0.0.0.0",
        port: int | None = None,
        migrate: bool = True,
        escalations: bool = True,
        schedule: bool = True,
    ) -> int:
        """Bring the schema up to date, start serving HTTP and (with `schedule`) the follow-up poller, which
        also runs the amends reminders and escalations. `escalations` is accepted and ignored (it switched
        off the amends poller that the follow-up engine replaced)."""
        if migrate:
            await upgrade_to_head(self.db)
        # One pooled session for every Web API call: without it slack_sdk opens a new connection (and,
        # against Slack, a new TLS handshake) for each call.
        self.slack_client.session = new_http_session()
        # Before serving, so a reinstalled workspace (new token, restart) gets its sends back at once.
        await confirm_installation(self.slack_client, self.workspaces)
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
    workspaces = WorkspaceService(SqlWorkspaceRepository(db), clock)
    playbook = settings.playbook()
    root_causes = settings.root_cause_category_list()
    policy = settings.follow_up_policy()
    cases = CaseService(
        SqlCaseRepository(db),
        SlackCaseNotifier(poster, case_config, playbook.steps),
        clock,
        case_config,
        playbook,
        workspaces=workspaces,
        planner=policy,
    )
    recovery_repo = SqlRecoveryRepository(db)
    recovery = RecoveryService(
        recovery_repo,
        SlackRecoveryNotifier(poster, case_config, root_causes),
        clock,
        case_config,
        root_causes,
        policy=policy,
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

    amends_repo = SqlAmendsRepository(db)
    approvers = settings.approvers()
    amends = AmendsService(
        amends_repo,
        SlackApproverDirectory(poster),
        followups,  # what an offer or a decision staged goes out at once; the poller retries the rest
        clock,
        settings.amends_policy(),
        approvers,
        after_grant=recovery.sync,
    )
    insights = InsightsService(SqlInsightsRepository(db), clock, root_causes)
    home = HomePublisher(insights, poster, clock, tasks)
    recovery.observe(home.refresh_for_case)
    learning = LearningService(
        SqlLearningRepository(db),
        SlackLearningNotifier(
            poster, labels=lambda key: next((c.label for c in root_causes if c.key == key), key)
        ),
        clock,
        settings.recurrence_config(),
        root_causes,
    )
    learning_listeners = LearningListeners(learning, poster, tasks)
    care = EmployeeCareService(
        SlackCheckInNotifier(poster), settings.manager_map(), approvers=amends.approver_ids
    )
    recovery.on_closed(care.case_closed)
    recovery.observe(learning_listeners.case_changed)
    exports = ExportService(SqlExportRepository(db), clock, may_export=amends.may_decide)
    home.add_section(AmendsHomeSection(amends))
    amends.observe(lambda request: home.refresh_team(request.team_id))
    # One handler per kind; another feature registers its own kind here (see bot/followups/__init__.py).
    case_handler = CaseFollowUpHandler(CaseFollowUpRules(recovery_repo, follow_up_repo, clock), policy)
    for kind in sorted(CASE_KINDS):
        followups.register(kind, case_handler)
    followups.register(FollowUpKind.NOTICE, NoticeHandler())
    amends_effects = AmendsEffectHandler(AmendsEffects(amends_repo, clock, approvers), outbox_client, client)
    for amends_kind in AmendsEffect:
        followups.register(amends_kind, amends_effects)
    catch_up = CatchUpService(SqlLaggingCases(db), clock, announce=cases.announce, sync=recovery.sync)
    digest = DigestService(
        insights, SqlInsightsRepository(db), follow_up_repo, clock, settings.digest_channel
    )
    poller = FollowUpPoller(
        followups,
        tasks,
        parse_duration(settings.follow_up_poll).total_seconds(),
        catch_up=catch_up,
        digest=digest,
    )

    # process_before_response: the listener's own ack is the HTTP response, without Bolt's 10 ms ack
    # polling; the listeners hand slow work to BackgroundTasks themselves.
    bolt = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        process_before_response=True,
        # Unhandled requests go to the error policy, which acks them 200 (see ErrorPolicy).
        raise_error_for_unhandled_request=True,
    )
    handlers.register(
        bolt,
        cases=CaseListeners(
            cases,
            poster,
            tasks,
            after_announce=recovery.sync,
            export=ExportListeners(exports, poster, tasks).export,
        ),
        recovery=RecoveryListeners(recovery, poster, tasks),
        home=HomeListeners(home, tasks),
        learning=learning_listeners,
        amends=AmendsListeners(amends, poster, tasks),
        workspaces=WorkspaceListeners(workspaces),
        deliveries=EventDeduplication(Deliveries(SqlDeliveryLog(db), clock)),
        followups=FollowUpListeners(followups, recovery, case_handler, poster, people, tasks, clock),
        errors=errors,
    )
    return Mend(
        settings=settings,
        db=db,
        bolt=bolt,
        web_app=build_web_app(bolt, db.ping, settings.slack_signing_secret.get_secret_value()),
        tasks=tasks,
        cases=cases,
        recovery=recovery,
        home=home,
        amends=amends,
        workspaces=workspaces,
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
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="try Mend without Slack: a stand-in workspace and a page at http://localhost:PORT/sandbox",
    )
    parser.add_argument("--seed", action="store_true", help="with --sandbox: start with three weeks of cases")
    parser.add_argument("--port", type=int, help="HTTP port (default: the PORT setting, 3000)")
    parser.add_argument("--host", default="127.0.0.1", help="with --sandbox: address to serve on")
    commands = parser.add_subparsers(dest="command")
    export = commands.add_parser(
        "export", help="write CSV files of cases and amends (needs only DATABASE_URL)"
    )
    export.add_argument("--from", dest="first", help="first day, YYYY-MM-DD (default: 30 days ago)")
    export.add_argument("--to", dest="last", help="last day, YYYY-MM-DD (default: today)")
    export.add_argument("--team", help="a Slack team id (default: every workspace)")
    export.add_argument("--out", default=".", help="folder to write the files to (default: here)")
    args = parser.parse_args(argv)
    if args.command == "export":
        return run_export(args.first, args.last, args.team, Path(args.out))
    if args.seed and not args.sandbox:
        parser.error("--seed only works with --sandbox")
    overrides = {} if args.port is None else {"port": args.port}
    if args.sandbox:
        return run_sandbox(host=args.host, seed=args.seed, **overrides)
    try:
        settings = load_settings(**overrides)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redact_logs(settings.secrets())
    asyncio.run(serve(settings))
    return 0


def run_export(first: str | None, last: str | None, team: str | None, out: Path) -> int:
    """The admin's export: the same files `/recover export` sends, written to a folder."""
    url = os.environ.get("DATABASE_URL", "sqlite:///mend.db")
    text = " ".join(d for d in (first or "", last or "") if d)
    if last and not first:
        print("--to needs --from as well.", file=sys.stderr)
        return 2

    async def run() -> list[ExportFile]:
        db = Database(url)
        try:
            service = ExportService(SqlExportRepository(db), SystemClock(), may_export=_nobody)
            return await service.export(team_id=team, export_range=service.parse(text))
        finally:
            await db.dispose()

    try:
        files = asyncio.run(run())
    except MendError as exc:
        print(exc.user_message, file=sys.stderr)
        return 2
    for path in write_files(files, out):
        print(path)
    return 0


async def _nobody(_user_id: str) -> bool:
    return False


def run_sandbox(*, host: str, seed: bool, **overrides: Any) -> int:
    # Imported here, not at the top: the product never depends on its sandbox (or on the Slack double).
    from sandbox.run import serve_sandbox

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(serve_sandbox(host=host, seed=seed, **overrides))
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"Mend's sandbox can't start: {exc}. Try another port with --port.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
