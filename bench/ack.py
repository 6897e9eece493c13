"""Ack latency and throughput of signed `/recover` requests: Mend against a bare Bolt app in default mode.

Run by hand (not in CI):  python bench/ack.py [--requests 2000] [--rounds 3]

Each app runs in its own process, and so does the Slack double that is their Web API (Slack runs on
other machines; its work must not be billed to the app). Mend is wired exactly as `build()` wires it,
with a throw-away SQLite database, so each measured request also costs Mend its real background work:
building the report modal and calling views.open.
The bare app is `AsyncApp` in its default async mode with a listener that only acks: Bolt then polls
for the ack every 10 ms, the floor Mend's `process_before_response` + background tasks avoid.
Rounds alternate between the two apps and the figures printed are medians over rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-signing-secret-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- servers (run in child processes) ----------------------------------------------------------


async def serve_double(port: int) -> None:
    """The Slack double in a process of its own, as Slack is on another machine in production."""
    from aiohttp import web

    from slack_double.server import SlackDouble

    double = SlackDouble()
    await double.start(port=port)
    # The load generator is not Slack and cannot mint trigger ids; accept each once it arrives.
    api = double.api
    original = api.consume_trigger

    def consume_any(args: dict[str, object]) -> object:
        if str(args.get("trigger_id")) not in api.ws.triggers:
            args["trigger_id"] = double.issue_trigger_id("UBENCH")
        return original(args)

    api.consume_trigger = consume_any  # type: ignore[method-assign]
    double.calls = _Discard()  # type: ignore[assignment]
    double.add_user("bench", user_id="UBENCH")
    double.add_channel("support", channel_id="CBENCH", members=["UBENCH"])
    # A health route for the bench to wait on.
    health = web.Application()
    health.router.add_get("/healthz", lambda _r: _ok())
    runner = web.AppRunner(health, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port + 1).start()
    await asyncio.Event().wait()


async def _ok() -> object:
    from aiohttp import web

    return web.json_response({"ok": True})


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
        await mend.start(host="127.0.0.1", port=port)
        await asyncio.Event().wait()


class _Discard(list):  # type: ignore[type-arg]
    """The double's call log, switched off: a long benchmark should not measure a growing list."""

    def append(self, _item: object) -> None:
        return None


async def serve_bare(port: int, api_url: str) -> None:
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = AsyncApp(client=AsyncWebClient(token="xoxb-test-token", base_url=api_url), signing_secret=SECRET)

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


# ---- load generator ----------------------------------------------------------------------------


def signed(body: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    sig = hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={sig}",
    }


def command_body(i: int) -> bytes:
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
            "trigger_id": f"bench.{i}.{os.getpid()}",
        }
    ).encode()


async def run_load(url: str, total: int, concurrency: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    counter = iter(range(total))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            for i in counter:
                body = command_body(i)
                started = time.perf_counter()
                async with http.post(url, data=body, headers=signed(body)) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"{url} answered {response.status}")
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return latencies, total / elapsed


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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


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


def spawn_servers() -> tuple[dict[str, subprocess.Popen[bytes]], dict[str, int], int]:
    """Start the double, Mend and the bare app, each in its own process."""
    double_port = free_port()
    api_url = f"http://127.0.0.1:{double_port}/api/"
    procs = {
        "double": subprocess.Popen(
            [sys.executable, __file__, "--serve", "double", "--port", str(double_port)], cwd=ROOT
        )
    }
    ports = {"mend": free_port(), "bare": free_port()}
    for name, port in ports.items():
        procs[name] = subprocess.Popen(
            [sys.executable, __file__, "--serve", name, "--port", str(port), "--api-url", api_url], cwd=ROOT
        )
    return procs, ports, double_port


async def measure(
    procs: dict[str, subprocess.Popen[bytes]],
    ports: dict[str, int],
    double_port: int,
    requests: int,
    rounds: int,
) -> None:
    try:
        await wait_healthy(double_port + 1)
        for port in ports.values():
            await wait_healthy(port)
        urls = {name: f"http://127.0.0.1:{port}/slack/events" for name, port in ports.items()}
        for url in urls.values():  # warm-up: auth.test, imports, connection pools, SQLite
            await run_load(url, 200, 10)
        print(f"{requests} signed /recover requests per round, {rounds} rounds, medians over rounds\n")
        print(f"{'app':<28}{'conc':>5}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>10}")
        cpu_ms: dict[tuple[str, int], list[dict[str, float]]] = {}
        for concurrency in (1, 10):
            cpu_ms.update({("bare", concurrency): [], ("mend", concurrency): []})
            results: dict[str, list[tuple[float, float, float]]] = {"mend": [], "bare": []}
            for _ in range(rounds):
                for name in ("bare", "mend"):
                    before = {p: cpu_seconds(proc.pid) for p, proc in procs.items()}
                    latencies, rps = await run_load(urls[name], requests, concurrency)
                    await wait_until_quiet(procs)  # Mend's after-ack work must not spill into the next run
                    cpu_ms[name, concurrency].append(
                        {
                            p: (cpu_seconds(proc.pid) - before[p]) * 1000 / requests
                            for p, proc in procs.items()
                        }
                    )
                    results[name].append((percentile(latencies, 0.5), percentile(latencies, 0.99), rps))
            summary = {}
            for name, label in (("bare", "bare Bolt, default mode"), ("mend", "Mend")):
                p50 = statistics.median(r[0] for r in results[name]) * 1000
                p99 = statistics.median(r[1] for r in results[name]) * 1000
                rps = statistics.median(r[2] for r in results[name])
                summary[name] = (p50, p99, rps)
                print(f"{label:<28}{concurrency:>5}{p50:>10.2f}{p99:>10.2f}{rps:>10.0f}")
            ratio_rps = summary["mend"][2] / summary["bare"][2]
            ratio_p50 = summary["bare"][0] / summary["mend"][0]
            print(f"{'Mend / bare':<28}{concurrency:>5}{ratio_p50:>9.1f}x{'':>10}{ratio_rps:>9.1f}x\n")
        print("CPU ms per request, by process (median over rounds):")
        for (name, concurrency), rows in cpu_ms.items():
            parts = ", ".join(f"{p} {statistics.median(r[p] for r in rows):.2f}" for p in rows[0])
            print(f"  {name:<5} c={concurrency:<3} {parts}")
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", choices=["mend", "bare", "double"], help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.serve == "double":
        asyncio.run(serve_double(args.port))
    elif args.serve == "mend":
        asyncio.run(serve_mend(args.port, args.api_url))
    elif args.serve == "bare":
        asyncio.run(serve_bare(args.port, args.api_url))
    else:
        procs, ports, double_port = spawn_servers()
        asyncio.run(measure(procs, ports, double_port, args.requests, args.rounds))


if __name__ == "__main__":
    main()
