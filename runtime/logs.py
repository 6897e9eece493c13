"""Logging for a Mend process: text for people or JSON lines for log pipelines, secrets redacted, no tick noise."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO, Literal

from pythonjsonlogger.json import JsonFormatter

from handlers.redaction import RedactSecrets

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# APScheduler logs "Running job ..." and "Job ... executed successfully" at INFO on every run: with the
# follow-up poller ticking every 2 s, two lines every two seconds per process, burying everything else.
# Its warnings (a run missed, a job that crashed) still show.
QUIET_LOGGERS = {"apscheduler": logging.WARNING}


class JsonLines(JsonFormatter):
    """One JSON object a line: time (ISO 8601, UTC), level, logger, message and exc_info (the traceback text)."""

    def __init__(self) -> None:
        super().__init__(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and record.exc_text:
            # RedactSecrets has rendered the traceback into exc_text with the secrets taken out; the library
            # would render exc_info afresh, secrets and all, so it gets a copy without exc_info to use that.
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None})
        return super().format(record)


def configure_logging(
    level: str = "INFO",
    log_format: Literal["text", "json"] = "text",
    secrets: Iterable[str] = (),
    *,
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Send every record at `level` or above to `stream` (stderr), redacted; returns the handler installed."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(quiet)
    return handler
