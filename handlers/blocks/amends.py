"""Block Kit for amends: the Offer amends modal, approval requests and their decided copies, thread notices."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.amends import (
    MAX_TEXT,
    Amends,
    AmendsHomeSummary,
    AmendsKind,
    AmendsSource,
    AmendsState,
    ApprovalCopy,
    Decision,
    OfferContext,
    OtherAmends,
)
from bot.cases import Case
from handlers.blocks import fields
from handlers.blocks.kit import button, context, section
from handlers.blocks.recovery import StepRef
from handlers.blocks.refs import encode_ref, json_int, json_object
from handlers.blocks.text import date_token, escape_mrkdwn, is_slack_permalink, mention, quote, safe_mrkdwn
from handlers.ids import AmendsAction, AmendsBlock, AmendsView

SECTION_LIMIT = 3000
HISTORY_SHOWN = 5


@dataclass(frozen=True)
class AmendsRef:
    """Which amends request a button or modal is about; travels in button values and private_metadata."""

    amends_id: int

    def encode(self) -> str:
        return encode_ref({"a": self.amends_id})

    @classmethod
    def decode(cls, raw: Any) -> AmendsRef | None:
        amends_id = json_int((json_object(raw, 200) or {}).get("a"))
        return None if amends_id is None else cls(amends_id)


def _state_label(amends: Amends) -> str:
    if amends.source is AmendsSource.GUARANTEE:
        return "granted under the service guarantee"
    return {
        AmendsState.PENDING: "awaiting approval",
        AmendsState.GRANTED: "granted within the agent's limit",
        AmendsState.APPROVED: "approved",
        AmendsState.ADJUSTED: "approved with an adjusted amount",
        AmendsState.REJECTED: "rejected",
    }[amends.state]


def _history_lines(ctx: OfferContext) -> str:
    if not ctx.history:
        return "_No amends for this customer before._"
    lines = [
        f"• {e.case_reference} · {e.amends.describe(e.amends.final or e.amends.offered)} · "
        f"{_state_label(e.amends)} · {date_token(e.amends.requested_at)}"
        for e in ctx.history[:HISTORY_SHOWN]
    ]
    more = len(ctx.history) - HISTORY_SHOWN
    if more > 0:
        lines.append(f"_…and {more} more_")
    return "\n".join(lines)


def build_offer_modal(ctx: OfferContext) -> View:
    """Offer amends: the policy's guidance for this case, the agent's limit, the customer's history, the form."""
    case, policy = ctx.case, ctx.policy
    severity = case.report.severity
    guidance = (
        f"For a *{escape_mrkdwn(severity.label.lower())}* failure, amends usually fall between "
        f"*{ctx.guidance.low}* and *{ctx.guidance.high}*. Your own limit is *{policy.agent_limit}*; "
        f"discounts usually {policy.percent_low / 100:g}%–{policy.percent_high / 100:g}%. "
        "Within both, it is granted at once; otherwise an approver decides."
    )
    budget = (
        f"This month: {ctx.month_spend} of the {policy.monthly_budget} amends budget."
        if policy.monthly_budget
        else f"This month: {ctx.month_spend} given."
    )
    blocks: list[Block] = [
        fields.case_header(case, fields.customer_of(case), fields.summary_of(case, 1500)),
        section(guidance),
        context(f"{budget} Too little reads as an insult, too much adds nothing: well-dosed generosity."),
        section(f"*This customer's amends*\n{_history_lines(ctx)}"[:SECTION_LIMIT]),
    ]
    if ctx.guarantee is not None:
        remedy = f"{ctx.guarantee.remedy} · {ctx.guarantee.kind.label.lower()}"
        text = f":shield: *Service guarantee:* {escape_mrkdwn(ctx.guarantee.title)} ({remedy})"
        if ctx.guarantee_used:
            blocks.append(section(text + "\n_Invoked already on this case._"))
        else:
            blocks.append(
                SectionBlock(
                    block_id=AmendsBlock.GUARANTEE.value,
                    text=MarkdownTextObject(text=text + "\nGranted at once, no approval needed."),
                    accessory=button(
                        AmendsAction.INVOKE_GUARANTEE.value,
                        "Invoke guarantee",
                        StepRef(case.id, ctx.step_key or "").encode(),
                        style="primary",
                    ),
                )
            )
    blocks += [
        fields.select_input(
            AmendsBlock.KIND, "What you offer", fields.options((k.value, k.label) for k in AmendsKind)
        ),
        fields.text_input(
            AmendsBlock.AMOUNT,
            "Amount",
            max_length=40,
            hint=f"25, 25.50, €25 or 25 {policy.currency}; a percentage such as 10% for a discount. "
            f"Default currency {policy.currency}.",
        ),
        fields.long_text_input(AmendsBlock.JUSTIFICATION, "Why this is right", max_length=MAX_TEXT),
        fields.long_text_input(
            AmendsBlock.CUSTOMER_COST,
            "What the customer was put through",
            max_length=MAX_TEXT,
            optional=True,
            initial_value=(case.report.impact or "")[:MAX_TEXT] or None,
        ),
        fields.person_input(
            AmendsBlock.APPROVER,
            "Ask a particular approver",
            optional=True,
            hint="Only used when it needs approval; otherwise every approver is asked.",
        ),
    ]
    return fields.modal(
        AmendsView.OFFER.value,
        "Offer amends",
        blocks,
        submit="Offer",
        private_metadata=StepRef(case.id, ctx.step_key or "").encode(),
    )


