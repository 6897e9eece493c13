"""Ack latency, throughput and modal timeliness of signed `/recover`: Mend against two Bolt baselines.

Run by hand (not in CI), on a machine as quiet as you can get:

    python bench/ack.py [--seconds 10] [--rounds 3] [--burst-rounds 3]

Needs `wrk` on PATH (Debian: `apt-get install wrk`); without it, `--loader aiohttp` runs an in-process
load generator of the same shape (closed loop, N connections), which costs the machine more CPU.

Three apps, each in its own process, all calling one Slack double (its own process too: Slack runs on
other machines, so its work must not be billed to the app):

- bare:    Bolt `AsyncApp` in default mode whose listener only acks. Bolt then polls for the ack every
           10 ms, the floor that Mend's `process_before_response` avoids.
- typical: the same, with a listener that acks and then calls `views.open` with the modal Mend opens,
           through Bolt's default client (slack_sdk opens a new HTTP session per call).
- mend:    Mend wired exactly as `build()` wires it, with a throw-away SQLite database, so every measured
           request also costs Mend its real background work: the report modal and views.open, next to
           the follow-up poller and the catch-up job.

Two measurements, each interleaved (every round runs every app back to back, so a busy shared machine
hits all of them alike) and summarised as medians over rounds:

1. Steady load: wrk, one connection then ten, `--seconds` per app per round. Ack p50/p90/p99, requests
   per second, and for the apps that open modals how late each one opened after its request left
   (Slack's trigger id lasts 3 seconds; a modal later than that is lost).
2. Burst: 300 `/recover` sent open loop within 5 seconds. Each trigger id carries the time it was sent,
   and the double refuses a views.open more than 3 seconds after it (`expired_trigger_id`), as Slack
   does; the bench counts the modals that opened.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-signing-secret-0123456789"
TRIGGER_WINDOW_SECONDS = 3.0
LUA_SCRIPT = Path(__file__).with_name("signed_recover.lua")
APPS = {
    "bare": "Bolt, ack only",
    "typical": "Bolt, ack + views.open",
    "mend": "Mend",
    "busy": "Mend, follow-ups sending",
}
MODAL_APPS = ("typical", "mend", "busy")
BASELINES = ("bare", "typical")
BURST_APPS = ("typical", "mend")
BULK_CHANNELS = [f"CBULK{i:02d}" for i in range(20)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- servers (run in child processes) ----------------------------------------------------------


async def serve_double(port: int, *, lean: bool) -> None:
    """The Slack double in a process of its own, plus a ledger of which trigger opened a modal when.

    `lean`: only the first views.open of each run is checked in full (validating a modal costs the double
    about 1 ms of CPU, which Slack spends on its own machines and this machine has no spare core for);
    the others still parse, consume their trigger id (once, within 3 seconds) and get a view id back.
    """
    from aiohttp import web

    from slack_double.api import ApiError, json_arg
    from slack_double.server import SlackDouble
    from slack_double.state import TriggerId

    double = SlackDouble()
    await double.start(port=port)
    api = double.api
    ws = api.ws
    original_consume = api.consume_trigger
    original_open = api.handlers["views.open"]
    opened: dict[str, float] = {}
    refused: dict[str, str] = {}
    posted = [0]
    original_post = api.handlers["chat.postMessage"]

    def count_posts(args: dict[str, Any]) -> dict[str, Any]:
        result = original_post(args)
        posted[0] += 1
        return result

    api.handlers["chat.postMessage"] = count_posts

    def consume_bench_trigger(args: dict[str, Any]) -> object:
        # The load generator is not Slack and cannot ask the double for trigger ids. A burst trigger id
        # carries the time its request left ("burst.<run>.<i>.<ms>") and expires 3 s after it, as in
        # Slack; wrk's cannot (its bodies are signed beforehand), so lateness is computed afterwards.
        value = str(args.get("trigger_id"))
        if value not in ws.triggers:
            parts = value.split(".")
            issued = int(parts[3]) / 1000 if parts[0] == "burst" else api.clock.now()
            ws.triggers[value] = TriggerId(value=value, user_id="UBENCH", issued_at=issued)
        return original_consume(args)

    def lean_open(args: dict[str, Any]) -> dict[str, Any]:
        view = json_arg(args, "view", "invalid_arguments")
        if not isinstance(view, dict) or view.get("type") != "modal":
            raise ApiError("invalid_arguments")
        api.consume_trigger(args)
        return {
            "ok": True,
            "view": {"id": api.ids.new("V"), "type": "modal", "callback_id": view.get("callback_id")},
        }

    def views_open(args: dict[str, Any]) -> dict[str, Any]:
        trigger = str(args.get("trigger_id"))
        try:
            result = lean_open(args) if lean and opened else original_open(args)
        except ApiError as exc:
            refused[trigger] = exc.error
            raise
        opened[trigger] = time.time()
        return result

    api.consume_trigger = consume_bench_trigger  # type: ignore[method-assign]
    api.handlers["views.open"] = views_open
    double.calls = _Discard()  # type: ignore[assignment]
    double.add_user("bench", user_id="UBENCH")
    double.add_channel("support", channel_id="CBENCH", members=["UBENCH"])
    for channel_id in BULK_CHANNELS:
        double.add_channel(channel_id.lower(), channel_id=channel_id)

    async def ledger(_request: web.Request) -> web.Response:
        return web.json_response({"opened": opened, "refused": refused, "posted": posted[0]})

    async def reset(_request: web.Request) -> web.Response:
        # Between runs: a double holding every view ever opened would get slower as the bench goes on.
        opened.clear()
        refused.clear()
        posted[0] = 0
        ws.triggers.clear()
        ws.views.clear()
        ws.view_owner.clear()
        ws.modal_stacks.clear()
        return web.json_response({"ok": True})

    bench = web.Application()
    bench.router.add_get("/healthz", lambda _r: _ok())
    bench.router.add_get("/bench/ledger", ledger)
    bench.router.add_post("/bench/reset", reset)
    runner = web.AppRunner(bench, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port + 1).start()
    await asyncio.Event().wait()


async def _ok() -> object:
    from aiohttp import web

    return web.json_response({"ok": True})


class _Discard(list):  # type: ignore[type-arg]
    """The double's call log, switched off: a long benchmark should not measure a growing list."""

    def append(self, _item: object) -> None:
        return None


