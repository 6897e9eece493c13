"""Home tab and digest figures with 100,000 cases spread over 12 months, on SQLite and PostgreSQL.

Run by hand:  python bench/home.py [--cases 100000] [--opens 50] [--postgres postgresql://…/db]

Seeds a throw-away database with realistic cases (owners, severities, categories, root causes, steps,
acknowledgement and closing times, the owners' follow-up and re-survey answers, promises), then measures,
for one busy agent seen as a manager (what needs attention first): building and publishing the Home tab
through Mend's own HomePublisher to the Slack double (p50/p95 over --opens; the charts are drawn and
uploaded once, then reused), and the team-view query behind the weekly digest (with the outcome measures). Prints a table; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from bot.cases import DEFAULT_CATEGORY_LABELS, DEFAULT_ROOT_CAUSE_LABELS, Severity, categories_from_labels  # noqa: E402
from bot.clock import FrozenClock  # noqa: E402
from bot.insights import InsightsService  # noqa: E402
from bot.playbook import DEFAULT_STEPS, StepStatus  # noqa: E402
from handlers.errors import ErrorPolicy  # noqa: E402
from handlers.home import HomePublisher  # noqa: E402
from handlers.slack_api import SlackPoster, make_web_client, new_http_session  # noqa: E402
from handlers.tasks import BackgroundTasks  # noqa: E402
from slack_double.server import SlackDouble  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.followups import FollowUpRow, PromiseRow  # noqa: E402
from storage.insights import SqlInsightsRepository  # noqa: E402
from storage.migrate import upgrade_to_head  # noqa: E402
from storage.tables import CaseRow, CaseStepRow  # noqa: E402

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TEAM = "T0MEND"
AGENTS = [f"UAGENT{i:03d}" for i in range(50)]
BUSY_AGENT = AGENTS[0]
CATEGORIES = [c.key for c in categories_from_labels(DEFAULT_CATEGORY_LABELS)]
ROOT_CAUSES = categories_from_labels(DEFAULT_ROOT_CAUSE_LABELS)
CHUNK = 5000


def case_rows(count: int, rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for i in range(1, count + 1):
        created = NOW - timedelta(seconds=rng.uniform(0, 365 * 86400))
        # Most cases are old and closed; the last weeks hold the open ones.
        age = NOW - created
        closed = age > timedelta(days=10) or rng.random() < 0.5
        acked = created + timedelta(minutes=rng.expovariate(1 / 45))
        closed_at = created + timedelta(hours=rng.expovariate(1 / 30)) if closed else None
        if closed_at and closed_at > NOW:
            closed_at = None
        owner = BUSY_AGENT if rng.random() < 0.02 else rng.choice(AGENTS)
        rows.append(
            {
                "id": i,
                "team_id": TEAM,
                "state": "closed" if closed_at else "open",
                "severity": rng.choice([s.value for s in Severity]),
                "category": rng.choice(CATEGORIES),
                "customer_name": f"Customer {i}",
                "customer_ref": f"#{100000 + i}",
                "summary": "Order arrived late and damaged; the customer had to call three times.",
                "reporter_user_id": owner,
                "owner_user_id": owner,
                "origin_channel_id": "CSUPPORT",
                "card_channel_id": "CRECOVERY",
                "card_ts": f"{created.timestamp():.6f}",
                "thread_opened_at": created,
                "root_cause_category": rng.choice(ROOT_CAUSES).key
                if closed_at or rng.random() < 0.3
                else None,
                "acknowledged_at": acked if acked < NOW else None,
                "closed_at": closed_at,
                "reopen_count": 0,
                "version": 5,
                "card_version": 5,
                "created_at": created,
                "updated_at": closed_at or created,
            }
        )
    return rows


def step_rows(cases: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for case in cases:
        done_upto = len(DEFAULT_STEPS) if case["state"] == "closed" else rng.randrange(len(DEFAULT_STEPS))
        for position, step in enumerate(DEFAULT_STEPS):
            done = position < done_upto
            rows.append(
                {
                    "case_id": case["id"],
                    "position": position,
                    "step_key": step.key,
                    "definition": step.model_dump(mode="json"),
                    "required": step.required,
                    "status": StepStatus.DONE.value if done else StepStatus.PENDING.value,
                    "actor_user_id": case["owner_user_id"] if done else None,
                    "at": case["created_at"] if done else None,
                }
            )
    return rows


def answer_rows(cases: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """The owners' answers: "Is the customer satisfied?" for most closed cases, the re-survey for some."""
    rows = []
    for case in cases:
        if case["state"] != "closed" or rng.random() < 0.3:
            continue
        at = case["closed_at"]
        rows.append(
            {
                "kind": "customer_follow_up",
                "case_id": case["id"],
                "dedupe_key": f"case:{case['id']}:customer_follow_up",
                "payload": {},
                "due_at": at,
                "state": "resolved",
                "resolution": "satisfied" if rng.random() < 0.8 else "not_yet",
                "resolution_data": None,
                "resolved_at": at,
                "created_at": at,
                "updated_at": at,
            }
        )
        if rng.random() < 0.5:
            rows.append(
                {
                    "kind": "resurvey",
                    "case_id": case["id"],
                    "dedupe_key": f"case:{case['id']}:resurvey",
                    "payload": {},
                    "due_at": at,
                    "state": "resolved",
                    "resolution": "recorded",
                    "resolution_data": {
                        "outcome": rng.choice(["stayed_satisfied", "stayed_satisfied", "neutral", "left"]),
                        "score": rng.choice([None, 2, 3, 4, 5]),
                    },
                    "resolved_at": at,
                    "created_at": at,
                    "updated_at": at,
                }
            )
    return rows


