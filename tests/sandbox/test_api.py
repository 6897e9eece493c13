"""The sandbox's API, end to end: each call reaches Mend as Slack would send it, and the state shows the result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from handlers.ids import AmendsAction, AmendsBlock
from runtime.cli import main
from sandbox.web import CONTENT_SECURITY_POLICY
from storage.tables import CaseRow
from tests.sandbox.conftest import MakeClient, SandboxClient, channel

REPORT = {
    "customer_name": "Mrs Okonkwo",
    "customer_ref": "order #58213",
    "summary": "Cake arrived two hours late & squashed <@U000000001>",
    "severity": "major",
    "category": "delivery",
}


async def open_report(client: SandboxClient, as_user: str, text: str = "") -> dict[str, Any]:
    st = await client.state(as_user)
    answer = await client.post(
        "command", {"as": as_user, "channel": st["support_channel"], "text": f"/recover {text}".strip()}
    )
    assert answer["ok"], answer
    return answer["state"]


async def test_the_page_and_its_assets_are_served_with_a_strict_policy(client: SandboxClient) -> None:
    async with client.http.get(client.base + "/sandbox") as response:
        assert response.status == 200
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        page = await response.text()
    assert "/sandbox/static/sandbox.js" in page
    assert "http://" not in page and "https://" not in page  # nothing from the network
    for asset in ("sandbox.js", "blockkit.js", "sandbox.css"):
        async with client.http.get(f"{client.base}/sandbox/static/{asset}") as response:
            assert response.status == 200, asset
    async with client.http.get(client.base + "/", allow_redirects=False) as response:
        assert response.status == 302 and response.headers["Location"] == "/sandbox"


async def test_state_shows_the_team_channels_and_personas(client: SandboxClient) -> None:
    st = await client.state()
    assert [p["role"] for p in st["personas"]] == ["agent", "agent", "manager"]
    assert st["me"] == st["personas"][0]["user_id"]
    names = {c["name"] for c in st["channels"]}
    assert {"support", "recovery", "general"} <= names
    assert len(channel(st, "support")["messages"]) == 3  # chatter to use the shortcut on
    assert st["app"]["commands"][0]["command"] == "/recover"
    assert st["app"]["shortcuts"][0]["callback_id"] == "start_recovery"
    assert st["modal"] is None and st["home"] is None
    assert client.sandbox.mend.settings.recovery_channel == st["recovery_channel"]


async def test_unchanged_state_polls_as_not_modified(client: SandboxClient) -> None:
    async with client.http.get(client.base + "/sandbox/api/state") as response:
        etag = response.headers["ETag"]
    async with client.http.get(
        client.base + "/sandbox/api/state", headers={"If-None-Match": etag}
    ) as response:
        assert response.status == 304


async def test_slash_command_opens_the_report_modal(client: SandboxClient) -> None:
    alex = client.persona("alex")
    st = await open_report(client, alex, "parcel never came")
    modal = st["modal"]
    assert modal["callback_id"] == "report_failure"
    summary = next(b for b in modal["blocks"] if b.get("block_id") == "summary")
    assert summary["element"]["initial_value"] == "parcel never came"
    assert modal["errors"] == {}
    # Only the person who typed the command sees the modal.
    assert (await client.state(client.persona("sam")))["modal"] is None


async def test_field_errors_come_back_on_the_modal(client: SandboxClient) -> None:
    alex = client.persona("alex")
    st = await open_report(client, alex)
    values = {**REPORT, "customer_name": None, "customer_ref": None}
    answer = await client.post("submit", {"as": alex, "view_id": st["modal"]["id"], "values": values})
    modal = answer["state"]["modal"]
    assert modal is not None and modal["id"] == st["modal"]["id"]  # still open, as in Slack
    assert "customer_name" in modal["errors"]
    assert "name" in modal["errors"]["customer_name"]


async def test_a_required_field_left_empty_is_refused_before_mend_sees_it(client: SandboxClient) -> None:
    alex = client.persona("alex")
    st = await open_report(client, alex)
    answer = await client.post(
        "submit", {"as": alex, "view_id": st["modal"]["id"], "values": {**REPORT, "severity": None}}
    )
    assert not answer["ok"] and "required" in answer["notice"]
    assert answer["state"]["modal"]["errors"] == {}


async def test_submitting_opens_a_case_with_card_thread_and_notice(client: SandboxClient) -> None:
    alex = client.persona("alex")
    st = await open_report(client, alex)
    answer = await client.post("submit", {"as": alex, "view_id": st["modal"]["id"], "values": REPORT})
    assert answer["ok"], answer
    st = answer["state"]
    assert st["modal"] is None
    [card] = channel(st, "recovery")["messages"]
    assert card["blocks"][0]["type"] == "header" and "R-0001" in card["blocks"][0]["text"]["text"]
    # Customer text arrives escaped, exactly as Mend sent it; the page shows it as text.
    assert "&amp; squashed &lt;@U000000001&gt;" in str(card["blocks"])
    # The thread: what happens next, then the playbook's first step with its buttons.
    assert len(card["replies"]) == 2 and "R-0001" in card["replies"][0]["text"]
    assert "step 1" in card["replies"][1]["text"]
    [notice] = [e for e in st["ephemerals"] if e["channel"] == st["support_channel"]]
    assert "R-0001" in notice["text"]
    # Sam sees the card too, but not Alex's ephemeral notice.
    sam_state = await client.state(client.persona("sam"))
    assert len(channel(sam_state, "recovery")["messages"]) == 1
    assert sam_state["ephemerals"] == []
    client.sandbox.double.assert_no_rejections()


async def test_start_recovery_shortcut_on_a_message(client: SandboxClient) -> None:
    sam = client.persona("sam")
    st = await client.state(sam)
    message = channel(st, "support")["messages"][1]
    answer = await client.post(
        "shortcut",
        {"as": sam, "callback_id": "start_recovery", "channel": st["support_channel"], "ts": message["ts"]},
    )
    assert answer["ok"], answer
    modal = answer["state"]["modal"]
    summary = next(b for b in modal["blocks"] if b.get("block_id") == "summary")
    assert summary["element"]["initial_value"] == message["text"]
    source = next(b for b in modal["blocks"] if b.get("block_id") == "source")
    assert "/archives/" in source["elements"][0]["text"]


async def test_clicking_a_button_in_an_ephemeral_reaches_mend(client: SandboxClient) -> None:
    alex = client.persona("alex")
    st = await open_report(client, alex, "stats")  # a mistyped sub-command: Mend offers a button
    assert st["modal"] is None
    [ephemeral] = st["ephemerals"]
    actions = next(b for b in ephemeral["blocks"] if b["type"] == "actions")
    button = actions["elements"][0]
    answer = await client.post(
        "click",
        {
            "as": alex,
            "surface": "ephemeral",
            "channel": ephemeral["channel"],
            "ts": ephemeral["ts"],
            "block_id": actions["block_id"],
            "action_id": button["action_id"],
        },
    )
    assert answer["ok"], answer
    assert answer["state"]["modal"]["callback_id"] == "report_failure"


async def test_closing_the_modal(client: SandboxClient) -> None:
    alex = client.persona("alex")
    st = await open_report(client, alex)
    answer = await client.post("close", {"as": alex, "view_id": st["modal"]["id"]})
    assert answer["state"]["modal"] is None


async def test_unknown_commands_are_refused_as_slack_does(client: SandboxClient) -> None:
    st = await client.state()
    answer = await client.post("command", {"channel": st["support_channel"], "text": "/nonsense now"})
    assert not answer["ok"] and "/nonsense is not a valid command" in answer["notice"]
    assert not client.sandbox.double.calls_to("views.open")


async def test_messages_typed_on_the_page_are_posted_as_the_persona(client: SandboxClient) -> None:
    morgan = client.persona("morgan")
    st = await client.state(morgan)
    await client.post(
        "message", {"as": morgan, "channel": st["support_channel"], "text": "On it, <b>team</b>"}
    )
    thread_ts = channel(await client.state(morgan), "support")["messages"][-1]["ts"]
    answer = await client.post(
        "message", {"as": morgan, "channel": st["support_channel"], "text": "reply", "thread_ts": thread_ts}
    )
    last = channel(answer["state"], "support")["messages"][-1]
    assert last["user"] == morgan and last["text"] == "On it, <b>team</b>"
    assert [r["text"] for r in last["replies"]] == ["reply"]


async def test_switching_persona_changes_who_acts_and_what_they_see(client: SandboxClient) -> None:
    alex, morgan = client.persona("alex"), client.persona("morgan")
    await open_report(client, alex)
    answer = await client.post("persona", {"as": morgan})
    assert answer["state"]["me"] == morgan and answer["state"]["modal"] is None
    st = await client.state()  # no `as`: the persona chosen last
    assert st["me"] == morgan
    assert (await client.state(alex))["modal"] is not None
    await client.post("persona", {"as": "UNOBODY"}, status=400)
    await client.post("persona", {"as": client.sandbox.double.bot_user_id}, status=400)


async def test_home_tab_sends_app_home_opened(client: SandboxClient) -> None:
    sam = client.persona("sam")
    answer = await client.post("home", {"as": sam})
    assert answer["ok"]
    # The event reached Mend, which published Sam's Home tab: his cases, the team's week.
    assert client.sandbox.double.dm_channel_id(sam) is not None
    home = answer["state"]["home"]
    assert (
        home is not None and "Your open cases" in str(home["blocks"]) and "Team view" in str(home["blocks"])
    )


async def test_time_travel_moves_mend_and_the_double_together(client: SandboxClient) -> None:
    sandbox = client.sandbox
    double_before, before = sandbox.double.clock.now(), sandbox.clock.now()
    answer = await client.post("clock/advance", {"seconds": 86400})
    assert answer["state"]["clock"]["offset_seconds"] == 86400
    now = datetime.fromisoformat(answer["state"]["clock"]["now"])
    assert timedelta(days=1) <= now - before < timedelta(days=1, minutes=5)
    assert sandbox.double.clock.now() - double_before >= 86400
    # What happens now happens tomorrow: a case opened now is dated by the sandbox clock.
    st = await open_report(client, client.persona("alex"))
    await client.post(
        "submit", {"as": client.persona("alex"), "view_id": st["modal"]["id"], "values": REPORT}
    )
    async with sandbox.mend.db.transaction() as session:
        [row] = (await session.execute(select(CaseRow))).scalars()
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    assert created > before + timedelta(hours=23)


async def test_time_travel_runs_what_became_due_at_once(client: SandboxClient) -> None:
    """An undecided approval request reminds the approver as the clock passes the wait, not at the next poll."""
    alex, morgan = client.persona("alex"), client.persona("morgan")
    st = await open_report(client, alex)
    answer = await client.post("submit", {"as": alex, "view_id": st["modal"]["id"], "values": REPORT})
    [card] = channel(answer["state"], "recovery")["messages"]
    recovery = answer["state"]["recovery_channel"]
    click = {"surface": "message", "channel": recovery, "ts": card["ts"], "action_id": AmendsAction.OFFER}
    answer = await client.post("click", {"as": alex, **click})
    values = {AmendsBlock.KIND: "refund", AmendsBlock.AMOUNT: "120", AmendsBlock.JUSTIFICATION: "A week late"}
    answer = await client.post(
        "submit", {"as": alex, "view_id": answer["state"]["modal"]["id"], "values": values}
    )
    assert answer["ok"] and answer["state"]["modal"] is None, answer

    def reminders(state: dict[str, Any]) -> list[dict[str, Any]]:
        [request] = next(c for c in state["channels"] if c["is_im"])["messages"]
        return [m for m in request["replies"] if "Reminder" in m["text"]]  # in the request's thread

    assert reminders(await client.state(morgan)) == []
    await client.post("clock/advance", {"seconds": 5 * 3600})  # the default wait is 4 hours
    assert len(reminders(await client.state(morgan))) == 1
    client.sandbox.double.assert_no_rejections()


@pytest.mark.parametrize("seconds", [0, -60, "soon", True, 91 * 86400])
async def test_time_only_travels_forward_and_not_too_far(client: SandboxClient, seconds: Any) -> None:
    await client.post("clock/advance", {"seconds": seconds}, status=400)
    assert client.sandbox.clock.offset == client.sandbox.start_offset


async def test_the_api_takes_json_only(client: SandboxClient) -> None:
    form = aiohttp.FormData({"seconds": "60"})
    async with client.http.post(client.base + "/sandbox/api/clock/advance", data=form) as response:
        assert response.status == 415
    async with client.http.post(
        client.base + "/sandbox/api/message", data=b"{not json", headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400


async def test_seed_opens_weeks_of_cases_with_cards_and_threads(make_client: MakeClient) -> None:
    client = await make_client(seed=True)
    sandbox = client.sandbox
    async with sandbox.mend.db.transaction() as session:
        rows = list((await session.execute(select(CaseRow).order_by(CaseRow.id))).scalars())
    assert len(rows) >= 15
    created = [r.created_at if r.created_at.tzinfo else r.created_at.replace(tzinfo=UTC) for r in rows]
    assert created == sorted(created)
    assert created[-1] - created[0] > timedelta(days=14)
    assert created[-1] < sandbox.clock.now()
    assert len({r.category for r in rows}) >= 5 and len({r.severity for r in rows}) == 4
    st = await client.state()
    cards = channel(st, "recovery")["messages"]
    # Each thread opens with what happens next; seeded cases are unattended, so nudges may follow.
    assert len(cards) == len(rows) and all(c["replies"] and "R-" in c["replies"][0]["text"] for c in cards)
    # Back-dated in Slack too
    assert float(cards[0]["ts"]) < sandbox.clock.now().timestamp() - 14 * 86400
    assert st["ephemerals"] == []
    assert sandbox.clock.offset == sandbox.start_offset
    sandbox.double.assert_no_rejections()


def test_seed_needs_the_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--seed"])
    assert exc.value.code == 2
    assert "--seed only works with --sandbox" in capsys.readouterr().err
