"""Every modal, built from the shared fields: the ids its listener reads, what a person sees, Slack's limits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.amends import (
    DEFAULT_POLICY,
    Amends,
    AmendsKind,
    AmendsState,
    Decision,
    Guarantee,
    Money,
    OfferContext,
)
from bot.cases import Category
from bot.followups import FollowUp, FollowUpKind, FollowUpState, Promise, PromiseState
from bot.learning import RecurrenceAlert, RecurringCase
from bot.playbook import DEFAULT_STEPS, CaseStep, StepRole, progress_of
from handlers.blocks import amends, followups, learning, recovery
from handlers.blocks.amends import AmendsRef
from handlers.blocks.case_kinds import Nudge
from handlers.blocks.followups import FollowUpRef
from handlers.blocks.recovery import StepRef
from tests.handlers.test_blocks_cases import HOSTILE, make_case
from tests.slack_payloads import LIVE_MARKUP, mrkdwn_texts

AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
LONG = (HOSTILE + " ") * 200
CASE = make_case(customer_name=LONG, summary=LONG, customer_words=LONG, impact=LONG)
STEP = CaseStep(case_id=CASE.id, position=0, step=DEFAULT_STEPS[0])
ALL_STEPS = [CaseStep(case_id=CASE.id, position=i, step=s) for i, s in enumerate(DEFAULT_STEPS)]
CAUSES = [Category(key="carrier", label="Carrier <lost> parcel"), Category(key="stock", label="Stock")]
AMENDS = Amends(
    id=5,
    case_id=CASE.id,
    team_id="T1",
    customer_key="k",
    kind=AmendsKind.REFUND,
    offered=Money(minor=2500, currency="EUR"),
    value=Money(minor=2500, currency="EUR"),
    justification=LONG,
    requester_user_id="U1",
    state=AmendsState.PENDING,
    requested_at=AT,
)
ALERT = RecurrenceAlert(
    id=3,
    team_id="T1",
    category="carrier",
    cases=(RecurringCase(case_id=1, reference="R-1", customer=LONG),),
    window=timedelta(days=7),
    created_at=AT,
)


def offer_context(guarantee: bool) -> OfferContext:
    return OfferContext(
        case=CASE,
        step_key="amends",
        guidance=DEFAULT_POLICY.guidance[CASE.report.severity],
        policy=DEFAULT_POLICY,
        history=(),
        month_spend=Money(minor=100, currency="EUR"),
        guarantee=Guarantee(
            category="delivery",
            title=LONG[:150],
            kind=AmendsKind.CREDIT,
            remedy=Money(minor=1000, currency="EUR"),
        )
        if guarantee
        else None,
    )


TODAY = date(2026, 11, 24)
STEP_REF = StepRef(CASE.id, STEP.key).encode()
FOLLOW_UP_REF = FollowUpRef(7, 2)

# builder, callback_id, title, submit, the input block_ids in order, the private_metadata
MODALS: dict[str, tuple[Callable[[], View], str, str, str | None, list[str], str | None]] = {
    "skip": (lambda: recovery.build_skip_modal(CASE, STEP), "step_skip", "Skip a step", "Skip step",
             ["skip_reason"], STEP_REF),
    "apology": (lambda: recovery.build_apology_modal(CASE, STEP), "step_apology", "Draft the apology",
                "Check and record", ["apology_draft", "apology_override"], STEP_REF),
    "apology redrawn": (lambda: recovery.build_apology_modal(CASE, STEP, draft=LONG, version=2), "step_apology",
                        "Draft the apology", "Check and record", ["apology_draft_2", "apology_override"],
                        StepRef(CASE.id, STEP.key, 2).encode()),
    "assign owner": (lambda: recovery.build_assign_owner_modal(CASE, STEP, "U2"), "step_assign_owner",
                     "Assign an owner", "Assign", ["owner"], STEP_REF),
    "root cause": (lambda: recovery.build_root_cause_modal(CASE, STEP, CAUSES), "step_root_cause",
                   "Record the root cause", "Record", ["root_cause_category", "root_cause_details"], STEP_REF),
    "record": (lambda: recovery.build_record_modal(CASE, "record", CAUSES), "case_record", "Write the record",
               "Save record", ["record_root_cause", "record_what_happened", "record_what_fixed",
                               "record_prevention", "record_process_owner", "record_lesson"],
               StepRef(CASE.id, "record").encode()),
    "reopen": (lambda: recovery.build_reopen_modal(CASE, ALL_STEPS, ["fix", "record"]), "case_reopen",
               "Reopen the case", "Reopen", ["reopen_reason", "reopen_steps"], StepRef(CASE.id, "").encode()),
    "promise": (lambda: followups.build_promise_modal(CASE, STEP, today=TODAY, tz_label="Europe/Paris"),
                "step_promise", "Record a promise", "Record", ["promise_text", "followup_date", "followup_time"],
                STEP_REF),
    "schedule": (lambda: followups.build_schedule_modal(CASE, STEP, today=TODAY, tz_label="UTC"),
                 "step_schedule_follow_up", "Schedule follow-up", "Schedule",
                 ["followup_date", "followup_time", "followup_note"], STEP_REF),
    "snooze": (lambda: followups.build_snooze_modal(FOLLOW_UP_REF, today=TODAY, tz_label="UTC"), "followup_snooze",
               "Snooze until…", "Snooze", ["followup_date", "followup_time"], FOLLOW_UP_REF.encode()),
    "reassign": (lambda: followups.build_reassign_modal(FOLLOW_UP_REF, None), "followup_reassign", "Reassign",
                 "Reassign", ["followup_assignee"], FOLLOW_UP_REF.encode()),
    "resurvey": (lambda: followups.build_resurvey_modal(FOLLOW_UP_REF, CASE), "followup_resurvey",
                 "Did the recovery work?", "Record", ["resurvey_outcome", "resurvey_score"],
                 FOLLOW_UP_REF.encode()),
    "offer": (lambda: amends.build_offer_modal(offer_context(guarantee=True)), "amends_offer", "Offer amends",
              "Offer", ["amends_kind", "amends_amount", "amends_justification", "amends_customer_cost",
                        "amends_approver"], StepRef(CASE.id, "amends").encode()),
    "adjust": (lambda: amends.build_decision_modal(AMENDS, CASE, Decision.ADJUST), "amends_adjust",
               "Adjust amends", "Adjust", ["amends_new_amount", "amends_reason"], AmendsRef(5).encode()),
    "reject": (lambda: amends.build_decision_modal(AMENDS, CASE, Decision.REJECT), "amends_reject",
               "Reject amends", "Reject", ["amends_reason"], AmendsRef(5).encode()),
    "guarantee done": (lambda: amends.build_guarantee_done(AMENDS, CASE), "amends_guarantee_done",
                       "Guarantee invoked", None, [], None),
    "process fix": (lambda: learning.build_process_fix_modal(ALERT, LONG[:200]), "process_fix",
                    "Create a process fix", "Create", ["fix_description", "fix_owner", "fix_due"],
                    learning.encode_alert(3)),
}  # fmt: skip


def inputs(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in view["blocks"] if b["type"] == "input"]


@pytest.mark.parametrize("name", MODALS)
def test_each_modal_keeps_its_ids_words_and_limits(name: str) -> None:
    build, callback_id, title, submit, block_ids, metadata = MODALS[name]
    view = build().to_dict()  # slack_sdk checks every Block Kit limit here, with the longest hostile text
    assert view["type"] == "modal" and view["callback_id"] == callback_id
    assert view["title"]["text"] == title
    assert (view.get("submit") or {}).get("text") == submit
    assert view["close"]["text"] == ("Done" if submit is None else "Cancel")
    assert view.get("private_metadata") == metadata
    assert [b["block_id"] for b in inputs(view)] == block_ids
    for block in inputs(view):
        # A listener reads state.values[block_id][action_id]; a redrawn block keeps the field's action_id.
        assert block["element"]["action_id"] == block["block_id"].removesuffix("_2") + "_input"
    assert not [m for m in LIVE_MARKUP for text in mrkdwn_texts(view) if m in text]


@pytest.mark.parametrize("name", ["skip", "apology", "root cause", "record", "reopen", "resurvey", "offer"])
def test_a_case_modal_opens_with_the_case_reference(name: str) -> None:
    first = MODALS[name][0]().to_dict()["blocks"][0]
    assert first["type"] == "section" and first["text"]["text"].startswith(f"*{CASE.reference}* · ")


def test_required_and_optional_inputs() -> None:
    def optional(name: str) -> dict[str, bool]:
        return {b["block_id"]: b.get("optional", False) for b in inputs(MODALS[name][0]().to_dict())}

    assert optional("record") == {
        "record_root_cause": False,
        "record_what_happened": False,
        "record_what_fixed": False,
        "record_prevention": True,
        "record_process_owner": True,
        "record_lesson": True,
    }
    # A required step needs a reason to be skipped; an optional one does not.
    assert optional("skip") == {"skip_reason": False}
    relaxed = STEP.model_copy(update={"step": STEP.step.model_copy(update={"required": False})})
    assert inputs(recovery.build_skip_modal(CASE, relaxed).to_dict())[0]["optional"] is True


def test_the_record_modal_preselects_the_recorded_root_cause() -> None:
    case = make_case()
    chosen = recovery.build_record_modal(
        case.model_copy(update={"root_cause_category": "stock"}), "r", CAUSES
    )
    select = inputs(chosen.to_dict())[0]["element"]
    assert select["initial_option"]["value"] == "stock"
    assert [o["value"] for o in select["options"]] == ["carrier", "stock"]
    assert (
        "initial_option" not in inputs(recovery.build_record_modal(case, "r", CAUSES).to_dict())[0]["element"]
    )


def test_the_offer_modal_prefills_what_the_customer_was_put_through() -> None:
    view = amends.build_offer_modal(offer_context(guarantee=False)).to_dict()
    cost = next(b for b in inputs(view) if b["block_id"] == "amends_customer_cost")
    assert cost["element"]["initial_value"] == CASE.report.impact[:3000]
    assert not any(b.get("block_id") == "amends_guarantee" for b in view["blocks"])


def test_nudge_buttons_per_kind() -> None:
    def buttons(kind: FollowUpKind) -> list[tuple[str, str | None]]:
        item = FollowUp(
            id=7,
            kind=kind.value,
            case_id=CASE.id,
            dedupe_key="k",
            due_at=AT,
            state=FollowUpState.SENT,
            created_at=AT,
        )
        promise = Promise(
            id=1,
            case_id=CASE.id,
            text="t",
            due_at=AT,
            state=PromiseState.OPEN,
            created_by="U1",
            created_at=AT,
        )
        actions = followups.build_case_nudge(Nudge(item, CASE, "U1", promise))[-1].to_dict()
        assert actions["block_id"] == "nudge_actions"
        return [(e["action_id"], e.get("style")) for e in actions["elements"]]

    snooze, reassign = ("followup_snooze", None), ("followup_reassign", None)
    assert buttons(FollowUpKind.ACK_NUDGE) == [("followup_done", "primary"), snooze, reassign]
    assert buttons(FollowUpKind.PROMISE_DUE) == [("followup_done", "primary")]
    assert buttons(FollowUpKind.CUSTOMER_FOLLOW_UP) == [
        ("followup_satisfied", "primary"),
        ("followup_not_yet", None),
        snooze,
        reassign,
    ]
    assert buttons(FollowUpKind.RESURVEY) == [("followup_record_outcome", "primary"), snooze, reassign]
    assert buttons(FollowUpKind.SCHEDULED_FOLLOW_UP) == [("followup_done", "primary"), snooze, reassign]


def test_step_prompt_buttons() -> None:
    def buttons(step_index: int) -> list[tuple[str, str | None]]:
        step = CaseStep(case_id=CASE.id, position=step_index, step=DEFAULT_STEPS[step_index])
        progress = progress_of([step])
        actions = recovery.build_step_prompt(CASE, step, progress)[-1].to_dict()
        assert actions["block_id"] == "step_actions"
        assert {e["value"] for e in actions["elements"]} == {StepRef(CASE.id, step.key).encode()}
        return [(e["action_id"], e.get("style")) for e in actions["elements"]]

    common = [("step_record_promise", None), ("step_done", None), ("step_skip", None)]
    by_action = {s.action: buttons(i) for i, s in enumerate(DEFAULT_STEPS)}
    assert by_action[StepRole.APOLOGY] == [("step_draft_apology", "primary"), *common]
    assert by_action[StepRole.OWNERSHIP] == [
        ("step_take_ownership", "primary"),
        ("step_assign_owner", None),
        *common,
    ]
    for action, own in by_action.items():
        assert own[-3:] == common and len(own) <= 5
        if action not in recovery.ROLES_WITH_BUTTONS:
            assert own == common
