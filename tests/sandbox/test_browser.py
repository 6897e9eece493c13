"""The sandbox in a real headless Chromium: the journey a support team would take, with screenshots.

Uses Debian's own Chromium through Playwright's Python package (never `playwright install`, which downloads
a browser). Screenshots go to test-artifacts/sandbox/<test>/ for people to look at.

The journey acts only through the page, as a person would (buttons, modals, the persona switcher):
Alex reports a failure with /recover (the client's and Mend's field errors), opens the case thread from
Mend's notice, tries the Start recovery shortcut on a message; completes step 1 through the apology modal
(the coach's error under the draft for a formula, then a good apology recorded and quoted, step 2
prompted, the card at 1/8); offers amends above the agent limit from the card. Morgan, the manager, sees
Mend unread, the request on the Home tab and in the DM, approves it (redrawn with who decided, the outcome
in the thread); the Home tab shows the amends budget and team view for Morgan, the open case for Alex,
who has Mend's DM about the decision. Then the clock moves a day ahead; a second case nobody apologises on
gets its owner's nudge in its thread at **Next due**, and at the next **Next due** the escalation to Morgan.

A second journey: Sam reports Li Wei again and the form shows Alex's open case with "Add to R-0001 instead",
which puts the report in that case's thread; Alex walks the case to its follow-up, **Next due** brings "Is the
customer satisfied?", "Not yet" posts the fix again at the bottom of the thread (the follow-up waits), the fix
done again brings the follow-up back at the bottom, and the case closes; **Reopen…** asks why and which steps
(the fix and the record ticked), and the second closing says "closed again", once.

The journey grows with the product: each step is a few lines on `Journey`.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.conftest import SandboxClient

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "sandbox"
TIMEOUT_MS = 10_000

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"the browser test needs Debian's Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)",
)


class Journey:
    """One person at the sandbox page, acting only through what the page shows."""

    def __init__(self, page: Any, client: SandboxClient, artifacts: Path) -> None:
        self.page = page
        self.client = client
        self.artifacts = artifacts
        self.step = 0

    async def shot(self, name: str) -> Path:
        self.step += 1
        path = self.artifacts / f"{self.step:02d}-{name}.png"
        await self.page.screenshot(path=str(path))
        return path

    # ---- navigation ----------------------------------------------------------------------------

    async def open_channel(self, name: str) -> None:
        await self.page.click(f"[data-testid=channel-{name}]")
        await self.page.wait_for_selector(f".pane-title:text-is('# {name}')")

    async def switch_persona(self, real_name: str) -> None:
        option = self.page.locator("[data-testid=persona] option", has_text=real_name)
        await self.page.select_option("[data-testid=persona]", value=await option.get_attribute("value"))
        await self.settled()

    async def open_home(self) -> None:
        await self.page.click("[data-testid=app-mend]")
        await self.page.wait_for_selector("[data-testid=home]:visible")
        await self.settled()

    async def open_app_messages(self) -> None:
        """Mend's DM with the person acting: the Messages tab under Apps."""
        await self.page.click("[data-testid=app-mend]")
        await self.page.click("[data-testid=tab-messages]")
        await self.page.wait_for_selector("[data-testid=messages]:visible")
        await self.settled()

    def card(self, reference: str) -> Any:
        """A case card in the channel shown (not its copies in the thread pane)."""
        return self.page.locator("#messages [data-testid=message]", has_text=reference).first

    def thread(self) -> Any:
        return self.page.locator("[data-testid=thread-pane]")

    async def open_thread(self, reference: str) -> None:
        await self.card(reference).locator("[data-testid=thread-summary]").click()
        await self.thread().wait_for()

    async def settled(self) -> None:
        """Wait until no sandbox call is in flight (each one waits for Mend's background work)."""
        await self.page.wait_for_selector("#busy", state="hidden")

    # ---- acting --------------------------------------------------------------------------------

    async def type_in_composer(self, text: str) -> None:
        await self.page.fill("[data-testid=composer-input]", text)
        await self.page.press("[data-testid=composer-input]", "Enter")
        await self.settled()

    async def message_shortcut(self, message_text: str, shortcut: str) -> None:
        message = self.page.locator("[data-testid=message]", has_text=message_text).last
        await message.hover()
        await message.locator("[data-testid=more-actions]").click()
        await self.page.locator("[data-testid=menu] .menu-item", has_text=shortcut).click()
        await self.settled()

    def modal(self) -> Any:
        return self.page.locator("[data-testid=modal]")

    def modal_block(self, label: str) -> Any:
        return self.modal().locator(f".bk-type-input[data-label={json.dumps(label)}]")

    async def fill_modal(self, values: dict[str, str]) -> None:
        """Fill inputs by their label: text for text inputs, the option's text for selects and radios."""
        for label, value in values.items():
            block = self.modal_block(label)
            if await block.locator("select").count():
                await block.locator("select").select_option(label=value)
            elif await block.locator("input[type=radio], input[type=checkbox]").count():
                await block.locator(".bk-choice", has_text=value).locator("input").check()
            else:
                await block.locator("input, textarea").fill(value)

    async def submit_modal(self) -> None:
        await self.modal().locator("[data-testid=modal-submit]").click()
        await self.settled()

    async def next_due_until(self, wanted: Any, *, presses: int = 4) -> None:
        """Press Next due until `wanted` shows: the nudges a finished step made moot come due first and
        go out as nothing (the engine drops them), as they would in Slack."""
        for _ in range(presses):
            await self.page.click("[data-testid=next-due]")
            await self.settled()  # the page applies the state the call answers with
            if await wanted.count():
                return
        await wanted.wait_for()

    async def close_case(self, reference: str) -> None:
        """Close case on the card, through its confirm dialog."""
        await self.click_button("Close case", within=self.card(reference))
        await self.page.locator("[data-testid=confirm] [data-testid=confirm-ok]").click()
        await self.settled()

    async def click_button(self, text: str, *, within: Any = None) -> None:
        scope = within if within is not None else self.page
        await scope.locator(".bk-button", has_text=text).last.click()
        await self.settled()


