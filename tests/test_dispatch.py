"""A new kind of case follow-up touches three files: its value in the enum, its rules (bot/) and its blocks
(handlers/blocks/). These tests hold that claim: both tables cover every kind, they agree on the buttons,
and no other module decides anything by comparing a kind or keying a table of its own by one, so nothing
else has to learn about a new kind. docs/followups.md#adding-a-kind is the worked example."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.followups import CASE_KIND_RULES, CASE_KINDS, FollowUpKind, NudgeAction
from handlers.blocks.case_kinds import BUTTON_ACTIONS, CASE_KIND_BLOCKS

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("bot", "handlers", "storage", "runtime", "sandbox")

#: The enums whose members are dispatched on, and the only modules that may dispatch on them.
SPEC_TABLES = {
    "FollowUpKind": {"bot/followups/case_kinds.py", "handlers/blocks/case_kinds.py"},
}


def test_every_case_kind_has_its_rules_and_its_blocks() -> None:
    kinds = {k for k in FollowUpKind if k is not FollowUpKind.NOTICE}  # the outbox is not a case kind
    assert set(CASE_KIND_RULES) == kinds, "a case kind without rules in bot/followups/case_kinds.py"
    assert set(CASE_KIND_BLOCKS) == kinds, "a case kind without blocks in handlers/blocks/case_kinds.py"
    assert kinds == CASE_KINDS


@pytest.mark.parametrize("kind", sorted(CASE_KIND_RULES))
def test_a_kinds_buttons_are_what_its_rules_accept(kind: str) -> None:
    """Each button does something the kind's rules allow, and everything they allow has a control (Snooze
    and Reassign are added for every kind that accepts them)."""
    offered = {BUTTON_ACTIONS[action] for action, _label in CASE_KIND_BLOCKS[kind].buttons}
    accepts = CASE_KIND_RULES[kind].accepts
    assert offered <= accepts
    assert accepts - {NudgeAction.SNOOZE, NudgeAction.REASSIGN} <= offered


def _python_files() -> Iterator[Path]:
    for package in PRODUCT:
        yield from sorted((ROOT / package).rglob("*.py"))
    yield ROOT / "app.py"


def _members(node: ast.AST) -> Iterator[str]:
    """`Enum.MEMBER` operands, also inside a tuple, list or set (`kind in (A.X, A.Y)`)."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in SPEC_TABLES:
        yield node.value.id
    elif isinstance(node, ast.Tuple | ast.List | ast.Set):
        for element in node.elts:
            yield from _members(element)


def dispatch_sites() -> list[tuple[str, int, str]]:
    """Every comparison with an enum member, and every dict keyed by one, outside that enum's spec tables."""
    found = []
    for path in _python_files():
        where = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            operands: list[ast.AST] = []
            if isinstance(node, ast.Compare):
                operands = [node.left, *node.comparators]
            elif isinstance(node, ast.Dict):
                operands = [k for k in node.keys if k is not None]
            elif isinstance(node, ast.MatchValue):
                operands = [node.value]
            for operand in operands:
                for enum in _members(operand):
                    if where not in SPEC_TABLES[enum]:
                        found.append((where, getattr(node, "lineno", 0), enum))
    return found


def test_only_the_spec_tables_dispatch_on_a_kind() -> None:
    assert dispatch_sites() == []


def test_the_scan_sees_an_if_chain() -> None:
    chain = ast.parse(
        "if item.kind == FollowUpKind.RESURVEY or kind in (FollowUpKind.A, FollowUpKind.B): pass"
    )
    compares = [n for n in ast.walk(chain) if isinstance(n, ast.Compare)]
    assert [m for c in compares for o in [c.left, *c.comparators] for m in _members(o)] == [
        "FollowUpKind"
    ] * 3
