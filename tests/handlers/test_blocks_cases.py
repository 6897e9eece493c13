"""Builder tests: the report modal and the case card stay within Block Kit's limits whatever is typed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.cases import Case, CaseConfig, CaseReport, CaseState, MessageRef, Severity
from bot.playbook import DEFAULT_STEPS
from handlers.blocks.cases import (
    ReportOrigin,
    blocks_payload,
    build_case_card,
    build_case_opened_notice,
    build_report_modal,
    build_thread_opening,
    build_unknown_command,
    case_card_text,
)
from handlers.blocks.text import escape_mrkdwn, safe_mrkdwn, shorten
from handlers.ids import ReportBlock
from tests.slack_payloads import mrkdwn_texts

CONFIG = CaseConfig()
HOSTILE = "<!channel> <!here> <!everyone> <@U0BOSS> <https://evil.example|your bank> & <#C1>"


def make_case(**report: object) -> Case:
    fields: dict[str, object] = {
        "customer_name": "Dana Cole",
        "summary": "Parcel never arrived",
        "severity": Severity.MAJOR,
        "category": "delivery",
    }
    fields.update(report)
    at = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    return Case(
        id=42,
        team_id="T1",
        report=CaseReport.model_validate(fields),
        state=CaseState.OPEN,
        reporter_user_id="U1",
        owner_user_id="U2",
        origin_channel_id="C1",
        card=MessageRef(channel_id="C1", ts="1.1"),
        thread_opened=False,
        created_at=at,
        updated_at=at,
    )


def all_text(payload: object) -> str:
    return json.dumps(payload, ensure_ascii=False)


def checked(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload after slack_sdk's full validation, as a fresh build would have had it."""
    assert View(**payload).to_dict() == payload
    return payload


def test_report_modal_payload_passes_full_validation_for_every_variant() -> None:
    link = "https://acme.slack.com/archives/C0123/p1700000000000100?thread_ts=1700000000.000100&cid=C0123"
    for summary in ("", "x" * 10_000, "<!channel> é 😀"):
        for origin in (
            None,
            ReportOrigin(channel_id="C0123"),
            ReportOrigin(channel_id="C0123", permalink=link),
        ):
            checked(build_report_modal(CONFIG, summary=summary, origin=origin))


def test_report_modal_copies_do_not_share_state() -> None:
    first = build_report_modal(CONFIG, summary="first")
    build_report_modal(CONFIG, summary="second")
    summary = next(b for b in first["blocks"] if b["block_id"] == ReportBlock.SUMMARY.value)
    assert summary["element"]["initial_value"] == "first"


def test_escape_neutralises_mentions_and_links() -> None:
    escaped = escape_mrkdwn(HOSTILE)
    assert "<" not in escaped and ">" not in escaped
    assert escaped.startswith("&lt;!channel&gt;") and "&amp; &lt;#C1&gt;" in escaped


def test_shorten_never_splits_an_entity() -> None:
    text = escape_mrkdwn("a" * 8 + "<")  # "aaaaaaaa&lt;"
    for limit in range(5, len(text) + 1):
        out = shorten(text, limit)
        assert len(out) <= limit
        assert not out.rstrip("…").endswith(("&", "&l", "&lt", "&a", "&am", "&amp", "&g", "&gt"))


def test_case_card_escapes_every_customer_field() -> None:
    case = make_case(
        customer_name=HOSTILE, customer_ref=HOSTILE, summary=HOSTILE, customer_words=HOSTILE, impact=HOSTILE
    )
    payload = blocks_payload(build_case_card(case, CONFIG))
    text = "\n".join(mrkdwn_texts(payload))
    for needle in ("<!channel>", "<!here>", "<!everyone>", "<@U0BOSS>", "<https://evil.example|"):
        assert needle not in text
    assert "<@U2>" in text and "<@U1>" in text  # Mend's own mentions stay live
    assert "R-0042" in all_text(payload)
    assert "<!channel>" not in case_card_text(case, CONFIG)


@pytest.mark.parametrize("size", [3000, 20_000])
def test_case_card_fits_block_kit_limits_for_huge_input(size: int) -> None:
    huge = ("é😀<&>" * size)[:size]
    case = make_case(customer_name=huge[:200], summary=huge, customer_words=huge, impact=huge)
    payload = blocks_payload(build_case_card(case, CONFIG))  # to_dict() raises on a broken limit
    for block in payload:
        text = block.get("text")
        if isinstance(text, dict):
            assert len(text["text"]) <= 3000
        for field in block.get("fields", []):
            assert len(field["text"]) <= 2000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
    assert len(payload) <= 50


def test_report_modal_has_every_field_and_prefill() -> None:
    view = build_report_modal(CONFIG, summary="Parcel lost", origin=ReportOrigin(channel_id="C1"))
    block_ids = [b.get("block_id") for b in view["blocks"]]  # type: ignore[union-attr]
    # The source line, and the open case with its choice, are shown only when they apply.
    conditional = {ReportBlock.SOURCE, ReportBlock.DUPLICATE, ReportBlock.DUPLICATE_CHOICE}
    for block in ReportBlock:
        if block not in conditional:
            assert block.value in block_ids
    summary = next(b for b in view["blocks"] if b["block_id"] == ReportBlock.SUMMARY.value)  # type: ignore[index,union-attr]
    assert summary["element"]["initial_value"] == "Parcel lost"
    assert len(view["title"]["text"]) <= 24  # type: ignore[index]
    assert json.loads(view["private_metadata"]) == {"c": "C1"}  # type: ignore[arg-type]


