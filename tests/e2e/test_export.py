"""End to end: `/recover export` sends approvers CSV files through Slack's file upload; others are refused."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from handlers.ids import Command
from tests.e2e.conftest import Stack
from tests.e2e.test_amends import MakeStack, make, offer  # noqa: F401 - `make` is a fixture

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
        assert [(a["case"], a["offered"], a["state"]) for a in amends] == [("R-0001", "€120.00", "pending")]
        # The files landed in Carol's DM with Mend, and she was told where.
        dm = stack.double.dm_channel_id(carol.id)
        assert dm is not None and any(
            "Your Mend export" in str(m.get("text")) for m in stack.double.messages(dm)
        )
        # Carol isn't in #support, so the "it's in your DM" notice comes to the DM too.
        told = [e.text for e in stack.double.ephemerals(user_id=carol.id)]
        told += [str(m.get("text")) for m in stack.double.messages(dm)]
        assert any("in your DM" in t for t in told)


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
