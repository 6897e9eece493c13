"""Starting the sandbox: `python app.py --sandbox [--seed] [--port N]` ends up here."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from datetime import datetime, timedelta
from typing import Any

from runtime.logs import configure_logging
from sandbox.manifest import load_manifest
from sandbox.seed import SEED_SPAN, seed_cases
from sandbox.start import parse_start
from sandbox.web import PAGE_PATH, SandboxApi
from sandbox.world import Sandbox
from settings import SettingsError

log = logging.getLogger("mend.sandbox")


async def start_sandbox(
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    seed: bool = False,
    start: datetime | None = None,
    **overrides: Any,
) -> Sandbox:
    """Build and serve the sandbox, its clock at `start` (default: a weekday 09:00 in the personas' zone);
    with `seed`, open three weeks of example cases before that first."""
    sandbox = await Sandbox.create(start=start, history=SEED_SPAN if seed else timedelta(0), **overrides)
    try:
        SandboxApi(sandbox, load_manifest()).add_routes(sandbox.mend.web_app)
        await sandbox.start(host=host, port=port)
        if seed:
            opened = await seed_cases(sandbox)
            log.info("Seeded %d cases over the last %d days", opened, SEED_SPAN.days)
        sandbox.post_support_chatter()
    except BaseException:
        await sandbox.stop()
        raise
    return sandbox


async def serve_sandbox(
    *, host: str = "127.0.0.1", seed: bool = False, start: datetime | None = None, **overrides: Any
) -> None:
    """Run until SIGINT/SIGTERM, then stop as Mend does: finish in-flight work, close, clean up."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sandbox = await start_sandbox(host=host, seed=seed, start=start, **overrides)
    shown_host = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host
    print(
        f"\nMend sandbox is running: open http://{shown_host}:{sandbox.port}{PAGE_PATH}\n"
        "(no Slack workspace involved; press Ctrl+C to stop)\n",
        flush=True,
    )
    await stop.wait()
    log.info("Shutting down the sandbox")
    await sandbox.stop()


def run_sandbox(*, host: str, port: int | None, seed: bool, start: str | None = None) -> int:
    """`python app.py --sandbox [--start WHEN]`: serve the sandbox until Ctrl+C; returns the exit code."""
    try:
        start_at = None if start is None else parse_start(start)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging("INFO", "text")
    try:
        asyncio.run(
            serve_sandbox(host=host, seed=seed, start=start_at, **({} if port is None else {"port": port}))
        )
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"Mend's sandbox can't start: {exc}. Try another port with --port.", file=sys.stderr)
        return 1
    return 0