@pytest.fixture
async def journey(client: SandboxClient, request: pytest.FixtureRequest) -> AsyncIterator[Journey]:
    playwright_api = pytest.importorskip(
        "playwright.async_api", reason="pip install -e '.[dev]' adds playwright"
    )
    artifacts = ARTIFACTS / request.node.name.removeprefix("test_")
    artifacts.mkdir(parents=True, exist_ok=True)
    for old in artifacts.glob("*.png"):
        old.unlink()
    base = client.base
    errors: list[str] = []
    outside: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mend-chromium-") as profile:
        async with playwright_api.async_playwright() as playwright:
            context = await playwright.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                args=CHROMIUM_ARGS,
                headless=True,
                viewport={"width": 1400, "height": 860},
            )
            context.set_default_timeout(TIMEOUT_MS)
            page = context.pages[0] if context.pages else await context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("request", lambda req: None if req.url.startswith(base) else outside.append(req.url))
            await page.goto(base + "/sandbox")
            await page.wait_for_selector("[data-testid=message]")
            try:
                yield Journey(page, client, artifacts)
            finally:
                await context.close()
    assert not errors, f"the page logged errors: {errors}"
    assert not outside, f"the page made requests outside the sandbox: {outside}"


MECHANICAL_APOLOGY = "We apologize for any inconvenience caused."
GOOD_APOLOGY = (
    "Hi Li Wei, I'm so sorry we let you down: I can see your parcel was marked delivered on Tuesday but never "
    "reached you. I've sent a replacement by express courier and you'll have it by 4pm tomorrow."
)


