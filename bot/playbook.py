"""The recovery playbook: the ordered steps a responder is guided through (defaults from the doctrine)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Step(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    title: str
    what: str
    why: str
    required: bool = True


DEFAULT_STEPS: tuple[Step, ...] = (
    Step(
        key="apologize",
        title="Acknowledge and apologize",
        what="Send a sincere, personal apology that says you care, that you understand, and what you will do next.",
        why="A prompt, sincere response is what turns a failure into loyalty.",
    ),
    Step(
        key="listen",
        title="Listen and go over the complaint",
        what="Restate the problem, ask open questions, and capture the customer's own words.",
        why="The customer must feel understood before any fix lands.",
    ),
    Step(
        key="own",
        title="Take ownership",
        what="Name one owner; never pass the customer around or blame another team.",
        why="One person who owns the outcome is what makes the customer trust you.",
    ),
    Step(
        key="root_cause",
        title="Find the root cause",
        what="Investigate yourself instead of making the customer troubleshoot.",
        why="Fixing the cause stops it happening to them, and to anyone else, again.",
    ),
    Step(
        key="fix",
        title="Fix the problem",
        what="Replace or redo what failed, quickly and fairly; don't stop until it is fixed.",
        why="An apology without a fix is only words.",
    ),
    Step(
        key="amends",
        title="Make amends",
        what="Offer something extra, sized by the compensation policy.",
        why="Well-dosed generosity repairs the relationship; stinginess adds insult to injury.",
        required=False,
    ),
    Step(
        key="follow_up",
        title="Follow up",
        what="Check later that the customer is satisfied, and keep every promise you made.",
        why="A promise forgotten undoes the recovery.",
    ),
    Step(
        key="record",
        title="Document and learn",
        what="Record the problem, its root cause, the fix and the lesson.",
        why="Process recovery: every case should make the next failure less likely.",
    ),
)
