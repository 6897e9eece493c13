"""A new kind of case follow-up, or a new step role, touches three files: its value in the enum, its rules
(bot/) and its blocks (handlers/blocks/). These tests hold that claim: both tables cover every member, they
agree on the buttons, and no other module decides anything by comparing a member or keying a table of its
own by one, so nothing else has to learn about a new one. The worked examples:
docs/followups.md#adding-a-kind and docs/playbook.md#adding-a-step-action."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.followups import CASE_KIND_RULES, CASE_KINDS, FollowUpKind, NudgeAction
from bot.playbook import StepRole
from bot.step_roles import STEP_ROLE_RULES
from handlers.blocks.case_kinds import BUTTON_ACTIONS, CASE_KIND_BLOCKS
from handlers.blocks.step_roles import STEP_ROLE_BLOCKS
from handlers.ids import AmendsAction, FollowUpAction, StepAction

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("bot", "handlers", "storage", "runtime", "sandbox")

#: The enums whose members are dispatched on, and the only modules that may dispatch on them.
SPEC_TABLES = {
    "FollowUpKind": {"bot/followups/case_kinds.py", "handlers/blocks/case_kinds.py"},
    # A follow-up kind's rules may name the role whose step schedules it (the fix: "Is the customer satisfied?").
    "StepRole": {"bot/step_roles.py", "handlers/blocks/step_roles.py", "bot/followups/case_kinds.py"},
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


def test_every_step_role_has_its_rules_and_its_blocks() -> None:
    assert set(STEP_ROLE_RULES) == set(StepRole), "a step role without rules in bot/step_roles.py"
    assert set(STEP_ROLE_BLOCKS) == set(StepRole), (
        "a step role without blocks in handlers/blocks/step_roles.py"
    )


@pytest.mark.parametrize("role", list(StepRole))
def test_a_roles_buttons_are_handled_and_fit_on_its_prompt(role: StepRole) -> None:
    """At most two of its own (the prompt adds a promise, Done and Skip: five in all), each one of Mend's
    action ids and none the prompt has already (Slack refuses a block with an action id twice)."""
    handled = {*StepAction, *AmendsAction, *FollowUpAction}
    every_prompts = {FollowUpAction.RECORD_PROMISE, StepAction.DONE, StepAction.SKIP}
    own = [action for action, _label in STEP_ROLE_BLOCKS[role].buttons]
    assert len(own) <= 2 and len(set(own)) == len(own)
    assert set(own) <= handled - every_prompts


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