async def serve_mend(port: int, api_url: str) -> None:
    from app import build
    from settings import load_settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            slack_bot_token="xoxb-test-token",
            slack_signing_secret=SECRET,
            slack_api_url=api_url,
            database_url=f"sqlite:///{tmp}/bench.db",
            log_level="WARNING",
        )
        mend = build(settings)
        mend.web_app.router.add_post("/bench/backlog", lambda request: stage_backlog(mend, request))
        await mend.start(host="127.0.0.1", port=port)
        await asyncio.Event().wait()


async def stage_backlog(mend: Any, request: Any) -> Any:
    """Stage `n` notices due now across the bench channels: the follow-up poller then claims up to 200 per
    tick and hands them to BackgroundTasks, the background work that used to crowd out acks."""
    from datetime import UTC, datetime

    from aiohttp import web

    from bot.followup_request import FollowUpRequest
    from storage.followups import SqlFollowUpRepository

    n = int(request.query["n"])
    now = datetime.now(UTC)
    tag = f"{time.time_ns()}"
    notices = [
        FollowUpRequest(
            kind="notice",
            key=f"bench:{tag}:{i}",
            due_at=now,
            payload={"channel_id": BULK_CHANNELS[i % len(BULK_CHANNELS)], "text": f"Bench notice {i}"},
        )
        for i in range(n)
    ]
    await SqlFollowUpRepository(mend.db).stage(notices, None, now)
    return web.json_response({"ok": True, "staged": n})