def test_report_modal_prefill_is_cut_to_the_input_limit() -> None:
    view = checked(build_report_modal(CONFIG, summary="x" * 10_000))
    summary = next(b for b in view["blocks"] if b["block_id"] == ReportBlock.SUMMARY.value)  # type: ignore[index,union-attr]
    assert len(summary["element"]["initial_value"]) <= 3000


def test_source_link_shown_only_for_slack_permalinks() -> None:
    good = "https://acme.slack.com/archives/C0123/p1700000000000100"
    view = checked(build_report_modal(CONFIG, origin=ReportOrigin(channel_id="C0123", permalink=good)))
    assert good in all_text(view)
    forged = "https://evil.example/x|click>"
    view = checked(build_report_modal(CONFIG, origin=ReportOrigin(channel_id="C0123", permalink=forged)))
    assert "evil.example" not in all_text(view)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "not json",
        "[]",
        "42",
        '{"c": ["x"]}',
        '{"c": "<!here>"}',
        '{"p": "javascript:alert(1)"}',
        "{" * 5000,
    ],
)
def test_private_metadata_is_read_defensively(raw: str) -> None:
    origin = ReportOrigin.from_metadata(raw)
    assert origin.channel_id is None and origin.permalink is None


def test_thread_opening_lists_the_playbook() -> None:
    text = all_text(blocks_payload(build_thread_opening(make_case(), DEFAULT_STEPS)))
    assert "R-0042" in text and "<@U2>" in text
    for step in DEFAULT_STEPS:
        assert step.title in text


def test_case_opened_notice_links_the_thread() -> None:
    link = "https://acme.slack.com/archives/C1/p1700000000000100"
    text, blocks = build_case_opened_notice(make_case(), link)
    assert link in text and "R-0042" in text
    text, _ = build_case_opened_notice(make_case(), "https://evil.example")
    assert "evil" not in text and "<#C1>" in text
    blocks_payload(blocks)


def test_unknown_command_offers_to_report_the_text() -> None:
    payload = blocks_payload(build_unknown_command("stats", "stats"))
    assert "`stats`" in all_text(payload)
    button = payload[-1]["elements"][0]  # type: ignore[index]
    assert button["value"] == "stats"


def test_safe_mrkdwn_limit() -> None:
    assert len(safe_mrkdwn("<" * 5000, 3000)) <= 3000


@pytest.mark.parametrize("line", ["a", "<", "> x"])
def test_customer_words_of_many_short_lines_fit_the_card(line: str) -> None:
    # Quoting adds ">" to every line: 1500 one-character lines used to make a 4,300-character section.
    case = make_case(customer_words="\n".join([line] * 1500))
    for block in build_case_card(case, CONFIG):
        block.to_dict()  # raises on any limit
    quoted = next(
        t for t in mrkdwn_texts([b.to_dict() for b in build_case_card(case, CONFIG)]) if "words" in t
    )
    assert len(quoted) <= 3000 and quoted.splitlines()[1].startswith(">")


def test_duplicate_modal_keeps_the_longest_report_and_passes_full_validation() -> None:
    from handlers.blocks.cases import build_duplicate_close_modal, build_duplicate_modal

    longest = CaseReport(
        customer_name="n" * 200,
        customer_ref="r" * 200,
        summary="s" * 3000,
        customer_words="w" * 3000,
        impact="i" * 3000,
        severity=Severity.CRITICAL,
        category="billing",
        source_permalink="https://acme.slack.com/archives/C0123/p1700000000000100",
    )
    open_case = make_case()
    origin = ReportOrigin(
        channel_id="C0123", permalink=longest.source_permalink, reply_ts="1700000000.000100", duplicate_of=7
    )
    view = checked(build_duplicate_modal(CONFIG, longest, open_case, origin, None))
    values = {b["block_id"]: b.get("element", {}) for b in view["blocks"]}  # type: ignore[union-attr]
    assert values[ReportBlock.IMPACT.value]["initial_value"] == "i" * 3000
    assert values[ReportBlock.SEVERITY.value]["initial_option"]["value"] == "critical"
    assert len(view["private_metadata"]) <= 3000  # type: ignore[arg-type]
    assert ReportOrigin.from_metadata(view["private_metadata"]) == origin
    checked(build_duplicate_close_modal(open_case))


def test_only_the_mention_helpers_write_slack_mentions() -> None:
    """`<@…>` and `<#…>` are written in one place (blocks/text.mention, channel_mention), which checks the id:
    a message built anywhere else from a stored or forged id could ping a channel or forge a link."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "handlers"
    raw = re.compile(r"<[@#]\{")
    found = [
        f"{path.relative_to(root)}:{n}"
        for path in sorted(root.rglob("*.py"))
        if path.name != "text.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if raw.search(line)
    ]
    assert found == []