async def test_the_recovery_journey_in_a_real_browser(journey: Journey) -> None:
    page = journey.page
    sandbox = journey.client.sandbox
    thread = journey.thread()

    # 1. Alex, an agent, sees #support with a customer problem relayed by a teammate.
    await page.wait_for_selector("[data-testid=persona]")
    assert "Alex Rivera" in await page.locator("[data-testid=persona] option:checked").inner_text()
    assert await page.locator("[data-testid=message]", has_text="Mrs Okonkwo").count() == 1
    await journey.shot("support-channel")

    # 2. Report a failure from the page: /recover opens Mend's modal, prefilled.
    await journey.type_in_composer("/recover Parcel marked delivered but never arrived")
    await page.wait_for_selector("[data-testid=modal] h2:text('Report a failure')")
    summary = journey.modal_block("What went wrong").locator("textarea")
    assert await summary.input_value() == "Parcel marked delivered but never arrived"
    await journey.shot("report-modal")

    # 3. The client refuses an empty required field; Mend's own field errors show where Slack shows them.
    await journey.submit_modal()
    assert await journey.modal_block("Kind of failure").locator(".bk-client-error").inner_text() == (
        "⚠ Please complete this required field."
    )
    await journey.fill_modal(
        {"How hard did it hit them?": "Badly let down: lost time or money", "Kind of failure": "Delivery"}
    )
    await journey.submit_modal()
    customer_error = journey.modal_block("Customer").locator(".bk-error")
    await customer_error.wait_for()
    assert "name" in await customer_error.inner_text()
    await journey.shot("field-errors")

    # 4. Fixing it opens the case: the modal closes, Alex gets a notice with a link into the thread.
    # What the agent types is shown as typed: no ping for <!channel>, & stays &.
    await journey.fill_modal(
        {"Customer": "Li Wei", "Account or order reference": "order #A-99310 & <!channel>"}
    )
    await journey.submit_modal()
    await journey.modal().wait_for(state="detached")
    notice = page.locator("[data-testid=ephemeral]", has_text="R-0001")
    await notice.wait_for()
    assert "Only visible to you" in await notice.inner_text()
    await notice.locator("a", has_text="Open the case thread").click()
    await page.wait_for_selector(".pane-title:text-is('# recovery')")
    card = journey.card("R-0001")
    await card.locator(".bk-type-header", has_text="R-0001 · Delivery · Li Wei").wait_for()
    assert "Li Wei (order #A-99310 & <!channel>)" in await card.locator(".bk-field").first.inner_text()
    assert await card.locator(".mention-broadcast").count() == 0
    await thread.locator("[data-testid=message]", has_text="is open and").wait_for()
    assert "@Alex Rivera" in await thread.inner_text()
    await journey.shot("card-and-thread")

    # 5. The Start recovery shortcut on a message in #support opens the modal with that message in it.
    await journey.open_channel("support")
    await journey.message_shortcut("charged twice for March", "Start recovery")
    await page.wait_for_selector("[data-testid=modal] h2:text('Report a failure')")
    assert "charged twice" in await journey.modal_block("What went wrong").locator("textarea").input_value()
    assert "this message" in await journey.modal().locator(".bk-type-context").inner_text()
    await journey.shot("shortcut-modal")
    await journey.modal().locator("[data-testid=modal-close]").click()
    await journey.modal().wait_for(state="detached")

    # 6. Step 1 in the thread, through its modal: the coach refuses a formula under the draft itself ...
    await journey.open_channel("recovery")
    await journey.open_thread("R-0001")
    step_one = thread.locator("[data-testid=message]", has_text="Step 1 of 8")
    await journey.click_button("Draft apology", within=step_one)
    await page.wait_for_selector("[data-testid=modal] h2:text('Draft the apology')")
    assert "three signals" in await journey.modal().locator(".bk-type-context").inner_text()
    draft = journey.modal_block("Your message to the customer")
    # Mend sends nothing to the customer, and the form says so rather than "Record as sent".
    assert (
        await journey.modal().locator("[data-testid=modal-submit]").inner_text()
    ).strip() == "Check and record"
    assert "doesn't send this to the customer" in await draft.locator(".bk-hint").inner_text()
    await draft.locator("textarea").fill(MECHANICAL_APOLOGY)
    await journey.submit_modal()
    coaching = draft.locator(".bk-error")
    await coaching.wait_for()
    lines = (await coaching.inner_text()).splitlines()
    assert len(lines) > 1 and "formula" in lines[0]  # one line per point, as Mend sends it
    assert await journey.modal().locator(".bk-error").count() == 1  # under the draft, nowhere else
    assert await draft.locator("textarea").input_value() == MECHANICAL_APOLOGY  # what was typed stays
    await journey.shot("apology-coached")
    # ... and records a good one: the prompt is redrawn as done with the apology quoted, step 2 appears.
    await draft.locator("textarea").fill(GOOD_APOLOGY)
    await journey.submit_modal()
    await journey.modal().wait_for(state="detached")
    await step_one.locator(".bk-section-text", has_text="done by @Alex Rivera").wait_for()
    assert await step_one.locator(".bk-button").count() == 0
    assert "4pm tomorrow" in await step_one.locator("blockquote").inner_text()
    await (
        thread.locator("[data-testid=message]", has_text="Step 2 of 8").locator(".bk-button").first.wait_for()
    )
    await card.locator(".bk-section-text", has_text="Progress 1/8").wait_for()
    await journey.shot("apology-recorded")

    # 7. Amends above Alex's limit (€50; a major failure usually gets €40–€150) go to an approver.
    await journey.click_button("Offer amends", within=card)
    await page.wait_for_selector("[data-testid=modal] h2:text('Offer amends')")
    assert "Your own limit is €50.00" in await journey.modal().inner_text()
    await journey.fill_modal(
        {
            "What you offer": "Refund",
            "Amount": "120",
            "Why this is right": "Lost parcel worth €95 plus a week without it; she had to chase us twice.",
        }
    )
    await journey.shot("amends-form")
    await journey.submit_modal()
    await journey.modal().wait_for(state="detached")
    await thread.locator("[data-testid=message]", has_text="an approver decides").wait_for()
    await journey.shot("amends-requested")

    # 8. Morgan, the manager: Mend is marked unread; their Home tab lists the request with its buttons ...
    await journey.switch_persona("Morgan Lee")
    assert await page.locator("[data-testid=ephemeral]").count() == 0  # Alex's notice is Alex's
    await page.locator("[data-testid=app-mend].unread").wait_for()
    await journey.open_home()
    home = page.locator("[data-testid=home]")
    await home.locator(".bk-section-text", has_text="Amends waiting for your decision (1)").wait_for()
    assert await home.locator(".bk-button", has_text="Approve").count() == 1
    await journey.shot("home-manager-waiting")
    # ... and in their DM with Mend ...
    await journey.open_app_messages()
    # Found by what stays on it once decided (its heading changes from "Amends to approve").
    request = page.locator("#messages [data-testid=message]", has_text="above the agent limit").last
    await request.wait_for()
    assert "Amends to approve" in await request.inner_text()
    assert "@Alex Rivera" in await request.inner_text()
    assert "above the agent limit" in await request.inner_text()
    await journey.shot("approval-request")
    # ... where Morgan approves it: the request is redrawn with who decided, and the thread gets the outcome.
    await journey.click_button("Approve", within=request)
    await request.locator(".bk-section-text", has_text="Approved by @Morgan Lee").wait_for()
    assert await request.locator(".bk-button").count() == 0
    # The copy on Morgan's Home tab went too: Mend republished it without waiting for the tab to reopen.
    morgan_home = sandbox.double.home_tab(journey.client.persona("morgan"))
    assert morgan_home is not None and "Amends waiting" not in json.dumps(morgan_home["blocks"])
    await journey.shot("approved")
    await journey.open_channel("recovery")
    await journey.open_thread("R-0001")
    await thread.locator("[data-testid=message]", has_text="Amends approved").wait_for()
    await journey.shot("approval-in-thread")

    # 9. The Home tab: the manager's shows the month's amends against the budget and the team view ...
    await journey.open_home()
    await home.locator(".bk-type-header", has_text="Team view").wait_for()
    assert "Your open cases (0)" in await home.inner_text()
    assert "Amends granted this month: €120.00 of €2,000.00 budget" in await home.inner_text()
    assert await home.locator(".bk-button", has_text="Approve").count() == 0  # nothing waits any more
    await journey.shot("home-manager")
    # ... and the agent's their open case with its next step; Mend told Alex the outcome in their DM.
    await journey.switch_persona("Alex Rivera")
    await home.locator(".bk-section-text", has_text="R-0001").wait_for()
    assert "Your open cases (1)" in await home.inner_text()
    assert "next: Listen and go over the complaint" in await home.inner_text()
    await journey.shot("home-agent")
    await page.click("[data-testid=tab-messages]")
    await page.locator("#messages [data-testid=message]", has_text="were approved").wait_for()

    # 10. Time travel: a day passes in Mend and in the stand-in Slack at the click of a button.
    await page.click("[data-testid=advance-day]")
    await journey.settled()
    await page.wait_for_selector("[data-testid=clock-offset]:text('1 day ahead')")
    assert (sandbox.clock.offset - sandbox.start_offset).days == 1
    await journey.shot("time-travel")

    # 11. A case nobody apologises on: Next due jumps to its nudge in the thread, then to the escalation.
    await journey.open_channel("support")
    await journey.type_in_composer("/recover Boiler engineer came two days late")
    await journey.fill_modal(
        {
            "Customer": "Mr Patel",
            "How hard did it hit them?": "Badly let down: lost time or money",
            "Kind of failure": "Wait time",
        }
    )
    await journey.submit_modal()
    await journey.modal().wait_for(state="detached")
    await journey.open_channel("recovery")
    await journey.open_thread("R-0002")
    await page.click("[data-testid=next-due]")
    await journey.settled()
    await thread.locator("[data-testid=message]", has_text="R-0002 has no apology yet").wait_for()
    await journey.shot("next-due-nudge")
    await page.click("[data-testid=next-due]")
    await journey.settled()
    escalation = thread.locator("[data-testid=message]", has_text="R-0002 still has no apology")
    await escalation.wait_for()
    assert "@Morgan Lee" in await escalation.inner_text()  # addressed to the approver
    await journey.shot("next-due-escalation")

    sandbox.double.assert_no_rejections()


