"""Starting the sandbox: `python app.py --sandbox [--seed] [--port N]` ends up here."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from datetime import timedelta
from typing import Any

from runtime.logs import configure_logging
from sandbox.manifest import load_manifest
from sandbox.seed import SEED_SPAN, seed_cases
from sandbox.web import PAGE_PATH, SandboxApi
from sandbox.world import Sandbox
from settings import SettingsError

log = logging.getLogger("mend.sandbox")


async def start_sandbox(
    *, host: str = "127.0.0.1", port: int | None = None, seed: bool = False, **overrides: Any
) -> Sandbox:
    """Build and serve the sandbox; with `seed`, open three weeks of example cases first."""
    sandbox = await Sandbox.create(start_offset=-SEED_SPAN if seed else timedelta(0), **overrides)
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


async def serve_sandbox(*, host: str = "127.0.0.1", seed: bool = False, **overrides: Any) -> None:
    """Run until SIGINT/SIGTERM, then stop as Mend does: finish in-flight work, close, clean up."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sandbox = await start_sandbox(host=host, seed=seed, **overrides)
    shown_host = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host
    print(
        f"\nMend sandbox is running: open http://{shown_host}:{sandbox.port}{PAGE_PATH}\n"
        "(no Slack workspace involved; press Ctrl+C to stop)\n",
        flush=True,
    )
    await stop.wait()
    log.info("Shutting down the sandbox")
    await sandbox.stop()


def run_sandbox(*, host: str, port: int | None, seed: bool) -> int:
    """`python app.py --sandbox`: serve the sandbox until Ctrl+C; returns the process's exit code."""
    configure_logging("INFO", "text")
    try:
        asyncio.run(serve_sandbox(host=host, seed=seed, **({} if port is None else {"port": port})))
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"Mend's sandbox can't start: {exc}. Try another port with --port.", file=sys.stderr)
        return 1
    return 0
