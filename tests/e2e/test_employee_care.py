"""End to end: when a hard case closes, the agent's manager (or the approvers) is asked to check in with them."""

from __future__ import annotations

from pathlib import Path

from handlers.ids import StepAction
from tests.e2e.conftest import Stack
from tests.e2e.test_amends import MakeStack, with_approvers
from tests.e2e.test_playbook import click

RECORD = {
    "Root cause": "carrier_logistics",
    "What happened": "The parcel was left in the rain",
    "What fixed it": "A replacement by courier",
}


def check_ins(stack: Stack, person_id: str) -> list[str]:
    dm = stack.double.dm_channel_id(person_id)
    if dm is None:
        return []
    return [
        str(m.get("text"))
        for m in stack.double.messages(dm)
        if (m.get("metadata") or {}).get("event_type") == "mend_check_in"
    ]


async def close_with_record(stack: Stack, severity: str) -> None:
    await stack.report_case(severity=severity)
    await click(stack, StepAction.WRITE_RECORD.value, pick="latest")
    assert (await stack.alice.submit_view(RECORD)).field_errors == {}
    await stack.settle()


async def test_approvers_are_asked_after_a_severe_case_but_not_a_minor_one(
    make_stack: MakeStack, tmp_path: Path
) -> None:
    playbook = tmp_path / "one-step.toml"
    playbook.write_text('[[steps]]\nkey = "record"\n')
    async with make_stack(playbook_file=playbook, configure=with_approvers) as stack:
        await close_with_record(stack, "minor")
        carol, dave = stack.people["carol"], stack.people["dave"]
        assert check_ins(stack, carol.id) == [] and check_ins(stack, dave.id) == []
        await close_with_record(stack, "critical")
        [asked] = check_ins(stack, carol.id)
        assert f"<@{stack.alice.id}>" in asked and "R-0002" in asked
        assert "came to serious harm" in asked and "Serious harm /" not in asked and " case." not in asked
        assert len(check_ins(stack, dave.id)) == 1  # an approver through the user group
        assert check_ins(stack, stack.alice.id) == []


async def test_the_agents_own_manager_is_asked_when_configured(make_stack: MakeStack, tmp_path: Path) -> None:
    playbook = tmp_path / "one-step.toml"
    playbook.write_text('[[steps]]\nkey = "record"\n')
    async with make_stack(playbook_file=playbook, configure=with_approvers) as probe:
        alice_id, bob_id = probe.alice.id, probe.bob.id  # the double hands out the same ids every run
    managers = f"{alice_id}:{bob_id}"
    async with make_stack(playbook_file=playbook, configure=with_approvers, managers=managers) as stack:
        await close_with_record(stack, "major")
        [asked] = check_ins(stack, stack.bob.id)  # Bob manages Alice here
        assert "where the customer was badly let down and lost time or money." in asked
        assert "a badly let down" not in asked
        assert check_ins(stack, stack.people["carol"].id) == []