MRKDWN_CASES: dict[str, str] = {
    "*bold* _italic_ ~strike~ `code`": '<b>bold</b> <i>italic</i> <s>strike</s> <code class="inline-code">code</code>',
    "line one\nline two": "line one<br>line two",
    "snake_case_name and 2*3*4": "snake_case_name and 2*3*4",
    ":white_check_mark: done": "✅ done",
    "```a *b* <@U1>```": '<pre class="code-block">a *b* &lt;@U1&gt;</pre>',
}


async def test_mrkdwn_renders_like_slack_and_escaped_text_stays_text(journey: Journey) -> None:
    """The page's own renderer, on the markup Mend sends: formatting, mentions, links, dates, escaping."""
    render = """([text, now]) => {
        const box = document.createElement("div");
        box.appendChild(window.BlockKit.mrkdwn(text, {
            users: {U1: {id: "U1", real_name: "Alex Rivera"}}, channels: {C1: {id: "C1", name: "support"}},
            me: "U1", now: () => new Date(now), isInternal: () => false,
        }));
        return {html: box.innerHTML, text: box.textContent,
                links: [...box.querySelectorAll("a")].map(a => [a.getAttribute("href"), a.textContent, a.target]),
                mentions: [...box.querySelectorAll(".mention")].map(m => m.textContent),
                bold: box.querySelectorAll("b").length, quotes: box.querySelectorAll("blockquote").length};
    }"""
    page = journey.page
    noon = 1700049600  # 2023-11-15 12:00 UTC

    async def rendered(text: str) -> dict[str, Any]:
        result: dict[str, Any] = await page.evaluate(render, [text, noon * 1000])
        return result

    for text, html in MRKDWN_CASES.items():
        assert (await rendered(text))["html"] == html, text

    # What people typed arrives escaped (&amp; &lt; &gt;) and must show as text: no tags, pings or links.
    typed = await rendered(
        "&lt;b&gt;hi&lt;/b&gt; &amp; &lt;@U1&gt; &lt;!channel&gt; &lt;https://evil.example|bank&gt;"
    )
    assert typed["text"] == "<b>hi</b> & <@U1> <!channel> <https://evil.example|bank>"
    assert typed["bold"] == 0 and typed["mentions"] == [] and typed["links"] == []

    markup = await rendered(
        "<@U1> in <#C1>, <!here>: <https://example.com/a?b=1|the site> <javascript:alert(1)|x>"
    )
    assert markup["mentions"] == ["@Alex Rivera", "#support", "@here"]
    assert ["https://example.com/a?b=1", "the site", "_blank"] in markup["links"]
    assert "javascript" not in str(markup["links"]) and "<javascript:alert(1)|x>" in markup["text"]

    date = await rendered(f"<!date^{noon}^{{date_num}} ({{date_pretty}})|fallback>")
    assert date["text"] == "2023-11-15 (today)"

    quote = await rendered(">the customer said\nand we answered\n&gt; not a quote")
    assert quote["quotes"] == 1 and quote["text"].endswith("> not a quote")


