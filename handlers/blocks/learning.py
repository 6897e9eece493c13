"""Block Kit for the learning loop: the recurrence alert in the process channel and the process-fix modal."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
)
from slack_sdk.models.views import View

from bot.learning import ProcessFix, RecurrenceAlert
from bot.records import human_duration
from handlers.blocks import fields
from handlers.blocks.kit import button, context, section
from handlers.blocks.refs import json_int, json_object
from handlers.blocks.text import escape_mrkdwn, mention, safe_mrkdwn
from handlers.ids import LearningId

MAX_LISTED_CASES = 20


def encode_alert(alert_id: int) -> str:
    return json.dumps({"a": alert_id})


def decode_alert(raw: Any) -> int | None:
    return json_int((json_object(raw, 200) or {}).get("a"))


def build_recurrence_alert(
    alert: RecurrenceAlert, label: str, fixes: Sequence[ProcessFix] = ()
) -> list[Block]:
    cases = "\n".join(
        f"• *{c.reference}* · {safe_mrkdwn(c.customer, 100)}" for c in alert.cases[:MAX_LISTED_CASES]
    )
    if len(alert.cases) > MAX_LISTED_CASES:
        cases += f"\n…and {len(alert.cases) - MAX_LISTED_CASES} more"
    blocks: list[Block] = [
        section(
            f":repeat: *Recurring root cause: {escape_mrkdwn(label)}* · {len(alert.cases)} cases "
            f"in the last {human_duration(alert.window)}"
        ),
        section(cases or "_(no cases)_"),
        context("A cause that keeps coming back needs a process fix, not another apology."),
    ]
    if fixes:
        lines = "\n".join(
            f"• {safe_mrkdwn(f.description, 300)} · owner {mention(f.owner_user_id)} · due {f.due_on:%Y-%m-%d}"
            for f in fixes[-10:]
        )
        blocks.append(section(f"*Process fixes*\n{lines}"[:3000]))
    blocks.append(
        ActionsBlock(
            block_id=LearningId.ALERT_ACTIONS.value,
            elements=[
                button(
                    LearningId.CREATE_FIX.value, "Create process fix", encode_alert(alert.id), style="primary"
                )
            ],
        )
    )
    return blocks


def build_process_fix_modal(alert: RecurrenceAlert, label: str) -> View:
    question = f"*{escape_mrkdwn(label)}* came back {len(alert.cases)} times. What will change so it stops?"
    return fields.modal(
        LearningId.FIX_VIEW.value,
        "Create a process fix",
        [
            section(question),
            fields.long_text_input(LearningId.FIX_DESCRIPTION, "What will change"),
            fields.person_input(LearningId.FIX_OWNER, "Owner"),
            fields.date_input(LearningId.FIX_DUE, "Due"),
        ],
        submit="Create",
        private_metadata=encode_alert(alert.id),
    )