def promise_rows(cases: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """A promise on every third open case: most still open, some broken."""
    return [
        {
            "case_id": case["id"],
            "text": "Call back with the refund",
            "due_at": case["created_at"] + timedelta(days=2),
            "state": "broken" if rng.random() < 0.2 else "open",
            "created_by": case["owner_user_id"],
            "created_at": case["created_at"],
        }
        for case in cases
        if case["state"] == "open" and rng.random() < 0.33
    ]


async def seed(db: Database, count: int) -> float:
    rng = random.Random(42)
    started = time.perf_counter()
    cases = case_rows(count, rng)
    async with db.engine.begin() as conn:
        for i in range(0, len(cases), CHUNK):
            await conn.execute(insert(CaseRow), cases[i : i + CHUNK])
        steps = step_rows(cases, rng)
        for i in range(0, len(steps), CHUNK * 4):
            await conn.execute(insert(CaseStepRow), steps[i : i + CHUNK * 4])
        answers = answer_rows(cases, rng)
        for i in range(0, len(answers), CHUNK):
            await conn.execute(insert(FollowUpRow), answers[i : i + CHUNK])
        promises = promise_rows(cases, rng)
        for i in range(0, len(promises), CHUNK):
            await conn.execute(insert(PromiseRow), promises[i : i + CHUNK])
        if db.dialect == "postgresql":
            await conn.execute(
                text("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))")
            )
    if db.dialect == "postgresql":
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(label: str, url: str, count: int, opens: int) -> list[str]:
    db = Database(url)
    await upgrade_to_head(db)
    seconds = await seed(db, count)
    clock = FrozenClock(NOW)
    insights = InsightsService(SqlInsightsRepository(db), clock, ROOT_CAUSES)
    async with SlackDouble(team_id=TEAM) as double:
        double.calls = _Discard()  # type: ignore[assignment]
        double.add_user("busy", user_id=BUSY_AGENT)
        client = make_web_client(double.bot_token, double.api_url)
        client.session = new_http_session()
        poster = SlackPoster(client)
        tasks = BackgroundTasks(ErrorPolicy(poster))
        home = HomePublisher(insights, poster, clock, tasks, is_manager=_manager)
        await home.publish(TEAM, BUSY_AGENT)  # warm-up
        publish_ms, digest_ms = [], []
        for _ in range(opens):
            started = time.perf_counter()
            await home.publish(TEAM, BUSY_AGENT)
            publish_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            await insights.team_view(TEAM, fresh=True)
            digest_ms.append((time.perf_counter() - started) * 1000)
        _, total = await insights.my_open_cases(TEAM, BUSY_AGENT)
        await client.session.close()
    await db.dispose()
    return [
        f"{label:<11}{count:>9,}{seconds:>9.1f}s{total:>7}"
        f"{statistics.median(publish_ms):>10.1f}{pct(publish_ms, 0.95):>10.1f}"
        f"{statistics.median(digest_ms):>10.1f}{pct(digest_ms, 0.95):>10.1f}"
    ]


async def _manager(_user_id: str) -> bool:
    return True  # the busiest view: the manager's, with what needs attention


class _Discard(list):  # type: ignore[type-arg]
    def append(self, _item: object) -> None:
        return None


async def main(args: argparse.Namespace) -> None:
    lines = [
        f"{'database':<11}{'cases':>9}{'seeded':>10}{'open':>7}{'home p50':>10}{'home p95':>10}"
        f"{'team p50':>10}{'team p95':>10}   (ms; {args.opens} opens of one agent's Home tab, built and published; "
        "team = the digest's team-view query, uncached)"
    ]
    with tempfile.TemporaryDirectory() as tmp:
        lines += await measure("SQLite", f"sqlite:///{tmp}/bench.db", args.cases, args.opens)
    if args.postgres:
        admin = Database(args.postgres)
        async with admin.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await admin.dispose()
        lines += await measure("PostgreSQL", args.postgres, args.cases, args.opens)
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--opens", type=int, default=50)
    parser.add_argument(
        "--postgres", help="a throw-away PostgreSQL database URL (its public schema is dropped)"
    )
    asyncio.run(main(parser.parse_args()))