def _text(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _options(*labels: str) -> list[dict[str, Any]]:
    return [{"text": _text(label), "value": label.lower()} for label in labels]


def _input(block_id: str, label: str, element: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "input", "block_id": block_id, "label": _text(label), "element": element, **extra}


# Every kind of block and input the features being built will send, in one modal.
GALLERY = {
    "type": "modal",
    "callback_id": "sandbox_gallery",
    "title": _text("Block Kit gallery"),
    "submit": _text("Send"),
    "close": _text("Cancel"),
    "blocks": [
        {"type": "header", "text": _text("Amends for R-0007")},
        {
            "type": "section",
            "block_id": "summary",
            "text": {"type": "mrkdwn", "text": "*Refund* of _£40_ for `order #1`"},
            "fields": [{"type": "mrkdwn", "text": "*Owner*\n<@U000000001>"}],
            "accessory": {"type": "button", "action_id": "gallery_edit", "text": _text("Edit")},
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Policy allows up to £50"}]},
        {"type": "divider"},
        {
            "type": "actions",
            "block_id": "decide",
            "elements": [
                {"type": "button", "action_id": "gallery_ok", "text": _text("Approve"), "style": "primary"},
                {
                    "type": "button",
                    "action_id": "gallery_refuse",
                    "text": _text("Refuse"),
                    "style": "danger",
                    "value": "refuse",
                    "confirm": {
                        "title": _text("Refuse these amends?"),
                        "text": {"type": "mrkdwn", "text": "The agent will be told *why*."},
                        "confirm": _text("Refuse"),
                        "deny": _text("Keep"),
                        "style": "danger",
                    },
                },
            ],
        },
        _input("note", "Note", {"type": "plain_text_input", "action_id": "v"}),
        _input("story", "Story", {"type": "plain_text_input", "action_id": "v", "multiline": True}),
        _input(
            "kind", "Kind", {"type": "static_select", "action_id": "v", "options": _options("Refund", "Gift")}
        ),
        _input(
            "tone", "Tone", {"type": "radio_buttons", "action_id": "v", "options": _options("Warm", "Formal")}
        ),
        _input(
            "checks",
            "Checks",
            {"type": "checkboxes", "action_id": "v", "options": _options("Called", "Emailed", "Wrote")},
            optional=True,
        ),
        _input("who", "Who", {"type": "users_select", "action_id": "v"}),
        _input("day", "Day", {"type": "datepicker", "action_id": "v"}),
        _input("time", "Time", {"type": "timepicker", "action_id": "v"}),
        _input("amount", "Amount", {"type": "number_input", "action_id": "v", "is_decimal_allowed": True}),
    ],
}


async def test_every_input_and_a_confirm_dialog_round_trip_as_slack_sends_them(journey: Journey) -> None:
    """Features to come send these elements; the page must render them and send back what Slack would."""
    page = journey.page
    sandbox = journey.client.sandbox
    bolt = sandbox.mend.bolt
    seen: dict[str, Any] = {}

    async def on_submit(ack: Any, view: dict[str, Any]) -> None:
        seen["values"] = view["state"]["values"]
        await ack()

    async def on_refuse(ack: Any, action: dict[str, Any]) -> None:
        seen["action"] = action
        await ack()

    bolt.view("sandbox_gallery")(on_submit)
    bolt.action("gallery_refuse")(on_refuse)
    alex = sandbox.personas[0].user_id
    sam = sandbox.personas[1].user_id
    trigger = sandbox.double.issue_trigger_id(alex)
    await sandbox.mend.slack_client.views_open(trigger_id=trigger, view=GALLERY)

    await page.wait_for_selector("[data-testid=modal] h2:text('Block Kit gallery')")  # by polling
    modal = journey.modal()
    assert await modal.locator(".bk-section-text b").inner_text() == "Refund"
    assert await modal.locator(".bk-field .mention").inner_text() == "@Alex Rivera"
    assert await modal.locator(".bk-primary", has_text="Approve").count() == 1

    await journey.click_button("Refuse", within=modal)
    dialog = page.locator("[data-testid=confirm]")
    assert "The agent will be told why." in await dialog.inner_text()
    await journey.shot("confirm-dialog")
    await dialog.locator("[data-testid=confirm-ok]").click()
    await journey.settled()
    assert seen["action"]["value"] == "refuse" and seen["action"]["block_id"] == "decide"

    await journey.fill_modal(
        {"Note": "Called back", "Story": "line one\nline two", "Kind": "Gift", "Tone": "Warm"}
    )
    await journey.modal_block("Checks").locator(".bk-choice", has_text="Called").locator("input").check()
    await journey.modal_block("Checks").locator(".bk-choice", has_text="Wrote").locator("input").check()
    await journey.fill_modal({"Who": "Sam Okafor", "Day": "2024-05-01", "Time": "09:30", "Amount": "12.5"})
    await journey.shot("gallery-filled")
    await journey.submit_modal()
    await modal.wait_for(state="detached")

    values = seen["values"]
    assert values["note"]["v"]["value"] == "Called back"
    assert values["story"]["v"]["value"] == "line one\nline two"
    assert values["kind"]["v"]["selected_option"]["value"] == "gift"
    assert values["tone"]["v"]["selected_option"]["value"] == "warm"
    assert [o["value"] for o in values["checks"]["v"]["selected_options"]] == ["called", "wrote"]
    assert values["who"]["v"]["selected_user"] == sam
    assert values["day"]["v"]["selected_date"] == "2024-05-01"
    assert values["time"]["v"]["selected_time"] == "09:30"
    assert values["amount"]["v"]["value"] == "12.5"
    sandbox.double.assert_no_rejections()


def step_prompt(thread: Any, number: int) -> Any:
    """The newest prompt for step `number` in the thread (a reopened step is posted again at the bottom)."""
    return thread.locator("[data-testid=message]", has_text=f"Step {number} of 8").last


async def test_a_duplicate_report_not_yet_and_a_reopen_in_a_real_browser(journey: Journey) -> None:
    """The second report, "Not yet" and Reopen, as a person meets them in the page."""
    page = journey.page
    sandbox = journey.client.sandbox
    thread = journey.thread()

    async def report(summary: str) -> None:
        await journey.open_channel("support")
        await journey.type_in_composer(f"/recover {summary}")
        await page.wait_for_selector("[data-testid=modal] h2:text('Report a failure')")
        await journey.fill_modal(
            {
                "Customer": "Li Wei",
                "Account or order reference": "order #A-99310",
                "How hard did it hit them?": "Badly let down: lost time or money",
                "Kind of failure": "Delivery",
            }
        )
        await journey.submit_modal()

    # 1. Alex opens a case for Li Wei; Sam reports the same customer again and is shown the open case.
    await report("Parcel marked delivered but never arrived")
    await journey.modal().wait_for(state="detached")
    await journey.switch_persona("Sam Okafor")
    await report("Second parcel arrived crushed")
    choice = journey.modal_block("What should happen?")
    await choice.wait_for()
    shown = await journey.modal().inner_text()
    assert "R-0001" in shown and "@Alex Rivera" in shown
    assert await choice.locator(".bk-choice", has_text="Open a new case anyway").count() == 1
    await journey.shot("duplicate-warning")
    await journey.fill_modal({"What should happen?": "Add to R-0001 instead"})
    await journey.submit_modal()
    await journey.modal().wait_for(state="detached")
    await journey.open_channel("recovery")
    assert await page.locator("#messages [data-testid=message]", has_text="R-0002").count() == 0
    await journey.open_thread("R-0001")
    added = thread.locator("[data-testid=message]", has_text="reported this customer again")
    await added.wait_for()
    assert "Second parcel arrived crushed" in await added.inner_text()
    assert "@Sam Okafor" in await added.inner_text()
    await journey.shot("report-added-to-case")

    # 2. Alex walks the case to its follow-up: the apology through the coach's form, then Done on each step.
    await journey.switch_persona("Alex Rivera")
    await journey.open_channel("recovery")
    await journey.open_thread("R-0001")
    await journey.click_button("Draft apology", within=step_prompt(thread, 1))
    await journey.modal_block("Your message to the customer").locator("textarea").fill(GOOD_APOLOGY)
    await journey.submit_modal()
    await journey.modal().wait_for(state="detached")
    for number in range(2, 7):
        prompt = step_prompt(thread, number)
        await prompt.locator(".bk-button", has_text="Done").wait_for()
        await journey.click_button("Done", within=prompt)
        await prompt.locator(".bk-section-text", has_text="done by @Alex Rivera").wait_for()
    await step_prompt(thread, 7).locator(".bk-button", has_text="Done").wait_for()
    await journey.shot("walked-to-follow-up")

    # 3. Next due brings the question about the customer; "Not yet" posts the fix again at the bottom.
    asked = thread.locator("[data-testid=message]", has_text="Is the customer satisfied?")
    await journey.next_due_until(asked)
    assert sandbox.clock.offset - sandbox.start_offset > timedelta(hours=23)  # the next day's check
    await journey.shot("customer-satisfied-asked")
    assert await asked.locator(".bk-button", has_text="Satisfied").count() == 1
    await journey.click_button("Not yet", within=asked)
    await asked.locator(".bk-type-context, .bk-section-text", has_text="Not yet").first.wait_for()
    newest = thread.locator("[data-testid=message]").last
    assert "Step 5 of 8 · Fix the problem" in await newest.inner_text()
    assert "customer not satisfied yet" in await newest.inner_text()
    assert await newest.locator(".bk-button", has_text="Done").count() == 1
    old_fix = thread.locator("[data-testid=message]", has_text="Step 5 of 8").first
    assert "reopened below" in await old_fix.inner_text() and await old_fix.locator(".bk-button").count() == 0
    assert "waiting" in await step_prompt(thread, 7).inner_text()
    await journey.card("R-0001").locator(".bk-section-text", has_text="Next: Fix the problem").wait_for()
    await journey.shot("not-yet-fix-again")

    # 4. The fix done again brings the follow-up back at the bottom; the rest done, the case closes.
    await journey.click_button("Done", within=newest)
    follow_up = step_prompt(thread, 7)
    assert await thread.locator("[data-testid=message]").last.inner_text() == await follow_up.inner_text()
    await follow_up.locator(".bk-button", has_text="Done").wait_for()
    assert "Step 7 of 8 · Follow up" in await follow_up.inner_text()
    asked_again = thread.locator("[data-testid=message]", has_text="Is the customer satisfied?").nth(1)
    await journey.next_due_until(asked_again)
    await journey.click_button("Satisfied", within=asked_again)
    await asked_again.locator(
        ".bk-section-text, .bk-type-context", has_text="Customer satisfied"
    ).first.wait_for()
    await journey.click_button("Done", within=follow_up)
    record = step_prompt(thread, 8)
    await record.locator(".bk-button", has_text="Done").wait_for()
    await journey.click_button("Done", within=record)
    await journey.close_case("R-0001")
    closed = thread.locator("[data-testid=message]", has_text="is closed. Recovery summary")
    await closed.wait_for()
    card = journey.card("R-0001")
    await card.locator(".bk-button", has_text="Reopen…").wait_for()
    await journey.shot("closed")

    # 5. Reopen asks why and which steps: the fix and the record are ticked to start with.
    await journey.click_button("Reopen…", within=card)
    await page.wait_for_selector("[data-testid=modal] h2:text('Reopen the case')")
    steps = journey.modal_block("Steps to do again")
    ticked = steps.locator(".bk-choice:has(input:checked)")
    assert await ticked.all_inner_texts() == ["5. Fix the problem", "8. Document and learn"]
    assert (
        "8. Document and learn" in await steps.inner_text() and "1. Acknowledge" in await steps.inner_text()
    )
    await journey.fill_modal({"Why reopen it?": "The replacement parcel arrived crushed too"})
    await journey.shot("reopen-choice")
    await journey.submit_modal()
    await journey.modal().wait_for(state="detached")
    reopened = thread.locator("[data-testid=message]", has_text="was reopened by @Alex Rivera")
    await reopened.wait_for()
    assert "The replacement parcel arrived crushed too" in await reopened.inner_text()
    fix_again = thread.locator("[data-testid=message]").last
    assert "Step 5 of 8 · Fix the problem" in await fix_again.inner_text()
    await card.locator(".bk-section-text", has_text="Progress 6/8 · Next: Fix the problem").wait_for()
    assert await card.locator(".bk-button", has_text="Close case").count() == 1
    await journey.shot("reopened")

    # 6. The fix and the record done again, the second closing says the case was closed again.
    await journey.click_button("Done", within=step_prompt(thread, 5))
    record = step_prompt(thread, 8)
    await record.locator(".bk-button", has_text="Done").wait_for()
    await journey.click_button("Done", within=record)
    await journey.close_case("R-0001")
    summaries = thread.locator("[data-testid=message]", has_text="Recovery summary")
    await summaries.nth(1).wait_for()
    again = await summaries.nth(1).inner_text()
    assert "closed again" in again and "Updated recovery summary" in again
    assert "closed again" not in await summaries.first.inner_text()
    assert await thread.locator("[data-testid=message]", has_text="closed again").count() == 1
    await card.locator(".bk-button", has_text="Reopen…").wait_for()
    await journey.shot("closed-again")
    sandbox.double.assert_no_rejections()
