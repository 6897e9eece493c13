"""End to end: the App Home tab for an agent, kept fresh as cases change, and reporting from it."""

from __future__ import annotations

import json
from typing import Any

from handlers.ids import Action, StepAction
from tests.e2e.conftest import Stack
from tests.e2e.test_playbook import GOOD_APOLOGY, click


def home_text(stack: Stack, user_id: str) -> str:
    home = stack.double.home_tab(user_id)
    assert home is not None, "no Home tab was published"
    return json.dumps(home["blocks"], ensure_ascii=False)


async def open_home(stack: Stack, person: Any) -> str:
    response = await person.open_home()
    assert response.status == 200
    await stack.settle()
    return home_text(stack, person.id)


async def test_home_shows_my_open_cases_and_the_team_view(stack: Stack) -> None:
    first = await stack.report_case()
    await stack.report_case(customer_name="Lee Park", severity="critical", category="billing")
    text = await open_home(stack, stack.alice)
    assert "Your open cases* (2)" in text
    # Most severe first, each with the step it waits on.
    assert text.index("Lee Park") < text.index("Dana Cole")
    assert "next: *Acknowledge and apologize*" in text
    assert "This week" in text and "Opened *2*" in text
    assert "Team view" in text
    # Bob owns nothing yet.
    assert "Your open cases* (0)" in await open_home(stack, stack.bob)
    # The Messages tab fires the same event: no Home tab is published for it.
    publishes = len(stack.double.calls_to("views.publish"))
    await stack.sender.send_event(
        {"type": "app_home_opened", "user": stack.alice.id, "channel": "D1", "tab": "messages"}
    )
    await stack.settle()
    assert len(stack.double.calls_to("views.publish")) == publishes
    assert first.id


async def test_home_refreshes_when_a_case_changes(stack: Stack) -> None:
    await stack.report_case()
    await open_home(stack, stack.alice)
    await open_home(stack, stack.bob)
    await click(stack, StepAction.DRAFT_APOLOGY.value)
    await stack.alice.submit_view({"Your message to the customer": GOOD_APOLOGY})
    await stack.settle()
    assert "next: *Listen and go over the complaint*" in home_text(stack, stack.alice.id)
    assert "Median time to acknowledge" in home_text(stack, stack.alice.id)
    await click(stack, StepAction.DONE.value)
    await click(stack, StepAction.TAKE_OWNERSHIP.value, person=stack.bob)
    assert "Your open cases* (0)" in home_text(stack, stack.alice.id)
    assert "Your open cases* (1)" in home_text(stack, stack.bob.id)
    assert stack.double.rejected_calls == []


async def test_report_a_failure_from_home(stack: Stack) -> None:
    await open_home(stack, stack.alice)
    await stack.alice.click(Action.OPEN_REPORT.value)
    await stack.settle()
    assert stack.alice.current_view()["callback_id"] == "report_failure"
    await stack.alice.submit_view(
        {"customer_name": "Sam", "summary": "Wrong size sent", "severity": "minor", "category": "delivery"}
    )
    await stack.settle()
    [row] = await stack.case_rows()
    assert row.card_channel_id == stack.recovery and row.origin_channel_id is None
    # No channel to answer in: the reporter hears from Mend in its DM.
    dm = stack.double.dm_channel_id(stack.alice.id)
    assert dm is not None and any("R-0001" in str(m.get("text")) for m in stack.double.messages(dm))


async def test_home_leads_to_the_case_attention_queue_and_charts(make_stack: Any) -> None:
    """Case references link to their thread with an Open button; the approver (manager) sees what needs
    attention first; the agent sees their waiting request and open promise; charts are uploaded images."""
    from datetime import UTC, datetime, timedelta

    from bot.clock import FrozenClock
    from handlers.ids import AmendsBlock, FollowUpAction
    from tests.e2e.test_amends import offer, with_approvers

    clock = FrozenClock(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    async with make_stack(clock=clock, ack_nudge_after="2d", configure=with_approvers) as stack:
        row = await stack.report_case()
        for what, day, hour in (
            ("Call back with the refund", "2026-11-24", "15:00"),
            ("Send the new cake", "2026-11-26", "12:00"),
        ):
            await click(stack, FollowUpAction.RECORD_PROMISE.value)
            await stack.alice.submit_view(
                {"What did you promise?": what, "By (date)": day, "By (time)": hour}
            )
            await stack.settle()
        assert (
            await offer(stack, "120", **{AmendsBlock.CUSTOMER_COST.value: "Two hours"})
        ).field_errors == {}
        clock.advance(timedelta(hours=6))
        await stack.tick()
        await stack.tick()
        carol = stack.people["carol"]
        manager = await open_home(stack, carol)
        link = f"https://{stack.double.workspace.team_domain}.slack.com/archives/{row.card_channel_id}/p{row.card_ts.replace('.', '')}"
        assert f"<{link}|R-0001>" in manager
        assert "Needs attention" in manager and "Not acknowledged yet* (1)" in manager
        assert "Broken promises* (1)" in manager and "Call back with the refund" in manager
        assert "Amends waiting for a decision* (1)" in manager and "Open cases per agent" in manager
        assert "Refund €120.00 asked by" in manager
        agent = await open_home(stack, stack.alice)
        assert "Needs attention" not in agent
        assert "Your approval requests waiting* (1)" in agent
        assert "Your open promises* (1)" in agent and "Send the new cake" in agent
        assert "<!date^" in agent  # the due time, in the reader's own time zone
        blocks = stack.double.home_tab(stack.alice.id)["blocks"]
        [opened] = [b for b in blocks if b.get("accessory", {}).get("url") == link][:1]
        assert opened["accessory"]["text"]["text"] == "Open"
        images = [b for b in blocks if b["type"] == "image"]
        assert images, "no chart image block"
        for image in images:
            uploaded = stack.double.workspace.files[image["slack_file"]["id"]]
            assert uploaded.completed and uploaded.content and uploaded.content.startswith(b"\x89PNG")
        trend = next(i for i in images if i["title"]["text"] == "Cases per week")
        assert "this wk: 1 opened, 0 closed" in trend["alt_text"]
        # Another opening with the same figures reuses the uploaded file.
        uploads = len(stack.double.calls_to("files.completeUploadExternal"))
        await open_home(stack, stack.bob)
        assert len(stack.double.calls_to("files.completeUploadExternal")) == uploads
        # The Open button's click is acked.
        response = await stack.alice.click("case_link", pick="latest")
        assert response.status == 200
        assert stack.double.rejected_calls == []