def build_guarantee_done(amends: Amends, case: Case) -> View:
    """The offer modal once the guarantee was invoked: what was granted, and nothing left to submit."""
    return fields.modal(
        AmendsView.GUARANTEE_DONE.value,
        "Guarantee invoked",
        [
            section(
                f":shield: *{case.reference}*: {amends.describe()} granted under the service guarantee. "
                "It is recorded and posted in the case thread."
            )
        ],
        close="Done",
    )


def _summary(amends: Amends, case: Case) -> str:
    return fields.case_line(
        case,
        f"{fields.customer_of(case)} · {escape_mrkdwn(case.report.severity.label)}",
        f"*Asked:* {amends.describe()} by {mention(amends.requester_user_id)}",
    )


#: The heading of a decided request (its own copy, redrawn), by what became of it.
DECIDED_HEADINGS = {
    AmendsState.APPROVED: "approved",
    AmendsState.ADJUSTED: "approved with a new amount",
    AmendsState.REJECTED: "rejected",
    AmendsState.GRANTED: "granted",
}


def build_approval_request(
    amends: Amends,
    case: Case,
    copy: ApprovalCopy | None = None,
    *,
    others: Sequence[OtherAmends] = (),
    links: Mapping[int, str] | None = None,
) -> list[Block]:
    """An approval request: the ask, why it needs an approver, the justification, the customer's other
    amends (pending or given, each linked to its case thread); buttons while pending."""
    head = ":scales: *Amends to approve*"
    if amends.state is not AmendsState.PENDING:  # decided: the heading no longer asks for anything
        head = f":scales: *Amends request {DECIDED_HEADINGS.get(amends.state, amends.state.value)}*"
    elif copy is not None and copy.backup:
        head = ":rotating_light: *Amends to approve: no decision yet from the approvers, so you are asked as backup*"
    blocks: list[Block] = [section(f"{head}\n{_summary(amends, case)}")]
    if amends.reasons:
        reasons = "\n".join(f"• {escape_mrkdwn(r.text)}" for r in amends.reasons)
        blocks.append(section(f"*Why it needs you*\n{reasons}"[:SECTION_LIMIT]))
    detail = f"*Why this is right*\n{quote(safe_mrkdwn(amends.justification, 1400))}"
    if amends.customer_cost:
        detail += f"\n*What the customer was put through*\n{quote(safe_mrkdwn(amends.customer_cost, 1400))}"
    blocks.append(section(detail[:SECTION_LIMIT]))
    if others:
        blocks.append(section(_others_line(others, links or {})))
    if amends.addressed_approver_id:
        blocks.append(context(f"Addressed to {mention(amends.addressed_approver_id)}."))
    if amends.state is AmendsState.PENDING:
        value = AmendsRef(amends.id).encode()
        blocks.append(
            ActionsBlock(
                # Unique per request: the Home tab can show several requests in one view.
                block_id=f"{AmendsBlock.DECISION.value}_{amends.id}",
                elements=[
                    button(AmendsAction.APPROVE.value, "Approve", value, style="primary"),
                    button(AmendsAction.REJECT.value, "Reject…", value, style="danger"),
                    button(AmendsAction.ADJUST.value, "Adjust…", value),
                ],
            )
        )
    else:
        blocks.append(section(decided_line(amends)))
    return blocks


def _others_line(others: Sequence[OtherAmends], links: Mapping[int, str]) -> str:
    parts = []
    for other in others:
        link = links.get(other.amends.id)
        ref = (
            f"<{link}|{other.case_reference}>" if link and is_slack_permalink(link) else other.case_reference
        )
        amount = other.amends.final or other.amends.offered
        state = "granted" if other.amends.state.given else "pending"
        parts.append(f"{ref} {escape_mrkdwn(str(amount))} {state}")
    return f":busts_in_silhouette: *Also for this customer:* {', '.join(parts)}"[:SECTION_LIMIT]


