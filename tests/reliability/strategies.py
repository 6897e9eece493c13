"""Hypothesis strategies for what a hostile or broken client could put in a Slack payload."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

# Markup Slack would act on if Mend echoed it unescaped, and characters that break naive code.
INJECTIONS = (
    "<!channel>",
    "<!here|here>",
    "<!everyone>",
    "<@U0BOSS>",
    "<#C0SECRET|general>",
    "<https://evil.example|Open the case thread>",
    "<https://evil.example>",
    "<mailto:x@evil.example|x>",
    "*bold* _it_ ~strike~ `code` ```block```",
    "&lt;!channel&gt;",
    "&amp;&",
    "> quoted\n>> deeper",
    "\u202eevil\u202c",  # right-to-left override
    "\u200b\u200d\ufeff",  # zero-width and byte-order mark
    ":skull: :rotating_light:",
    "R-0001",
    "report",
    "help",
    "hepl",
    "../../etc/passwd",
    "'; DROP TABLE cases; --",
    "{{7*7}} ${7*7} %s %n",
    '{"c": "C1", "p": "https://x.slack.com/archives/C1/p1"}',
    "\r\n\r\n",
    "\t",
    "\x00",
    "\x1b[31m",
    "\ud7ff\ue000\U0010ffff",
    "\U0001f600\U0001f469\u200d\U0001f469\u200d\U0001f467",
)

# Every plane, control characters and NUL included; lone surrogates are excluded because no UTF-8
# transport (Slack's included) can carry them.
any_char = st.characters(exclude_categories=("Cs",))


def _big(unit: str, size_bytes: int) -> str:
    return unit * max(1, size_bytes // len(unit.encode()))


# Strings of about 3 kB to 100 kB (UTF-8), each built from one repeated unit.
big_text = st.builds(
    _big,
    st.sampled_from(["a", "é", "\U0001f600", "<", "&", "\n", " ", "\x00", "<!channel>", "\u202e"]),
    st.integers(min_value=3_000, max_value=100_000),
)

short_hostile_text = st.one_of(
    st.text(any_char, max_size=200),
    st.sampled_from(INJECTIONS),
    st.lists(st.one_of(st.sampled_from(INJECTIONS), st.text(any_char, max_size=20)), max_size=8).map("".join),
)
hostile_text = st.one_of(short_hostile_text, big_text)
# For form fields: mostly within the form's limits, so that many submissions are stored and rendered.
# Pasted text: thousands of short lines, within the form's 3000 characters.
many_lines = st.builds(
    lambda line, n: "\n".join([line] * n),
    st.sampled_from(["a", "<", "&", "> x", "•"]),
    st.sampled_from([1500, 1000, 600, 300, 100]),
)
field_text = st.one_of(
    st.text(any_char, min_size=1, max_size=150),
    many_lines,
    st.lists(st.sampled_from(INJECTIONS), min_size=1, max_size=4).map("".join),
    short_hostile_text,
    big_text,
)

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(any_char, max_size=30)
)
# JSON that is not what the payload promises: the wrong type at any depth.
any_json: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(any_char, max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