async def serve_bolt(port: int, api_url: str, *, open_modal: bool) -> None:
    """A Bolt app as its docs show it: default (async ack) mode, Bolt's own client."""
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from handlers.blocks.cases import ReportOrigin, build_report_modal
    from settings import load_settings

    config = load_settings(slack_bot_token="xoxb-test-token", slack_signing_secret=SECRET).case_config()
    bolt = AsyncApp(client=AsyncWebClient(token="xoxb-test-token", base_url=api_url), signing_secret=SECRET)

    if open_modal:

        @bolt.command("/recover")
        async def ack_then_open(ack, command, client):  # type: ignore[no-untyped-def]
            await ack()
            # The same modal Mend opens, built the same (cheap, cached) way: only the app's shape differs.
            view = build_report_modal(
                config, summary=command.get("text", ""), origin=ReportOrigin(channel_id=command["channel_id"])
            )
            await client.views_open(trigger_id=command["trigger_id"], view=view)

    else:

        @bolt.command("/recover")
        async def only_ack(ack):  # type: ignore[no-untyped-def]
            await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


# ---- requests ----------------------------------------------------------------------------------


def signature(body: bytes, timestamp: str) -> str:
    digest = hmac.new(SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return f"v0={digest.hexdigest()}"


def signed_headers(body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(body, timestamp),
    }


def command_body(i: int, trigger_id: str) -> bytes:
    return urlencode(
        {
            "token": "legacy",
            "team_id": "T0MEND",
            "team_domain": "mend-test",
            "channel_id": "CBENCH",
            "channel_name": "support",
            "user_id": "UBENCH",
            "user_name": "bench",
            "command": "/recover",
            "text": f"Parcel {i} never arrived",
            "api_app_id": "A0MEND",
            "response_url": "http://127.0.0.1:9/response/x",
            "trigger_id": trigger_id,
        }
    ).encode()


# ---- results -----------------------------------------------------------------------------------


@dataclass
class Run:
    """One app under one load for one round."""

    p50: float  # ms
    p90: float
    p99: float
    rps: float
    requests: int
    errors: int
    modal_p99: float | None = None  # ms from request sent to views.open answered by the double
    modal_max: float | None = None
    opened: int = 0
    late: int = 0  # opened more than 3 s after the request left, or refused as expired
    missing: int = 0  # acked, but no modal opened
    cpu_ms: dict[str, float] = field(default_factory=dict)
    posted: int = 0  # follow-ups Mend posted while the load ran ("busy" only)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def modal_figures(run: Run, sent: dict[str, float], ledger: dict[str, Any]) -> None:
    """How late each request's modal opened, from when its request left the load generator.

    Lost: answered requests without a modal. Counted, not matched by id: wrk prepares a request each time
    a connection becomes writable, and one prepared just before a reconnect or the end is never sent.
    """
    opened: dict[str, float] = ledger["opened"]
    lateness = [opened[t] - at for t, at in sent.items() if t in opened]
    expired = sum(1 for t in sent if ledger["refused"].get(t) == "expired_trigger_id")
    run.opened = len(lateness)
    run.late = sum(1 for x in lateness if x > TRIGGER_WINDOW_SECONDS) + expired
    run.missing = max(0, run.requests - run.errors - run.opened - len(ledger["refused"]))
    if lateness:
        run.modal_p99 = percentile(lateness, 0.99) * 1000
        run.modal_max = max(lateness) * 1000


# ---- load generators ---------------------------------------------------------------------------


class Bench:
    def __init__(
        self,
        ports: dict[str, int],
        double_port: int,
        procs: dict[str, subprocess.Popen[bytes]],
        backlog: int = 0,
    ):
        self.ports = ports
        self.backlog = backlog
        self.double_port = double_port
        self.procs = procs
        self.urls = {name: f"http://127.0.0.1:{port}/slack/events" for name, port in ports.items()}
        if backlog:
            self.urls["busy"] = self.urls["mend"]
        self.control = f"http://127.0.0.1:{double_port + 1}"
        self.tmp = Path(tempfile.mkdtemp(prefix="mend-bench-"))
        self.run_no = 0

    async def ledger(self) -> dict[str, Any]:
        async with aiohttp.ClientSession() as http, http.get(f"{self.control}/bench/ledger") as resp:
            return dict(await resp.json())

    async def reset(self) -> None:
        async with aiohttp.ClientSession() as http, http.post(f"{self.control}/bench/reset") as resp:
            resp.raise_for_status()

    async def measured(self, name: str, load: Any) -> Run:
        """Run `load` against `name`, wait for its after-ack work, bill CPU, read the modal ledger."""
        await self.reset()
        await wait_until_quiet(self.procs)
        if name == "busy":
            await self.stage_backlog()
        before = {p: cpu_seconds(proc.pid) for p, proc in self.procs.items()}
        run, sent = await load
        if name == "busy":
            run.posted = int((await self.ledger())["posted"])
            await self.backlog_sent()
        await wait_until_quiet(self.procs)  # after-ack work must not spill into the next run
        run.cpu_ms = {
            p: (cpu_seconds(proc.pid) - before[p]) * 1000 / max(run.requests, 1)
            for p, proc in self.procs.items()
        }
        if name in MODAL_APPS:
            modal_figures(run, sent, await self.modals_settled(run.requests - run.errors))
        return run

    async def modals_settled(self, answered: int) -> dict[str, Any]:
        """The ledger once every answered request has its views.open answered, or after 10 s: a server
        starved of CPU on a busy machine looks quiet, so quiet alone does not mean done."""
        for _ in range(100):
            ledger = await self.ledger()
            if len(ledger["opened"]) + len(ledger["refused"]) >= answered:
                break
            await asyncio.sleep(0.1)
        return ledger

    async def backlog_sent(self) -> None:
        """The rest of the backlog must be posted before the next app runs, not during its run."""
        for _ in range(1200):
            if (await self.ledger())["posted"] >= self.backlog:
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"Mend did not post its {self.backlog} follow-ups within 2 minutes")

    async def stage_backlog(self) -> None:
        url = f"http://127.0.0.1:{self.ports['mend']}/bench/backlog?n={self.backlog}"
        async with aiohttp.ClientSession() as http, http.post(url) as resp:
            resp.raise_for_status()
        # The poller claims on its next tick (every 2 s): start the load once sending is under way.
        for _ in range(100):
            if (await self.ledger())["posted"] > 0:
                return
            await asyncio.sleep(0.05)

    async def wrk(
        self, url: str, concurrency: int, seconds: float, max_rps: int = 4000
    ) -> tuple[Run, dict[str, float]]:
        self.run_no += 1
        signed_file = self.tmp / "signed.txt"
        sent_file = self.tmp / "sent.txt"
        timestamp = str(int(time.time()))
        total = int(max_rps * seconds)
        with signed_file.open("w") as out:
            out.write(timestamp + "\n")
            for i in range(total):
                body = command_body(i, f"bench.{self.run_no}.{i}")
                out.write(f"{i} {signature(body, timestamp)} {body.decode()}\n")
        proc = await asyncio.create_subprocess_exec(
            "wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
            "-s", str(LUA_SCRIPT), url, "--", str(signed_file),
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "MEND_BENCH_SENT": str(sent_file)},
        )  # fmt: skip
        out_bytes, _ = await proc.communicate()
        lines = [x for x in out_bytes.decode().splitlines() if x.startswith("MEND_BENCH ")]
        if not lines:
            raise RuntimeError(f"wrk printed no figures: {out_bytes.decode()[-2000:]}")
        line = lines[0]
        figures = json.loads(line.removeprefix("MEND_BENCH "))
        if figures["requests"] >= total:
            raise RuntimeError(f"wrk sent all {total} signed requests; raise max_rps")
        sent = {}
        for row in sent_file.read_text().splitlines():
            index, at = row.split()
            sent[f"bench.{self.run_no}.{index}"] = float(at)
        run = Run(
            p50=figures["p50_us"] / 1000,
            p90=figures["p90_us"] / 1000,
            p99=figures["p99_us"] / 1000,
            rps=figures["requests"] / (figures["duration_us"] / 1e6),
            requests=figures["requests"],
            errors=figures["errors"],
        )
        return run, sent

    async def closed_loop(self, url: str, concurrency: int, seconds: float) -> tuple[Run, dict[str, float]]:
        """wrk's shape without wrk: `concurrency` connections, each sending as soon as it has its answer."""
        self.run_no += 1
        latencies: list[float] = []
        sent: dict[str, float] = {}
        errors = 0
        counter = iter(range(10**9))
        connector = aiohttp.TCPConnector(limit=concurrency)
        deadline = time.perf_counter() + seconds
        async with aiohttp.ClientSession(connector=connector) as http:

            async def worker() -> None:
                nonlocal errors
                for i in counter:
                    if time.perf_counter() >= deadline:
                        return
                    trigger = f"bench.{self.run_no}.{i}"
                    body = command_body(i, trigger)
                    sent[trigger] = time.time()
                    started = time.perf_counter()
                    async with http.post(url, data=body, headers=signed_headers(body)) as response:
                        await response.read()
                        errors += response.status != 200
                    latencies.append(time.perf_counter() - started)

            began = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - began
        run = Run(
            p50=percentile(latencies, 0.5) * 1000,
            p90=percentile(latencies, 0.9) * 1000,
            p99=percentile(latencies, 0.99) * 1000,
            rps=len(latencies) / elapsed,
            requests=len(latencies),
            errors=errors,
        )
        return run, sent

    async def burst(self, url: str, total: int, seconds: float) -> tuple[Run, dict[str, float]]:
        """`total` requests sent open loop, evenly over `seconds`, as a busy workspace's Slack would."""
        self.run_no += 1
        latencies: list[float] = []
        sent: dict[str, float] = {}
        errors = 0
        connector = aiohttp.TCPConnector(limit=100)
        async with aiohttp.ClientSession(connector=connector) as http:

            async def one(i: int, at: float) -> None:
                nonlocal errors
                await asyncio.sleep(max(0.0, at - time.perf_counter()))
                now = time.time()
                trigger = f"burst.{self.run_no}.{i}.{int(now * 1000)}"
                sent[trigger] = now
                body = command_body(i, trigger)
                started = time.perf_counter()
                async with http.post(url, data=body, headers=signed_headers(body)) as response:
                    await response.read()
                    errors += response.status != 200
                latencies.append(time.perf_counter() - started)

            began = time.perf_counter()
            await asyncio.gather(*(one(i, began + i * seconds / total) for i in range(total)))
            elapsed = time.perf_counter() - began
        run = Run(
            p50=percentile(latencies, 0.5) * 1000,
            p90=percentile(latencies, 0.9) * 1000,
            p99=percentile(latencies, 0.99) * 1000,
            rps=len(latencies) / elapsed,
            requests=len(latencies),
            errors=errors,
        )
        return run, sent


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def wait_until_quiet(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    """Wait until the servers stop using CPU (less than 5 ms in 100 ms), at most 30 s."""
    for _ in range(300):
        before = sum(cpu_seconds(p.pid) for p in procs.values())
        await asyncio.sleep(0.1)
        if sum(cpu_seconds(p.pid) for p in procs.values()) - before < 0.005:
            return


async def wait_healthy(port: int) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(400):
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"server on {port} did not start")


