"""Keeps credentials out of logs: a filter for every log handler, whatever library wrote the record.

Bolt logs the whole body of a request whose signature fails (with Slack's legacy verification `token`
in it), slack_sdk logs request arguments at DEBUG, and exception texts can quote anything. Rather than
trusting each library, every record is redacted on its way out.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "(redacted)"
_PATTERNS = (
    re.compile(r"\b(xox[abeoprs]|xapp)-[A-Za-z0-9-]+"),  # Slack tokens of every kind
    re.compile(r"(?<=[?&\s]token=)[^&\s'\"]+|(?<=^token=)[^&\s'\"]+"),  # form-encoded token=...
    re.compile(r"(?<=[\"']token[\"']: [\"'])[^\"']+"),  # token in a dict or JSON
    re.compile(r"(?i)(?<=[\"']authorization[\"']: [\"'])(?!\(redacted\))[^\"']+"),
)
# Interactions arrive as `payload=` + URL-encoded JSON: `%22token%22%3A+%22abc%22` is `"token": "abc"`.
_ENCODED_TOKEN = re.compile(r"(?i)(%22token%22(?:%3A|:)(?:\+|%20)*%22)[^%&\s\"']+")


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        for pattern in _PATTERNS:
            text = pattern.sub(REDACTED, text)
        return _ENCODED_TOKEN.sub(r"\1" + REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def redact_logs(secrets: Iterable[str]) -> RedactSecrets:
    """Install the filter on every handler of the root logger (call after logging is configured)."""
    redaction = RedactSecrets(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redaction)
    return redaction
