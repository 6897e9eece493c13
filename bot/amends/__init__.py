"""Amends with well-dosed generosity: money, the team's policy, who grants what, approvals and escalation.

One module per job: `money` (amounts), `policy` (the policy as applied) and `policy_file` (as written),
`rules` (checking and assessing an offer), `models` (requests and outcomes), `ports` (what the service
needs from outside), `service` (`AmendsService`) and `effects` (the Slack side and the escalation, as rows
on the follow-up engine). The names other layers use are re-exported here.
"""

from bot.amends.effects import AmendsEffect, AmendsEffects, OtherAmends
from bot.amends.models import (
    Amends,
    AmendsHomeSummary,
    AmendsSource,
    AmendsState,
    ApprovalCopy,
    Approvers,
    DecideResult,
    Decision,
    LedgerEntry,
    NewAmends,
    OfferContext,
    Outcome,
    Ruling,
    Verdict,
    granted_summary,
)
from bot.amends.money import AmountError, Money, Percent, parse_amount
from bot.amends.policy import AmendsKind, AmendsPolicy, Guarantee, Guidance
from bot.amends.policy_file import DEFAULT_POLICY, PolicyError, load_policy, policy_from_data
from bot.amends.rules import (
    MAX_TEXT,
    Offer,
    OfferField,
    Reason,
    ReasonCode,
    Tally,
    assess,
    customer_key,
    fold_customer,
    validate_offer,
)
from bot.amends.service import AmendsService

__all__ = [
    "DEFAULT_POLICY",
    "MAX_TEXT",
    "Amends",
    "AmendsEffect",
    "AmendsEffects",
    "AmendsHomeSummary",
    "AmendsKind",
    "AmendsPolicy",
    "AmendsService",
    "AmendsSource",
    "AmendsState",
    "AmountError",
    "ApprovalCopy",
    "Approvers",
    "DecideResult",
    "Decision",
    "Guarantee",
    "Guidance",
    "LedgerEntry",
    "Money",
    "NewAmends",
    "Offer",
    "OfferContext",
    "OfferField",
    "OtherAmends",
    "Outcome",
    "Percent",
    "PolicyError",
    "Reason",
    "ReasonCode",
    "Ruling",
    "Tally",
    "Verdict",
    "assess",
    "customer_key",
    "fold_customer",
    "granted_summary",
    "load_policy",
    "parse_amount",
    "policy_from_data",
    "validate_offer",
]