def spawn_servers(full_double: bool) -> tuple[dict[str, subprocess.Popen[bytes]], dict[str, int], int]:
    """Start the double and the three apps, each in its own process."""
    double_port = free_port()
    api_url = f"http://127.0.0.1:{double_port}/api/"
    double_args = ["--serve", "double", "--port", str(double_port)] + (
        ["--full-double"] if full_double else []
    )
    procs = {"double": subprocess.Popen([sys.executable, __file__, *double_args], cwd=ROOT)}
    ports = {name: free_port() for name in APPS if name != "busy"}
    for name, port in ports.items():
        procs[name] = subprocess.Popen(
            [sys.executable, __file__, "--serve", name, "--port", str(port), "--api-url", api_url], cwd=ROOT
        )
    return procs, ports, double_port


# ---- report ------------------------------------------------------------------------------------


def ports_only(urls: dict[str, str]) -> list[tuple[str, str]]:
    return [(name, url) for name, url in urls.items() if name != "busy"]


def rotated(urls: dict[str, str], r: int) -> list[tuple[str, str]]:
    """Each round starts with another app, so no app always runs right after the same one."""
    items = list(urls.items())
    return items[r % len(items) :] + items[: r % len(items)]


def med(runs: list[Run], attr: str) -> float:
    values = [getattr(r, attr) for r in runs if getattr(r, attr) is not None]
    return statistics.median(values) if values else float("nan")


