"""Follow-ups: time-bound nudges kept as rows (the table is the queue), delivered exactly once.

The modules
-----------
`models` (rows, kinds, states, verdicts), `calendar` (time zones, working hours, snoozing), `case_kinds`
(each case kind's rules, in one table), `policy` (the settings a case change schedules with), `ports` (the
table, Slack, people, cases), `engine` (`FollowUpEngine`: the queue, for every kind in its kind table),
`case_rules` (the `check` of every case kind), `case_actions` (what people do with a case's nudges and
promises) and `service` (`FollowUpService`: the case actions over one engine). The names other layers use
are re-exported here.

How a follow-up lives
---------------------
1. Something that causes a follow-up (a case opened, the fix step done, a case closed, a promise recorded)
   carries `FollowUpRequest`s computed here by `FollowUpPolicy`; storage writes them as rows in the SAME
   transaction as the change, under a unique dedupe key, so a retried click cannot create two.
2. Every process ticks `FollowUpEngine.claim_due()` (APScheduler, in app.py, is only the clock). Due rows
   are claimed atomically with a lease; each claimed row goes to `process()`, which asks the kind's
   `FollowUpHandler` (from the kind table) whether it is still due (`Cancel`, `Defer`) or to whom and
   where it goes (`Deliver`), waits for the person's working hours, then posts through the
   `FollowUpMessenger` port.
3. Exactly once: just before posting, the lease holder marks the row UNKNOWN ("a post may be under way")
   while renewing its lease; then SENT once Slack answers. A crash, a timeout or a 5xx leaves it UNKNOWN;
   whoever claims an UNKNOWN row first looks for the message's metadata key in Slack (reconciliation)
   and only posts if it is not there. Nothing is retried blindly.
4. Acting on a sent nudge (Done, Snooze, Reassign, the kind's own buttons) changes the row conditionally
   on its `round`, so a stale or double click changes nothing; Snooze and Reassign re-arm the row with
   the next round, whose message gets a new metadata key.

Adding a kind
-------------
- A case kind (about one case, in its thread; docs/followups.md#adding-a-kind has the worked example):
  its value in `FollowUpKind` (models.py), its rules in `case_kinds.CASE_KIND_RULES` (what schedules it,
  when it is still due, who it is for, what Done means, which buttons it accepts) and its words and
  buttons in `handlers.blocks.case_kinds.CASE_KIND_BLOCKS`. Nothing else changes; tests/test_dispatch.py
  fails until the three agree.
- Another feature's kinds (as amends has, `bot.amends.effects`): make your change carry
  `FollowUpRequest(kind=..., key=..., due_at=..., payload={...})` and call
  `storage.followups.stage(session, requests, case_id=...)` inside your own transaction (`key` unique per
  case: the row's dedupe key is `case:<id>:<key>`, or just `<key>` without a case); implement
  `FollowUpHandler` (`check` -> `Deliver | Cancel | Defer`, `render` -> `OutgoingMessage`), or
  `FollowUpEffect` for a delivery of its own; and add `(your kinds, your handler)` to the kind table the
  composition root builds the service with (`kind_table` in app.build).
"""

from bot.followup_request import FollowUpRequest
from bot.followups.calendar import (
    ALWAYS,
    SnoozeChoice,
    WorkingHours,
    format_duration,
    local_to_utc,
    snooze_until,
    zone,
)
from bot.followups.case_kinds import (
    CASE_KIND_RULES,
    CASE_KINDS,
    CaseContext,
    CaseKindRules,
    NudgeAction,
    cancel_reason,
    case_kind,
)
from bot.followups.case_rules import CaseFollowUpRules, fix_step
from bot.followups.engine import FollowUpEngine, kind_table
from bot.followups.models import (
    CLAIMABLE,
    Cancel,
    Defer,
    Deliver,
    FollowUp,
    FollowUpKind,
    FollowUpState,
    NewPromise,
    OutgoingMessage,
    Promise,
    PromiseState,
    ResurveyOutcome,
    Verdict,
)
from bot.followups.policy import FollowUpPolicy, promise_requests
from bot.followups.ports import FollowUpHandler, NotPosted, OutcomeUnknown
from bot.followups.service import FollowUpService

__all__ = [
    "ALWAYS",
    "CASE_KINDS",
    "CASE_KIND_RULES",
    "CLAIMABLE",
    "Cancel",
    "CaseContext",
    "CaseFollowUpRules",
    "CaseKindRules",
    "Defer",
    "Deliver",
    "FollowUp",
    "FollowUpEngine",
    "FollowUpHandler",
    "FollowUpKind",
    "FollowUpPolicy",
    "FollowUpRequest",
    "FollowUpService",
    "FollowUpState",
    "NewPromise",
    "NotPosted",
    "NudgeAction",
    "OutcomeUnknown",
    "OutgoingMessage",
    "Promise",
    "PromiseState",
    "ResurveyOutcome",
    "SnoozeChoice",
    "Verdict",
    "WorkingHours",
    "cancel_reason",
    "case_kind",
    "fix_step",
    "format_duration",
    "kind_table",
    "local_to_utc",
    "promise_requests",
    "snooze_until",
    "zone",
]
