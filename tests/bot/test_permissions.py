"""Who may change a case (CASE_EDITORS): the setting's forms, the words of a refusal, and the guard that audits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.cases import Case, CaseReport, CaseState, Severity
from bot.clock import FrozenClock
from bot.errors import NotAllowed
from bot.permissions import CaseChange, CaseEditors, CaseGuard, Editor

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def case(owner: str = "U0OWNER", reporter: str = "U0REPORTER") -> Case:
    return Case(
        id=7,
        team_id="T1",
        report=CaseReport(summary="Parcel lost", severity=Severity.MINOR, category="delivery"),
        state=CaseState.OPEN,
        reporter_user_id=reporter,
        owner_user_id=owner,
        origin_channel_id=None,
        card=None,
        thread_opened=True,
        created_at=NOW,
        updated_at=NOW,
    )


class Trail:
    def __init__(self) -> None:
        self.lines: list[tuple[int, str, str | None, datetime, dict[str, Any]]] = []

    async def audit(
        self, case_id: int, kind: str, actor_user_id: str | None, at: datetime, **data: Any
    ) -> None:
        self.lines.append((case_id, kind, actor_user_id, at, data))


def approvers(*ids: str) -> Any:
    async def is_approver(user_id: str) -> bool:
        return user_id in ids

    return is_approver


@pytest.mark.parametrize(
    ("text", "roles"),
    [
        ("owner,reporter,approvers", {Editor.OWNER, Editor.REPORTER, Editor.APPROVERS}),
        (" Approvers , OWNER ", {Editor.OWNER, Editor.APPROVERS}),
        ("owner,owner", {Editor.OWNER}),
        ("anyone", {Editor.ANYONE}),
    ],
)
def test_the_setting_names_roles_in_any_order_and_case(text: str, roles: set[Editor]) -> None:
    assert CaseEditors.parse(text).roles == roles


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is empty"),
        (" , ", "is empty"),
        ("owner,managers", "'managers', which is not one of owner, reporter, approvers, anyone"),
        ("everyone", "'everyone'"),
        ("anyone,owner", "anyone already includes everybody"),
    ],
)
def test_a_bad_setting_says_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ValueError) as info:
        CaseEditors.parse(text)
    assert problem in str(info.value)


def test_the_default_is_owner_reporter_and_approvers() -> None:
    rule = CaseEditors()
    assert rule == CaseEditors.parse("owner,reporter,approvers")
    c = case()
    assert rule.may(c, "U0OWNER", is_approver=False) and rule.may(c, "U0REPORTER", is_approver=False)
    assert rule.may(c, "U0ANYBODY", is_approver=True) and not rule.may(c, "U0ANYBODY", is_approver=False)


def test_a_refusal_says_who_may() -> None:
    default = CaseEditors()
    assert default.refusal(case(), CaseChange.CLOSE) == (
        "Only the case owner <@U0OWNER>, the reporter <@U0REPORTER> or an approver can close R-0007. "
        "Nothing changed."
    )
    # The reporter still owning the case is named once.
    assert default.who(case(owner="U0SAME", reporter="U0SAME")) == (
        "the case owner <@U0SAME>, the reporter or an approver"
    )
    assert CaseEditors.parse("owner").refusal(case(), CaseChange.SKIP_REQUIRED) == (
        "Only the case owner <@U0OWNER> can skip a required step of R-0007. Nothing changed."
    )
    assert CaseEditors.parse("approvers,reporter").who(case()) == "the reporter <@U0REPORTER> or an approver"


async def test_the_guard_lets_editors_through_and_audits_every_refusal() -> None:
    trail = Trail()
    guard = CaseGuard(CaseEditors(), trail, FrozenClock(NOW), approvers("U0BOSS"))
    for who in ("U0OWNER", "U0REPORTER", "U0BOSS"):
        await guard.check(case(), CaseChange.REOPEN, who)
    assert trail.lines == []
    with pytest.raises(NotAllowed, match="can reassign R-0007"):
        await guard.check(case(), CaseChange.REASSIGN, "U0STRANGER")
    assert trail.lines == [(7, "case_change_refused", "U0STRANGER", NOW, {"change": "reassign"})]


async def test_anyone_asks_nobody_and_refuses_nothing() -> None:
    trail = Trail()

    async def never_asked(_user_id: str) -> bool:
        raise AssertionError("with anyone, the approvers need not be looked up")

    guard = CaseGuard(CaseEditors.parse("anyone"), trail, FrozenClock(NOW), never_asked)
    await guard.check(case(), CaseChange.CLOSE, "U0STRANGER")
    assert trail.lines == []


async def test_a_message_for_one_person_is_theirs_and_the_approvers() -> None:
    trail = Trail()
    guard = CaseGuard(CaseEditors.parse("anyone"), trail, FrozenClock(NOW), approvers("U0BOSS"))
    await guard.check_addressed(case(), "U0OWNER", "U0OWNER")
    await guard.check_addressed(case(), "U0OWNER", "U0BOSS")
    await guard.check_addressed(case(), None, "U0STRANGER")  # addressed to nobody in particular
    with pytest.raises(NotAllowed) as info:
        await guard.check_addressed(case(), "U0OWNER", "U0REPORTER")
    assert info.value.user_message == (
        "This reminder on R-0007 is for <@U0OWNER>: only they or an approver can act on it. Nothing changed."
    )
    assert trail.lines == [
        (7, "follow_up_refused", "U0REPORTER", NOW, {"addressee": "U0OWNER", "what": "reminder"})
    ]
