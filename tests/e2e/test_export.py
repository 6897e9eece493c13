"""End to end: `/recover export` sends approvers CSV files through Slack's file upload; others are refused."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import FrozenClock
from bot.export import AMENDS_COLUMNS, CASE_COLUMNS
from handlers.ids import AmendsAction, Command, FollowUpAction, StepAction
from tests.e2e.conftest import Stack
from tests.e2e.test_amends import MakeStack, make, offer  # noqa: F401 - `make` is a fixture
from tests.e2e.test_followups import TUESDAY_10_LONDON, click, nudges, text_of
from tests.e2e.test_playbook import RECORD

ROOT = Path(__file__).resolve().parents[2]


def uploaded(stack: Stack) -> dict[str, str]:
    return {
        f.filename: (f.content or b"").decode() for f in stack.double.workspace.files.values() if f.completed
    }


async def test_approver_gets_cases_and_amends_as_csv(make: MakeStack) -> None:  # noqa: F811
    async with make() as stack:
        await stack.report_case(customer_name='=HYPERLINK("http://evil")')
        await offer(stack, "€120")
        carol = stack.people["carol"]
        response = await carol.slash_command(Command.RECOVER.value, "export", channel_id=stack.support)
        assert response.status == 200
        await stack.settle()
        files = uploaded(stack)
        today = datetime.now(UTC).date()
        label = f"{today - timedelta(days=29):%Y-%m-%d}_to_{today:%Y-%m-%d}"
        cases = list(csv.DictReader(io.StringIO(files[f"mend-cases-{label}.csv"])))
        assert [c["reference"] for c in cases] == ["R-0001"]
        assert cases[0]["customer_name"].startswith("'=HYPERLINK")  # no formula in a spreadsheet
        assert cases[0]["severity"] == "major" and cases[0]["state"] == "open"
        amends = list(csv.DictReader(io.StringIO(files[f"mend-amends-{label}.csv"])))
        assert [(a["case"], a["offered"], a["currency"], a["state"]) for a in amends] == [
            ("R-0001", "120.00", "EUR", "pending")
        ]
        # The files landed in Carol's DM with Mend, and she was told where.
        dm = stack.double.dm_channel_id(carol.id)
        assert dm is not None and any(
            "Your Mend export" in str(m.get("text")) for m in stack.double.messages(dm)
        )
        # Carol isn't in #support, so the "it's in your DM" notice comes to the DM too.
        told = [e.text for e in stack.double.ephemerals(user_id=carol.id)]
        told += [str(m.get("text")) for m in stack.double.messages(dm)]
        assert any("in your DM" in t for t in told)


def step(case_id: int, key: str) -> str:
    return json.dumps({"c": case_id, "s": key}, separators=(",", ":"))


async def test_the_export_has_names_numbers_labels_and_what_became_of_the_customer(
    make: MakeStack,  # noqa: F811
) -> None:
    clock = FrozenClock(TUESDAY_10_LONDON)
    settings = {"follow_up_after": "1d", "resurvey_after": "14d", "ack_nudge_after": "60d"}
    async with make(clock=clock, working_hours="always", **settings) as stack:
        carol = stack.people["carol"]
        row = await stack.report_case()
        # €120 is above Alice's limit: Carol approves it.
        assert (await offer(stack, "120")).field_errors == {}
        assert (await carol.click(AmendsAction.APPROVE.value)).status == 200
        await stack.settle()
        # The playbook up to the fix; a day later the customer is satisfied; then the record closes it.
        await stack.apologise(row.id)
        for key in ("listen", "own", "root_cause", "fix"):
            await click(stack, StepAction.DONE.value, value=step(row.id, key))
        clock.advance(timedelta(days=1))
        assert await stack.tick() >= 1
        [asked] = [m for m in nudges(stack) if "Is the customer satisfied?" in text_of(m)]
        await click(stack, FollowUpAction.SATISFIED.value, message_ts=asked["ts"])
        await click(stack, StepAction.DONE.value, value=step(row.id, "follow_up"))
        await click(stack, StepAction.WRITE_RECORD.value)
        assert (await stack.alice.submit_view(RECORD)).field_errors == {}
        await stack.settle()
        # Two weeks after closing, the re-survey: she stayed, and scores it 4 out of 5.
        clock.advance(timedelta(days=14))
        assert await stack.tick() == 1
        await click(stack, FollowUpAction.RECORD_OUTCOME.value)
        answer = {"The customer…": "stayed_satisfied", "Satisfaction (1 = very unhappy, 5 = delighted)": "4"}
        assert (await stack.alice.submit_view(answer)).field_errors == {}
        await stack.settle()

        asked_before = len(stack.double.calls_to("users.info"))
        response = await carol.slash_command(Command.RECOVER.value, "export", channel_id=stack.support)
        assert response.status == 200
        await stack.settle()
        files = uploaded(stack)
        today = clock.now().date()
        label = f"{today - timedelta(days=29):%Y-%m-%d}_to_{today:%Y-%m-%d}"
        cases_csv, amends_csv = files[f"mend-cases-{label}.csv"], files[f"mend-amends-{label}.csv"]
        assert cases_csv.splitlines()[0] == ",".join(CASE_COLUMNS)
        assert amends_csv.splitlines()[0] == ",".join(AMENDS_COLUMNS)
        [case] = list(csv.DictReader(io.StringIO(cases_csv)))
        assert case["reference"] == "R-0001" and case["state"] == "closed"
        assert (case["reporter"], case["owner"]) == ("Alice Agent", "Alice Agent")
        assert (case["reporter_id"], case["owner_id"]) == (stack.alice.id, stack.alice.id)
        assert (case["category"], case["root_cause"]) == ("Delivery", "Billing error")  # labels, not keys
        assert case["lesson"] == RECORD["Lesson learned"]
        assert (case["satisfied_after_fix"], case["outcome"], case["satisfaction_score"]) == (
            "yes",
            "Stayed, and is satisfied",
            "4",
        )
        assert (case["minutes_to_acknowledge"], case["hours_to_resolve"]) == ("0", "24.0")
        [amends] = list(csv.DictReader(io.StringIO(amends_csv)))
        assert (amends["kind"], amends["offered"], amends["final"], amends["currency"]) == (
            "Refund",
            "120.00",
            "120.00",
            "EUR",
        )
        assert (amends["state"], amends["requester"], amends["decided_by"]) == (
            "approved",
            "Alice Agent",
            "Carol Lead",
        )
        assert (amends["requester_id"], amends["decided_by_id"]) == (stack.alice.id, carol.id)
        assert amends["hours_to_decide"] == "0.0"
        # Names come from users.info once per person for the export, however many columns name them.
        asked = [c.args.get("user") for c in stack.double.calls_to("users.info")[asked_before:]]
        assert sorted(asked) == sorted({stack.alice.id, carol.id})
        stack.double.assert_no_rejections()


async def test_an_export_still_arrives_when_slack_cannot_say_who_people_are(make: MakeStack) -> None:  # noqa: F811
    async with make() as stack:
        await stack.report_case()
        stack.double.faults.add("users.info", "server_error", times=None, status=500)
        carol = stack.people["carol"]
        await carol.slash_command(Command.RECOVER.value, "export", channel_id=stack.support)
        await stack.settle()
        [cases_csv] = [content for name, content in uploaded(stack).items() if name.startswith("mend-cases")]
        [case] = list(csv.DictReader(io.StringIO(cases_csv)))
        assert case["owner"] == "" and case["owner_id"] == stack.alice.id  # the id still says who


async def test_export_is_refused_to_non_approvers_and_bad_dates_are_explained(make: MakeStack) -> None:  # noqa: F811
    async with make() as stack:
        await stack.report_case()
        await stack.alice.slash_command(Command.RECOVER.value, "export", channel_id=stack.support)
        await stack.settle()
        assert uploaded(stack) == {}
        assert any("approvers only" in e.text for e in stack.double.ephemerals(user_id=stack.alice.id))
        carol = stack.people["carol"]
        bad = await carol.slash_command(Command.RECOVER.value, "export last-week", channel_id=stack.support)
        assert "YYYY-MM-DD" in str(bad.body)  # a plain-text ack: Slack shows it to her alone
        await stack.settle()
        assert uploaded(stack) == {}


async def run_app(*args: str, env: dict[str, str]) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "app.py"),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(proc.communicate(), 120)
    return int(proc.returncode or 0), output.decode()


async def test_admin_export_from_the_command_line(stack: Stack, database_url: str, tmp_path: Path) -> None:
    await stack.report_case()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}  # no Slack tokens needed
    env["DATABASE_URL"] = database_url
    code, output = await run_app(
        "export", "--from", "2026-01-01", "--to", "2026-12-31", "--out", str(tmp_path), env=env
    )
    assert code == 0, output
    path = tmp_path / "mend-cases-2026-01-01_to_2026-12-31.csv"
    cases = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert [c["reference"] for c in cases] == ["R-0001"] and cases[0]["customer_name"] == "Dana Cole"
    code, output = await run_app("export", "--from", "soon", env=env)
    assert code == 2 and "YYYY-MM-DD" in output and "Traceback" not in output
