"""Composition root: Settings -> database -> services -> Bolt app -> listeners -> aiohttp; `main()` runs it."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from dataclasses import dataclass, field

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

import handlers
from bot.cases import CaseService
from bot.clock import Clock, SystemClock
from bot.deliveries import Deliveries
from bot.playbook import DEFAULT_STEPS
from bot.workspaces import WorkspaceService
from handlers.cases import CaseListeners, SlackCaseNotifier
from handlers.deliveries import EventDeduplication
from handlers.errors import ErrorPolicy
from handlers.redaction import redact_logs
from handlers.slack_api import SlackPoster, make_web_client, new_http_session
from handlers.tasks import BackgroundTasks
from handlers.web import build_web_app
from handlers.workspaces import WorkspaceListeners, confirm_installation
from settings import Settings, SettingsError, load_settings
from storage.cases import SqlCaseRepository
from storage.db import Database
from storage.deliveries import SqlDeliveryLog
from storage.migrate import upgrade_to_head
from storage.workspaces import SqlWorkspaceRepository

log = logging.getLogger("mend")

SHUTDOWN_GRACE_SECONDS = 20.0


@dataclass
class Mend:
    """Everything one running Mend process is made of, built once from Settings."""

    settings: Settings
    db: Database
    bolt: AsyncApp
    web_app: web.Application
    tasks: BackgroundTasks
    cases: CaseService
    workspaces: WorkspaceService
    slack_client: AsyncWebClient
    _runner: web.AppRunner | None = field(default=None, repr=False)

    async def start(self, *, host: str = "0.0.0.0", port: int | None = None, migrate: bool = True) -> int:
        """Bring the schema up to date and start serving HTTP; returns the bound port."""
        if migrate:
            await upgrade_to_head(self.db)
        # One pooled session for every Web API call: without it slack_sdk opens a new connection (and,
        # against Slack, a new TLS handshake) for each call.
        self.slack_client.session = new_http_session()
        # Before serving, so a reinstalled workspace (new token, restart) gets its sends back at once.
        await confirm_installation(self.slack_client, self.workspaces)
        self._runner = web.AppRunner(self.web_app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, self.settings.port if port is None else port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        bound = sockets[0].getsockname()[1] if sockets else (port or self.settings.port)
        log.info("Mend is serving on %s:%s", host, bound)
        return int(bound)

    async def stop(self) -> None:
        """Stop taking requests, let in-flight work finish, then close the database."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.tasks.drain(SHUTDOWN_GRACE_SECONDS)
        if self.slack_client.session is not None:
            await self.slack_client.session.close()
            self.slack_client.session = None
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
    cases = CaseService(
        SqlCaseRepository(db),
        SlackCaseNotifier(poster, case_config, DEFAULT_STEPS),
        clock,
        case_config,
        workspaces=workspaces,
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
        cases=CaseListeners(cases, poster, tasks),
        workspaces=WorkspaceListeners(workspaces),
        deliveries=EventDeduplication(Deliveries(SqlDeliveryLog(db), clock)),
        errors=errors,
    )
    return Mend(
        settings=settings,
        db=db,
        bolt=bolt,
        web_app=build_web_app(bolt, db.ping, settings.slack_signing_secret.get_secret_value()),
        tasks=tasks,
        cases=cases,
        workspaces=workspaces,
        slack_client=client,
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
    redact_logs(settings.secrets())
    asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
