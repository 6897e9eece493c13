"""Starting points for the apology, by situation; the agent edits them and the coach checks the result."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Situation(StrEnum):
    STANDARD = "standard"
    ANGRY = "angry"
    CANT_SAY_YES = "cant_say_yes"
    SERIOUS = "serious"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Situation.STANDARD: "Standard",
    Situation.ANGRY: "The customer is angry or rude",
    Situation.CANT_SAY_YES: "We can't say yes",
    Situation.SERIOUS: "Serious failure / treated unfairly",
}

# [Square brackets] mark what the agent must fill in: the next step and when it will happen.
_TEMPLATES = {
    Situation.STANDARD: (
        "Hi {name},\n\nI'm sorry we let you down: {problem}. I understand how frustrating that is when you "
        "were counting on us.\n\nI'm taking care of this personally: I will [what you will do] and get back "
        "to you by [day and time]."
    ),
    Situation.ANGRY: (
        "Hi {name},\n\nYou have every reason to be upset, and I'm sorry. {problem_sentence} That should not "
        "have happened, and I understand why it made you angry.\n\nHere is what I'm doing right now: "
        "[what you will do]. I will call you by [day and time] to tell you it's done."
    ),
    Situation.CANT_SAY_YES: (
        "Hi {name},\n\nI'm sorry we let you down: {problem}. I understand this isn't the answer you hoped "
        "for, and I won't pretend otherwise. [What you can't do, and the honest reason.]\n\nWhat I can do is "
        "[the best alternative], and I will have it arranged by [day and time]."
    ),
    Situation.SERIOUS: (
        "Hi {name},\n\nI'm truly sorry. {problem_sentence} You were treated unfairly, and that is on us, not "
        "on you. I understand how serious this is for you.\n\nI am personally making sure we put it right: "
        "[what you will do], by [day and time]. [What you will change so that it doesn't happen to you, or "
        "anyone else, again.]"
    ),
}


_PLACEHOLDER = re.compile(r"\[(?:what you|day and time|the best alternative)[^\]]*\]", re.IGNORECASE)


def unfilled_placeholders(draft: str) -> list[str]:
    """The template's [bracketed] parts still in a draft: never meant to reach a customer."""
    return _PLACEHOLDER.findall(draft)


class FilledTemplate(BaseModel):
    model_config = ConfigDict(frozen=True)

    situation: Situation
    text: str


def fill_template(situation: Situation, *, customer_name: str | None, summary: str) -> FilledTemplate:
    name = (customer_name or "").strip().split(" ")[0] or "there"
    problem = summary.strip().rstrip(".!") or "[what went wrong]"
    # "Parcel was late" reads "…let you down: parcel was late"; "DHL lost it" keeps its capitals.
    problem_lc = problem if problem[:2].isupper() else problem[0].lower() + problem[1:]
    text = _TEMPLATES[situation].format(
        name=name, problem=problem_lc, problem_sentence=f"{problem[0].upper()}{problem[1:]}."
    )
    return FilledTemplate(situation=situation, text=text)
