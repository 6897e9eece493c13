"""Service tests for guiding a case, on in-memory fakes: the rules, and sync drawing only what changed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.cases import CaseConfig, CaseReport, MessageRef, NewCase, Severity, categories_from_labels
from bot.clock import FrozenClock
from bot.errors import InvalidInput, MendError, NotAllowed
from bot.permissions import CaseEditors
from bot.playbook import DEFAULT_STEPS, StepStatus
from bot.recovery import ApologyNeedsForm, CaseClosed, RecoveryService, StepAlreadyFinished
from tests.fakes import InMemoryCaseRepository, InMemoryRecoveryRepository, RecordingRecoveryNotifier

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
ROOT_CAUSES = categories_from_labels(["Carrier / logistics", "Other"])
GOOD = (
    "Hi Dana, I'm sorry we let you down: your parcel arrived crushed two days late. I understand how "
    "frustrating that is. I've sent a replacement by express and it will arrive by noon tomorrow."
)


@pytest.fixture
async def world() -> tuple[RecoveryService, InMemoryRecoveryRepository, RecordingRecoveryNotifier, int]:
    cases = InMemoryCaseRepository()
    case, _ = await cases.add(
        NewCase(
            team_id="T1",
            report=CaseReport(
                customer_name="Dana",
                summary="Parcel arrived crushed two days late",
                severity=Severity.MAJOR,
                category="delivery",
            ),
            reporter_user_id="U1",
            origin_channel_id="C1",
            report_key=None,
            at=NOW,
        )
    )
    await cases.record_card(case.id, MessageRef(channel_id="C1", ts="1.1"), NOW)
    await cases.record_thread_opened(case.id, NOW)
    repo = InMemoryRecoveryRepository(cases)
    repo.start(case, DEFAULT_STEPS)
    notifier = RecordingRecoveryNotifier()
    service = RecoveryService(repo, notifier, FrozenClock(NOW), CaseConfig(), ROOT_CAUSES)
    return service, repo, notifier, case.id


World = tuple[RecoveryService, InMemoryRecoveryRepository, RecordingRecoveryNotifier, int]


async def status(repo: InMemoryRecoveryRepository, case_id: int, key: str) -> StepStatus:
    loaded = await repo.load(case_id)
    assert loaded is not None
    return next(s for s in loaded[1] if s.key == key).status


async def test_sync_posts_the_current_prompt_once_and_the_card_while_it_lags(world: World) -> None:
    service, _repo, notifier, case_id = world
    await service.sync(case_id)
    await service.sync(case_id)
    assert notifier.prompts == ["apologize"] and notifier.cards == ["0/8"]
    with pytest.raises(ApologyNeedsForm):  # Done on the apology opens its form; it records nothing alone
        await service.complete_step(case_id, "apologize", actor_user_id="U1", team_id="T1")
    assert await status(_repo, case_id, "apologize") is StepStatus.PENDING
    await service.send_apology(case_id, actor_user_id="U1", team_id="T1", draft=GOOD, override=False)
    await service.sync(case_id)
    await service.sync(case_id)
    assert notifier.prompts == ["apologize", "listen"]
    assert notifier.redraws == [("apologize", StepStatus.DONE)]
    assert notifier.cards == ["0/8", "1/8"]


async def test_a_finished_step_cannot_be_finished_again(world: World) -> None:
    service, _repo, _notifier, case_id = world
    await service.complete_step(case_id, "listen", actor_user_id="U1", team_id="T1")
    with pytest.raises(StepAlreadyFinished, match="already done by someone") as told:
        await service.complete_step(case_id, "listen", actor_user_id="U2", team_id="T1")
    # The domain names who did it; how a person is shown is the edge's to say.
    assert "already done by [U1]" in told.value.render(lambda user_id: f"[{user_id}]")
    with pytest.raises(StepAlreadyFinished):
        await service.skip_step(case_id, "listen", actor_user_id="U2", team_id="T1", reason="x")


async def test_required_steps_need_a_reason_to_be_skipped(
    world: World,
) -> None:
    service, repo, _notifier, case_id = world
    with pytest.raises(InvalidInput) as info:
        await service.skip_step(case_id, "fix", actor_user_id="U1", team_id="T1", reason="   ")
    assert info.value.field == "reason"
    await service.skip_step(case_id, "amends", actor_user_id="U1", team_id="T1", reason=None)
    assert await status(repo, case_id, "amends") is StepStatus.SKIPPED


async def test_another_workspace_is_refused(world: World) -> None:
    service, repo, _notifier, case_id = world
    with pytest.raises(NotAllowed):
        await service.complete_step(case_id, "listen", actor_user_id="U9", team_id="T2")
    assert await status(repo, case_id, "listen") is StepStatus.PENDING


async def test_apology_is_coached_then_recorded(world: World) -> None:
    service, repo, _notifier, case_id = world
    with pytest.raises(InvalidInput) as info:
        await service.send_apology(
            case_id, actor_user_id="U1", team_id="T1", draft="Sorry if you feel upset.", override=False
        )
    assert info.value.field == "draft"
    with pytest.raises(InvalidInput, match=r"\[day and time\]"):
        await service.send_apology(
            case_id, actor_user_id="U1", team_id="T1", draft="I'm sorry, by [day and time].", override=True
        )
    review = await service.send_apology(case_id, actor_user_id="U1", team_id="T1", draft=GOOD, override=False)
    assert review.accepted
    assert await status(repo, case_id, "apologize") is StepStatus.DONE
    [event] = [e for e in repo.cases.event_log if e.kind == "apology_sent"]
    assert event.data["override"] is False


async def test_ownership_and_root_cause_update_the_case(world: World) -> None:
    service, repo, _notifier, case_id = world
    await service.take_ownership(case_id, actor_user_id="U1", team_id="T1", owner_user_id="U7")
    with pytest.raises(InvalidInput) as info:
        await service.record_root_cause(
            case_id, actor_user_id="U1", team_id="T1", category="weather", details="x"
        )
    assert info.value.field == "category"
    await service.record_root_cause(
        case_id, actor_user_id="U1", team_id="T1", category="carrier_logistics", details="Van"
    )
    case = repo.cases.cases[case_id]
    assert case.owner_user_id == "U7" and case.root_cause_category == "carrier_logistics"


async def test_close_needs_every_required_step_then_happens_once(world: World) -> None:
    service, _repo, notifier, case_id = world
    with pytest.raises(MendError, match="can't be closed yet"):
        await service.close_case(case_id, actor_user_id="U1", team_id="T1")
    await service.send_apology(case_id, actor_user_id="U1", team_id="T1", draft=GOOD, override=False)
    for step in DEFAULT_STEPS[1:]:
        if step.required:
            await service.complete_step(case_id, step.key, actor_user_id="U1", team_id="T1")
    await service.close_case(case_id, actor_user_id="U1", team_id="T1")
    await service.sync(case_id)
    await service.sync(case_id)
    assert notifier.closed == [case_id]  # one summary, however often Slack is synced
    with pytest.raises(CaseClosed):
        await service.close_case(case_id, actor_user_id="U1", team_id="T1")
    with pytest.raises(CaseClosed):
        await service.skip_step(case_id, "amends", actor_user_id="U1", team_id="T1", reason=None)


async def test_with_a_guard_a_stranger_neither_closes_skips_reopens_nor_reassigns(world: World) -> None:
    service, repo, _notifier, case_id = world

    async def is_approver(user_id: str) -> bool:
        return user_id == "U9"

    service.guard(CaseEditors(), is_approver)
    await service.send_apology(case_id, actor_user_id="U1", team_id="T1", draft=GOOD, override=False)
    for key in ("listen", "own", "root_cause", "fix", "amends", "follow_up", "record"):
        await service.complete_step(case_id, key, actor_user_id="U1", team_id="T1")  # U1 reported it
    with pytest.raises(NotAllowed, match="Only the case owner <@U1>, the reporter or an approver can close"):
        await service.close_case(case_id, actor_user_id="U2", team_id="T1")
    await service.close_case(case_id, actor_user_id="U9", team_id="T1")  # an approver may
    with pytest.raises(NotAllowed, match="can reopen R-0001"):
        await service.reopen_case(case_id, actor_user_id="U2", team_id="T1", reason="Not happy")
    await service.reopen_case(case_id, actor_user_id="U1", team_id="T1", reason="Not happy")
    refused = [
        (e.kind, e.actor_user_id, e.data)
        for e in await repo.cases.events(case_id)
        if e.kind.endswith("refused")
    ]
    assert refused == [
        ("case_change_refused", "U2", {"change": "close"}),
        ("case_change_refused", "U2", {"change": "reopen"}),
    ]


async def test_with_a_guard_a_required_step_is_skipped_and_the_case_reassigned_by_editors_only(
    world: World,
) -> None:
    service, repo, _notifier, case_id = world

    async def nobody(_user_id: str) -> bool:
        return False

    service.guard(CaseEditors(), nobody)
    with pytest.raises(NotAllowed, match="can skip a required step of R-0001"):
        await service.skip_step(case_id, "apologize", actor_user_id="U2", team_id="T1", reason="no")
    await service.skip_step(case_id, "amends", actor_user_id="U2", team_id="T1", reason=None)  # optional
    with pytest.raises(NotAllowed, match="can reassign R-0001"):
        await service.take_ownership(case_id, actor_user_id="U2", team_id="T1", owner_user_id="U3")
    assert await status(repo, case_id, "own") is StepStatus.PENDING
    await service.take_ownership(case_id, actor_user_id="U2", team_id="T1")  # taking it oneself
    assert repo.cases.cases[case_id].owner_user_id == "U2"
