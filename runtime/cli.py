"""The command line (`python app.py`, `python -m runtime`): serve Mend, export CSV files, or try the sandbox."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from app import build, build_export
from bot.errors import MendError
from bot.export import ExportFile, write_files
from runtime.logs import configure_logging
from runtime.server import serve
from settings import SettingsError, load_database_settings, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run Mend, the service-recovery Slack app.")
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="try Mend without Slack: a stand-in workspace and a page at http://localhost:PORT/sandbox",
    )
    parser.add_argument("--seed", action="store_true", help="with --sandbox: start with three weeks of cases")
    parser.add_argument(
        "--start",
        metavar="WHEN",
        help="with --sandbox: when its clock starts, e.g. 2026-03-02 (09:00 that day) or 2026-03-02T14:30 "
        "(the personas' zone, Europe/London; default: the next weekday 09:00, or today's if a weekday morning)",
    )
    parser.add_argument("--port", type=int, help="HTTP port (default: the PORT setting, 3000)")
    parser.add_argument("--host", default="127.0.0.1", help="with --sandbox: address to serve on")
    commands = parser.add_subparsers(dest="command")
    export = commands.add_parser(
        "export", help="write CSV files of cases and amends (needs only DATABASE_URL)"
    )
    export.add_argument("--from", dest="first", help="first day, YYYY-MM-DD (default: 30 days ago)")
    export.add_argument("--to", dest="last", help="last day, YYYY-MM-DD (default: today)")
    export.add_argument("--team", help="a Slack team id (default: every workspace)")
    export.add_argument("--out", default=".", help="folder to write the files to (default: here)")
    args = parser.parse_args(argv)
    if args.command == "export":
        return run_export(args.first, args.last, args.team, Path(args.out))
    if args.seed and not args.sandbox:
        parser.error("--seed only works with --sandbox")
    if args.start is not None and not args.sandbox:
        parser.error("--start only works with --sandbox")
    if args.sandbox:
        # The one place the product reaches for its sandbox, and only when asked to: the sandbox composes
        # Mend against the Slack double, so it sits above the composition root (see pyproject's contracts).
        from sandbox.run import run_sandbox

        return run_sandbox(host=args.host, port=args.port, seed=args.seed, start=args.start)
    try:
        settings = load_settings(**({} if args.port is None else {"port": args.port}))
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format, settings.secrets())
    asyncio.run(serve(build(settings)))
    return 0


def run_export(first: str | None, last: str | None, team: str | None, out: Path) -> int:
    """The admin's export: the same files `/recover export` sends, written to a folder."""
    if last and not first:
        print("--to needs --from as well.", file=sys.stderr)
        return 2
    try:
        settings = load_database_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format, settings.secrets())

    dates = " ".join(d for d in (first, last) if d)

    async def export() -> list[ExportFile]:
        db, exports = build_export(settings)
        try:
            return await exports.export(team_id=team, export_range=exports.parse(dates))
        finally:
            await db.dispose()

    try:
        files = asyncio.run(export())
    except MendError as exc:
        print(exc.user_message, file=sys.stderr)
        return 2
    for path in write_files(files, out):
        print(path)
    return 0
