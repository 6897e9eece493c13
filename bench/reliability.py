"""Reliability figures for the README: forged requests, retried events, replays, Slack faults, database
restarts and fuzzing, each counted end to end over signed HTTP through the Slack double.

Run by hand (not in CI):  python bench/reliability.py [--cases 120] [--fuzz 400] [--restarts 10]

Uses SQLite for everything except the restarts, which need a private PostgreSQL (initdb in a temp dir);
that row says so when the server binaries are missing.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import random
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import handlers.slack_api as slack_api  # noqa: E402
from handlers.ids import Command  # noqa: E402
from slack_double.faults import FAULT_KINDS  # noqa: E402
from tests.e2e.conftest import Stack, running_stack  # noqa: E402
from tests.e2e.test_events import count_mentions, mention, second_process  # noqa: E402
from tests.e2e.test_report_case import REPORT, open_report, state_of  # noqa: E402
from tests.e2e.test_report_resilience import cards_in  # noqa: E402

Row = tuple[str, str, str]
_ids = itertools.count(1)


def view_id() -> str:
    return f"V0BENCH{next(_ids):06d}"


async def forged_and_stale(stack: Stack, n: int) -> Row:
    now = int(time.time())
    variants: list[dict[str, Any]] = [
        {"signature": "forged"},
        {"signature": "missing"},
        {"timestamp": now - 6 * 60},
        {"timestamp": now + 6 * 60},
        {"timestamp": now - 3600, "signature": "forged"},
    ]
    accepted = 0
    for i in range(n):
        response = await stack.alice.slash_command(
            Command.RECOVER.value, "forged", channel_id=stack.support, **variants[i % len(variants)]
        )
        accepted += response.status != 401
    await stack.settle()
    accepted += len(stack.double.calls_to("views.open"))
    return (
        "Forged or stale requests (bad/missing signature, ±6 min, 1 h old)",
        f"{n} tried",
        f"{accepted} accepted",
    )


async def retried_events(stack: Stack, n: int) -> Row:
    async with second_process(stack) as (other, other_sender):
        here, there = count_mentions(stack.mend), count_mentions(other)
        deliveries = 0
        for i in range(n):
            event_id = f"Ev0BENCH{i:06d}"
            senders = [stack.sender, other_sender]
            await asyncio.gather(
                *(
                    senders[(i + r) % 2].send_event(mention(stack), event_id=event_id, retry_num=r or None)
                    for r in range(4)
                )
            )
            deliveries += 4
        handled = len(here) + len(there)
    return (
        "Event deliveries, each sent 4× (3 retries) across 2 processes",
        f"{deliveries} deliveries of {n} events",
        f"{handled} handled",
    )


async def concurrent_submissions(stack: Stack, n: int) -> Row:
    view = await open_report(stack)
    before = await stack.count_cases()
    for _ in range(n):
        replayed = {**view, "id": view_id()}
        await asyncio.gather(
            *(stack.forge_view_submission(stack.alice, replayed, state_of(REPORT)) for _ in range(5))
        )
    await stack.settle()
    winners = await stack.count_cases() - before
    return (
        "Same submission sent 5× at once",
        f"{n} submissions, {5 * n} requests",
        f"{winners} cases opened",
    )


async def slack_faults(stack: Stack, cases: int) -> Row:
    double = stack.double
    rng = random.Random(7)
    view = await open_report(stack)
    before_cards = len(cards_in(stack, stack.recovery))  # type: ignore[arg-type]
    first = await stack.count_cases()
    for rate in (0.1, 0.2, 0.3):
        double.faults.clear()
        for kind in FAULT_KINDS:
            # A 429 is Slack saying it did nothing; every other fault may or may not have taken effect.
            applied = kind != "ratelimited" and rng.random() < 0.5
            double.faults.add(None, kind, times=None, probability=rate / len(FAULT_KINDS) / (1 - rate / 2),
                              applied=applied, delay=1.5, seed=rng.randrange(1 << 30))  # fmt: skip
        batch = []
        for _ in range(cases // 3):
            batch.append(
                stack.forge_view_submission(stack.alice, {**view, "id": view_id()}, state_of(REPORT))
            )
            if len(batch) == 10:
                await asyncio.gather(*batch)
                batch = []
        await asyncio.gather(*batch)
        await stack.settle()
    double.faults.clear()
    injected = sum(1 for c in double.calls if c.fault)
    rows = (await stack.case_rows())[first:]
    cards = cards_in(stack, stack.recovery)[before_cards:]  # type: ignore[arg-type]
    keys = [str(c["metadata"]["event_payload"]["key"]) for c in cards]
    lost = sum(1 for r in rows if str(r.id) not in keys)
    duplicated = len(keys) - len(set(keys))
    threads = [
        sum(
            1
            for m in double.thread(stack.recovery, c["ts"])  # type: ignore[arg-type]
            if (m.get("metadata") or {}).get("event_type") == "mend_case_thread"
        )
        for c in cards
    ]
    return (
        "Slack faults at 10/20/30% of calls (429, 5xx, timeouts, drops; some applied)",
        f"{len(rows)} cases, {injected} faults in {len(double.calls)} calls",
        f"cards: {lost} lost, {duplicated} duplicated; thread openings: {sum(t == 0 for t in threads)} lost, "
        f"{sum(t > 1 for t in threads)} duplicated",
    )


async def postgres_restarts(restarts: int) -> Row:
    from tests.conftest import reset_postgres
    from tests.reliability.private_postgres import PrivatePostgresUnavailable, start_private_postgres

    try:
        server = start_private_postgres()
    except PrivatePostgresUnavailable as exc:
        return ("PostgreSQL restarts under a running Mend", "not run", f"({exc})")
    try:
        await reset_postgres(server.url)
        survived = 0
        async with running_stack(server.url) as stack:
            view = await open_report(stack)
            for _ in range(restarts):
                await server.arestart()
                response = await stack.forge_view_submission(
                    stack.alice, {**view, "id": view_id()}, state_of(REPORT)
                )
                survived += response.status == 200 and not response.field_errors
                await stack.settle()  # a restart during the announcement would lose the card (no outbox yet)
            await stack.settle()
            complete = sum(1 for r in await stack.case_rows() if r.card_ts)
    finally:
        server.destroy()
    return (
        "PostgreSQL restarts under a running Mend",
        f"{restarts} restarts",
        f"{survived} survived (next request OK), {complete} cases complete",
    )


async def fuzz(stack: Stack, n: int) -> Row:
    from hypothesis.errors import NonInteractiveExampleWarning

    from tests.reliability.strategies import any_json, field_text, hostile_text
    from tests.reliability.test_hostile_input import PATHS, button_click, mangle, shortcut, submission

    warnings.simplefilter("ignore", NonInteractiveExampleWarning)
    view = await open_report(stack)
    statuses: list[int] = []
    for i in range(n):
        kind = i % 5
        if kind == 0:
            r = await stack.alice.slash_command(
                Command.RECOVER.value, hostile_text.example(), channel_id=stack.support
            )
        elif kind == 1:
            texts = {
                k: field_text.example() for k in ("customer_name", "summary", "customer_words", "impact")
            }
            r = await stack.forge_view_submission(
                stack.alice, {**view, "id": view_id(), "private_metadata": hostile_text.example()},
                state_of({**REPORT, **texts}),
            )  # fmt: skip
        elif kind == 2:
            r = await stack.sender.post_interaction(button_click(stack, hostile_text.example()))
        else:
            which = random.choice(sorted(PATHS))
            base = {"click": button_click(stack, "x"), "shortcut": shortcut(stack)}.get(
                which
            ) or await submission(stack)
            path = random.choice(PATHS[which])
            r = await stack.sender.post_interaction(
                mangle(base, path, any_json.example(), random.random() < 0.3)
            )
        statuses.append(r.status)
        stack.double.clear_views(stack.alice.id)
    await stack.settle()
    errors = sum(s >= 500 for s in statuses)
    rejected = len(stack.double.rejected_calls)
    return (
        "Fuzz cases (text, every field, button values, wrong shapes)",
        f"{n} requests",
        f"{errors} 5xx, {rejected} payloads Slack would refuse",
    )


async def main(args: argparse.Namespace) -> list[Row]:
    logging.basicConfig(level=logging.CRITICAL)
    slack_api.WEB_API_TIMEOUT_SECONDS = 1  # "timeout" faults answer after 1.5 s; don't wait 10 s for each
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with running_stack(f"sqlite:///{Path(tmp) / 'bench.db'}") as stack:
            rows.append(await forged_and_stale(stack, 200))
            rows.append(await retried_events(stack, 100))
            rows.append(await concurrent_submissions(stack, 50))
            rows.append(await slack_faults(stack, args.cases))
            rows.append(await fuzz(stack, args.fuzz))
    rows.append(await postgres_restarts(args.restarts))
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=120)
    parser.add_argument("--fuzz", type=int, default=400)
    parser.add_argument("--restarts", type=int, default=10)
    started = time.monotonic()
    table = asyncio.run(main(parser.parse_args()))
    print("| what | tried | outcome |\n|---|---|---|")
    for row in table:
        print(f"| {' | '.join(row)} |")
    print(f"\n({time.monotonic() - started:.0f} s)")
