"""Logging is process-wide: each runtime test gets it back as it found it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from runtime.logs import QUIET_LOGGERS


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    for name in QUIET_LOGGERS:  # as a fresh process has them, whatever ran before
        logging.getLogger(name).setLevel(logging.NOTSET)
    yield
    for handler in set(root.handlers) - set(handlers):
        root.removeHandler(handler)
    root.setLevel(level)
    for name, was in quiet.items():
        logging.getLogger(name).setLevel(was)