def decided_line(amends: Amends) -> str:
    who = mention(amends.decided_by)
    when = f" · {date_token(amends.decided_at)}" if amends.decided_at else ""
    reason = f"\n_Reason:_ {safe_mrkdwn(amends.decision_reason, 1500)}" if amends.decision_reason else ""
    if amends.state is AmendsState.APPROVED:
        return f":white_check_mark: *Approved* by {who}{when}{reason}"
    if amends.state is AmendsState.ADJUSTED:
        return f":pencil2: *Adjusted to {amends.final}* by {who}{when}{reason}"
    if amends.state is AmendsState.REJECTED:
        return f":x: *Rejected* by {who}{when}{reason}"
    return f":white_check_mark: *Granted* by {who}{when}"


def build_request_notice(amends: Amends, case: Case) -> list[Block]:
    """In the case thread: amends were asked for and need an approver, and why."""
    reasons = "; ".join(escape_mrkdwn(r.text) for r in amends.reasons) or "policy"
    return [
        section(
            f":hourglass_flowing_sand: {mention(amends.requester_user_id)} asked for *{amends.describe()}*; "
            f"an approver decides because {reasons}."[:SECTION_LIMIT]
        )
    ]


def build_outcome(amends: Amends, case: Case) -> list[Block]:
    """In the case thread: what the customer gets (or doesn't), and who decided."""
    if amends.state is AmendsState.GRANTED:
        how = (
            "under the service guarantee" if amends.source is AmendsSource.GUARANTEE else "within their limit"
        )
        text = f":gift: {mention(amends.requester_user_id)} granted *{amends.describe()}* {how}."
    elif amends.state is AmendsState.REJECTED:
        text = f":x: The amends asked for ({amends.describe()}) were *rejected*."
    elif amends.state is AmendsState.ADJUSTED:
        text = f":gift: Amends *adjusted to {amends.final}* ({amends.kind.label.lower()}); {amends.offered} was asked."
    else:
        text = f":gift: Amends *approved*: {amends.describe()}."
    if amends.state is not AmendsState.GRANTED:
        text += "\n" + decided_line(amends)
    return [section(text[:SECTION_LIMIT])]


def requester_text(amends: Amends, case: Case) -> str:
    what = {
        AmendsState.APPROVED: f"were approved: {amends.describe()}",
        AmendsState.ADJUSTED: f"were approved with a new amount, {amends.final} (you asked {amends.offered})",
        AmendsState.REJECTED: "were rejected",
    }.get(amends.state, _state_label(amends))
    reason = f" Reason: {escape_mrkdwn(amends.decision_reason)}" if amends.decision_reason else ""
    by = f" by {mention(amends.decided_by)}" if amends.decided_by else ""
    return f"Your amends for *{case.reference}* {what}{by}.{reason}"[:SECTION_LIMIT]


def build_reminder(amends: Amends, case: Case, recipient: str) -> list[Block]:
    who = f"{to} " if (to := mention(recipient, "")) else ""  # a channel's copy names nobody
    return [
        section(
            f":alarm_clock: {who}Reminder: *{case.reference}*'s amends ({amends.describe()}) have waited "
            f"since {date_token(amends.requested_at)} for a decision."
        )
    ]


def build_decision_modal(amends: Amends, case: Case, decision: Decision) -> View:
    """Reject… or Adjust…: a reason for the requester (and a new amount when adjusting)."""
    blocks: list[Block] = [section(_summary(amends, case))]
    if decision is Decision.ADJUST:
        blocks.append(
            fields.text_input(
                AmendsBlock.NEW_AMOUNT,
                "New amount",
                max_length=40,
                hint="25, 25.50, €25 or 10% (for a discount)",
            )
        )
    blocks.append(
        fields.long_text_input(
            AmendsBlock.REASON,
            "Reason",
            max_length=MAX_TEXT,
            hint="The requester sees it, and may explain it to the customer.",
        )
    )
    adjust = decision is Decision.ADJUST
    return fields.modal(
        (AmendsView.ADJUST if adjust else AmendsView.REJECT).value,
        "Adjust amends" if adjust else "Reject amends",
        blocks,
        submit="Adjust" if adjust else "Reject",
        private_metadata=AmendsRef(amends.id).encode(),
    )


def build_amends_home_section(summary: AmendsHomeSummary) -> list[Block]:
    """The Home tab's amends part: this month's spend against the budget, then what waits for this approver."""
    spend = f"*Amends granted this month:* {summary.spent.format()}"
    if summary.budget is not None and summary.budget.minor > 0:
        share = summary.spent.minor / summary.budget.minor
        filled = min(12, round(share * 12))
        spend += f" of {summary.budget.format()} budget  `{'█' * filled}{'·' * (12 - filled)}` {share:.0%}"
    blocks: list[Block] = [section(spend)]
    if summary.waiting:
        blocks.append(section(f"*Amends waiting for your decision* ({len(summary.waiting)})"))
        for amends, case in summary.waiting:
            blocks += build_approval_request(amends, case)
    return blocks