def print_table(title: str, results: dict[str, list[Run]]) -> None:
    print(title)
    print(
        f"  {'app':<24}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'p99/p50':>9}{'req/s':>9}"
        f"{'modal p99':>11}{'modal max':>11}{'late':>6}{'lost':>6}{'errors':>8}"
    )
    for name, runs in results.items():
        p50, p99 = med(runs, "p50"), med(runs, "p99")
        modal = ""
        if name in MODAL_APPS:
            modal = (
                f"{med(runs, 'modal_p99'):>9.0f}ms{med(runs, 'modal_max'):>9.0f}ms"
                f"{sum(r.late for r in runs):>6}{sum(r.missing for r in runs):>6}"
            )
        else:
            modal = f"{'':>11}{'':>11}{'':>6}{'':>6}"
        print(
            f"  {APPS[name]:<24}{p50:>9.2f}{med(runs, 'p90'):>9.2f}{p99:>9.2f}{p99 / p50:>9.1f}"
            f"{med(runs, 'rps'):>9.0f}{modal}{sum(r.errors for r in runs):>8}"
        )


def print_ratios(results: dict[str, list[Run]]) -> None:
    mend = results["mend"]
    for base in (b for b in BASELINES if b in results):
        other = results[base]
        print(
            f"  Mend vs {APPS[base]:<24} p50 {med(other, 'p50') / med(mend, 'p50'):5.1f}x lower, "
            f"p99 {med(other, 'p99') / med(mend, 'p99'):5.1f}x lower, "
            f"req/s {med(mend, 'rps') / med(other, 'rps'):5.1f}x higher"
        )


