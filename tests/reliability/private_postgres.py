"""A PostgreSQL server of our own (initdb in a temp dir), to stop and restart under a running Mend.

The machine's shared server is never touched: other people's tests run against it.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_bindir() -> Path | None:
    """The server binaries (initdb, pg_ctl), newest version first; None when not installed."""
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if out and (Path(out) / "initdb").exists():
            return Path(out)
    return None


class PrivatePostgresUnavailable(Exception):
    """Why a private server can't run here (no binaries, no user to run them as, initdb failed)."""


class PrivatePostgres:
    def __init__(self) -> None:
        bindir = find_bindir()
        if bindir is None:
            raise PrivatePostgresUnavailable("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        self.bindir = bindir
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="mend-pg-"))
        self.data = self.root / "data"
        self._run_as: str | None = None
        if os.geteuid() == 0:  # the server refuses to run as root
            try:
                user = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise PrivatePostgresUnavailable("running as root and there is no postgres user") from exc
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._run_as = "postgres"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _cmd(self, *args: str) -> list[str]:
        if self._run_as is None:
            return list(args)
        return ["runuser", "-u", self._run_as, "--", *args]

    def _run(self, *args: str, timeout: float = 60) -> None:
        result = subprocess.run(
            self._cmd(*args), capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise PrivatePostgresUnavailable(f"{Path(args[0]).name} failed: {result.stderr.strip()[-500:]}")

    def init(self) -> None:
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--no-sync", "--no-instructions",
        )  # fmt: skip

    def _pg_ctl(self, action: str) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
            "-o", options, "-m", "fast", "-w", "-t", "30", action,
        )  # fmt: skip

    def start(self) -> None:
        self._pg_ctl("start")

    def stop(self) -> None:
        self._pg_ctl("stop")

    def restart(self) -> None:
        self._pg_ctl("restart")

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)

    async def arestart(self) -> None:
        await asyncio.to_thread(self.restart)

    def destroy(self) -> None:
        with contextlib.suppress(PrivatePostgresUnavailable, subprocess.TimeoutExpired):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def start_private_postgres() -> PrivatePostgres:
    """An initialised, running private server; raises PrivatePostgresUnavailable with the reason."""
    server = PrivatePostgres()
    try:
        server.init()
        server.start()
    except (PrivatePostgresUnavailable, OSError, subprocess.TimeoutExpired) as exc:
        server.destroy()
        raise PrivatePostgresUnavailable(str(exc)) from exc
    return server
