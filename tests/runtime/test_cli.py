"""The command line: the export needs only DATABASE_URL; a bad setting is a message and exit code 2."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from runtime.cli import main
from storage.db import Database
from storage.migrate import upgrade_to_head


@pytest.fixture(autouse=True)
def only_these_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("SLACK_", "DATABASE_URL", "LOG_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


async def migrate(url: str) -> None:
    db = Database(url)
    try:
        await upgrade_to_head(db)
    finally:
        await db.dispose()


def test_export_runs_with_only_database_url_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'mend.db'}"
    asyncio.run(migrate(url))
    monkeypatch.setenv("DATABASE_URL", url)

    code = main(["export", "--from", "2026-01-01", "--to", "2026-01-31", "--out", str(tmp_path / "out")])

    written = capsys.readouterr()
    assert code == 0, written.err
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == ["mend-amends-2026-01-01_to_2026-01-31.csv", "mend-cases-2026-01-01_to_2026-01-31.csv"]
    assert sorted(written.out.split()) == [str(tmp_path / "out" / name) for name in files]


def test_export_names_a_bad_database_or_log_setting_and_not_the_slack_ones(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://db.example/mend")
    monkeypatch.setenv("LOG_FORMAT", "yaml")

    assert main(["export"]) == 2

    err = capsys.readouterr().err
    assert "DATABASE_URL must be an sqlite:// or postgresql:// URL" in err and "LOG_FORMAT" in err
    assert "SLACK" not in err and "Traceback" not in err


def test_to_without_from_is_explained(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--to", "2026-01-31"]) == 2
    assert "--to needs --from as well." in capsys.readouterr().err