async def measure(
    procs: dict[str, subprocess.Popen[bytes]],
    ports: dict[str, int],
    double_port: int,
    *,
    seconds: float,
    rounds: int,
    burst_rounds: int,
    loader: str,
    concurrencies: list[int],
    backlog: int,
) -> None:
    bench = Bench(ports, double_port, procs, backlog)
    try:
        await wait_healthy(double_port + 1)
        for port in ports.values():
            await wait_healthy(port)
        steady = bench.wrk if loader == "wrk" else bench.closed_loop
        for name, url in ports_only(bench.urls):  # warm-up: auth.test, imports, pools, SQLite
            await bench.measured(name, steady(url, 10, 2))
        print(
            f"Steady load ({loader}): {seconds:g} s per app per round, {rounds} rounds interleaved, "
            "medians over rounds; modal lateness from request sent to views.open done"
        )
        if backlog:
            print(
                f"'{APPS['busy']}': Mend again, {backlog} follow-ups staged due just before each run, so its "
                "poller claims and posts them (bulk background work) while the acks are measured"
            )
        print()
        by_conc: dict[int, dict[str, list[Run]]] = {}
        for concurrency in concurrencies:
            results: dict[str, list[Run]] = {name: [] for name in bench.urls}
            for r in range(rounds):
                for name, url in rotated(bench.urls, r):
                    results[name].append(await bench.measured(name, steady(url, concurrency, seconds)))
            by_conc[concurrency] = results
            print_table(f"{concurrency} connection{'s' if concurrency > 1 else ''}:", results)
            print_ratios(results)
            if "busy" in results:
                posted = statistics.median(r.posted for r in results["busy"])
                print(f"  {APPS['busy']}: {posted:.0f} follow-ups posted during each run (median)")
            print()
        if burst_rounds:
            results = {name: [] for name in BURST_APPS}
            for r in range(burst_rounds):
                for name, _url in rotated({n: bench.urls[n] for n in BURST_APPS}, r):
                    results[name].append(await bench.measured(name, bench.burst(bench.urls[name], 300, 5.0)))
            print(
                f"Burst: 300 /recover open loop within 5 s, {burst_rounds} rounds; the double refuses a "
                "views.open more than 3 s after its request left"
            )
            print_table("", results)
            for name, runs in results.items():
                print(
                    f"  {APPS[name]:<24} modals opened in time: {', '.join(f'{r.opened - r.late}/300' for r in runs)}"
                )
            print()
        print("CPU ms per request, by process (median over rounds):")
        for concurrency, results in by_conc.items():
            for name, runs in results.items():
                parts = ", ".join(f"{p} {statistics.median(r.cpu_ms[p] for r in runs):.2f}" for p in procs)
                print(f"  {name:<8} c={concurrency:<3} {parts}")
        if 1 in by_conc and 10 in by_conc:
            one, ten = by_conc[1]["mend"], by_conc[10]
            print("\nTargets:")
            checks = [
                ("p99 <= 3x p50 at one connection", med(one, "p99") <= 3 * med(one, "p50")),
                ("p99 <= typical's p99 at ten", med(ten["mend"], "p99") <= med(ten["typical"], "p99")),
                ("req/s >= 3x typical's at ten", med(ten["mend"], "rps") >= 3 * med(ten["typical"], "rps")),
                ("no modal late or lost", all(r.late == 0 and r.missing == 0 for rs in by_conc.values() for n in ("mend", "busy") for r in rs.get(n, []))),
            ]  # fmt: skip
            if "busy" in ten:
                checks.append(
                    ("p99 <= typical's p99 at ten, follow-ups sending", med(ten["busy"], "p99") <= med(ten["typical"], "p99"))
                )  # fmt: skip
            for label, ok in checks:
                print(f"  {'met    ' if ok else 'MISSED '} {label}")
    finally:
        shutil.rmtree(bench.tmp, ignore_errors=True)
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="steady-load run length per app per round"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--burst-rounds", type=int, default=3, help="0 skips the burst")
    parser.add_argument("--connections", default="1,10", help="comma-separated, default 1,10")
    parser.add_argument(
        "--backlog", type=int, default=500, help="follow-ups staged for the 'busy' Mend runs (0: none)"
    )
    parser.add_argument(
        "--loader", choices=["wrk", "aiohttp"], default="wrk" if shutil.which("wrk") else "aiohttp"
    )
    parser.add_argument(
        "--full-double",
        action="store_true",
        help="the double checks every modal in full (costs it ~1 ms each)",
    )
    parser.add_argument("--serve", choices=["mend", "bare", "typical", "double"], help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.serve == "double":
        asyncio.run(serve_double(args.port, lean=not args.full_double))
    elif args.serve == "mend":
        asyncio.run(serve_mend(args.port, args.api_url))
    elif args.serve in ("bare", "typical"):
        asyncio.run(serve_bolt(args.port, args.api_url, open_modal=args.serve == "typical"))
    else:
        if args.loader == "wrk" and not shutil.which("wrk"):
            parser.error("wrk is not installed (Debian: apt-get install wrk); or use --loader aiohttp")
        procs, ports, double_port = spawn_servers(args.full_double)
        asyncio.run(
            measure(
                procs,
                ports,
                double_port,
                seconds=args.seconds,
                rounds=args.rounds,
                burst_rounds=args.burst_rounds,
                loader=args.loader,
                concurrencies=[int(c) for c in args.connections.split(",")],
                backlog=args.backlog,
            )
        )


if __name__ == "__main__":
    main()
