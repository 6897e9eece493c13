"""How one Mend process runs: migrate, serve HTTP, start the clock; on SIGTERM, drain in-flight work and leave."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from dataclasses import dataclass, field

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.workspaces import WorkspaceService
from handlers.slack_api import new_http_session
from handlers.socket_mode import connect_socket_mode
from handlers.tasks import BackgroundTasks
from handlers.workspaces import confirm_installation
from runtime.scheduler import Scheduler
from settings import Settings
from storage.db import Database
from storage.migrate import upgrade_to_head

log = logging.getLogger("mend")

# How long SIGTERM waits for work in flight (sends, announcements, a running job) before cancelling it;
# under the 30 s most platforms allow between SIGTERM and SIGKILL.
SHUTDOWN_GRACE_SECONDS = 20.0


@dataclass(kw_only=True)
class Process:
    """The parts of Mend that starting and stopping touch; `app.Mend` adds the services it is made of."""

    settings: Settings
    db: Database
    bolt: AsyncApp
    web_app: web.Application
    tasks: BackgroundTasks
    workspaces: WorkspaceService
    poller: Scheduler
    slack_client: AsyncWebClient
    outbox_client: AsyncWebClient
    _runner: web.AppRunner | None = field(default=None, init=False, repr=False)

    async def start(
        self,
        *,
        host: str = "0.0.0.0",
        port: int | None = None,
        migrate: bool = True,
        escalations: bool = True,
        schedule: bool = True,
    ) -> int:
        """Bring the schema up to date, serve HTTP and start the clock; returns the port bound.

        `schedule=False` leaves the follow-up poller (which also delivers amends reminders and escalations),
        catch-up and digest to be ticked by hand. `escalations` is accepted and ignored: it switched off the
        amends poller that the follow-up engine replaced.
        """
        if migrate:
            await upgrade_to_head(self.db)
        # One pooled session for every Web API call: without it slack_sdk opens a new connection (and,
        # against Slack, a new TLS handshake) for each call.
        self.slack_client.session = self.outbox_client.session = new_http_session()
        # Before serving, so a reinstalled workspace (new token, restart) gets its sends back at once.
        await confirm_installation(self.slack_client, self.workspaces)
        # What start-up built lives as long as the process: the collector need not walk it again. Without
        # this, each full collection walks every module, model and cached query, a pause of 50-200 ms that
        # lands on whichever requests are waiting (the ack p99).
        gc.freeze()
        self._runner = web.AppRunner(self.web_app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, self.settings.port if port is None else port).start()
        bound = int(self._runner.addresses[0][1])  # port 0 asks the OS for a free one
        log.info("Mend is serving on %s:%s", host, bound)
        self.poller.start(follow_ups=schedule)
        return bound

    async def tick_follow_ups(self) -> int:
        """One poller tick by hand (tests and the sandbox, whose clock is not the wall clock)."""
        return await self.poller.tick()

    async def stop(self) -> None:
        """Stop the clock and taking requests, let in-flight work finish, close Slack's session and the database."""
        await self.poller.stop(SHUTDOWN_GRACE_SECONDS)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.tasks.drain(SHUTDOWN_GRACE_SECONDS)
        if self.slack_client.session is not None:
            await self.slack_client.session.close()
        self.slack_client.session = self.outbox_client.session = None
        await self.db.dispose()
        gc.unfreeze()  # what this Mend held may now be collected (tests start many in one process)


async def serve(process: Process) -> None:
    """Run until SIGTERM or SIGINT, then stop as `Process.stop` does (Slack retries what was refused)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await process.start()
    socket_handler = None
    if process.settings.slack_app_token is not None:
        # The same shape guard as over HTTP: a payload Bolt can't read is acked and dropped.
        socket_handler = await connect_socket_mode(
            process.bolt, process.settings.slack_app_token.get_secret_value()
        )
        log.info("Connected to Slack in Socket Mode")
    await stop.wait()
    log.info("Shutting down: finishing in-flight work")
    if socket_handler is not None:
        await socket_handler.close()
    await process.stop()
