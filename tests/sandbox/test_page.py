"""The page's static code checked against what Mend sends, without a browser."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BLOCKKIT_JS = ROOT / "sandbox" / "static" / "blockkit.js"
# Where Mend's Block Kit and texts are written (the seed data too: it goes through Mend's own services).
MEND_SOURCES = ("bot", "handlers", "sandbox")
# A Slack emoji shortcode: letters, digits, _ + -, with at least one letter (so "12:30:45" is not one).
SHORTCODE = re.compile(r":((?=[a-z0-9_+-]*[a-z])[a-z0-9_+-]+):")


def page_emoji() -> set[str]:
    table = re.search(r"const EMOJI = \{(.*?)\};", BLOCKKIT_JS.read_text(encoding="utf-8"), re.S)
    assert table is not None, "blockkit.js has no EMOJI table"
    return set(re.findall(r'"?([a-z0-9_+-]+)"?:\s*"', table.group(1)))


def test_every_emoji_mend_sends_is_one_the_page_shows() -> None:
    """An unknown shortcode shows as `:bar_chart:` text on the page, where Slack shows the emoji."""
    used: dict[str, str] = {}
    for package in MEND_SOURCES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in SHORTCODE.findall(path.read_text(encoding="utf-8")):
                used.setdefault(name, str(path.relative_to(ROOT)))
    assert "white_check_mark" in used  # the scan itself works
    missing = {name: where for name, where in used.items() if name not in page_emoji()}
    assert not missing, f"add these to EMOJI in sandbox/static/blockkit.js: {missing}"
