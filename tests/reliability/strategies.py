"""Hypothesis strategies for what a hostile or broken client could put in a Slack payload."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from bot.followups import SnoozeChoice

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


# ---- what a forged client puts where Mend's own refs travel --------------------------------------

_FAR = 10**6  # ids no test database reaches: a ref that has the right shape and names nothing

# Refs of every kind Mend writes (see handlers/blocks), right in shape but naming nothing.
near_miss_refs = st.one_of(
    st.builds(
        lambda n, s: json.dumps({"c": _FAR + n, "s": s}), st.integers(0, 99), st.sampled_from(["ack", ""])
    ),
    st.builds(lambda n, r: json.dumps({"f": _FAR + n, "r": r}), st.integers(0, 99), st.integers(0, 3)),
    st.builds(lambda n: json.dumps({"a": _FAR + n}), st.integers(0, 99)),
    # The right keys with the wrong types or out of range.
    st.sampled_from(
        [
            '{"c": "1", "s": "ack"}',
            '{"c": true, "s": "ack"}',
            '{"c": 1.0}',
            '{"c": -1}',
            '{"c": 9007199254740993}',
            '{"f": 0, "r": 0}',
            '{"f": 1, "r": -1}',
            '{"f": [1], "r": 0}',
            '{"a": null}',
            '{"a": {"a": 1}}',
            "[" * 1500 + "]" * 1500,
        ]
    ),
)
# A snooze menu's option value is "<choice>|<ref>".
snooze_values = st.builds(
    lambda choice, ref: f"{choice}|{ref}",
    st.one_of(st.sampled_from([c.value for c in SnoozeChoice]), short_hostile_text),
    st.one_of(near_miss_refs, short_hostile_text),
)
ref_values = st.one_of(near_miss_refs, snooze_values, hostile_text, any_json.map(json.dumps), any_json)


def input_elements(action_id_values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """One input's state in view.state.values, of any element type, with hostile contents."""
    return st.one_of(
        st.fixed_dictionaries(
            {"type": st.just("plain_text_input"), "value": st.one_of(field_text, st.none())}
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("static_select"),
                "selected_option": st.one_of(st.none(), st.fixed_dictionaries({"value": action_id_values})),
            }
        ),
        st.fixed_dictionaries({"type": st.just("users_select"), "selected_user": action_id_values}),
        st.fixed_dictionaries(
            {"type": st.just("datepicker"), "selected_date": st.one_of(st.dates().map(str), action_id_values)}
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("timepicker"),
                "selected_time": st.one_of(st.times().map(lambda t: t.strftime("%H:%M")), action_id_values),
            }
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("checkboxes"),
                "selected_options": st.lists(st.fixed_dictionaries({"value": action_id_values}), max_size=3),
            }
        ),
        any_json,
    )
