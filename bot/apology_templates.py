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


# --- Whom the greeting addresses ----------------------------------------------------------------------


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


#: Titles a greeting keeps, with the surname after them: "Mrs Okonkwo", "Dr Smith".
_SURNAME_TITLES = _words(
    "mr mrs ms miss mx dr doctor prof professor rev revd reverend fr father pastor rabbi imam lord lady "
    "capt captain judge herr frau mme mlle madame monsieur sra sr"
)
#: Titles that go with the given name instead: "Sir Elton", "Dame Judi".
_GIVEN_NAME_TITLES = frozenset({"sir", "dame"})
#: Particles that belong to a surname: "Mr van der Berg", "Dr da Silva".
_SURNAME_PARTICLES = _words(
    "van von der den de da di du del della le la bin ibn al el ten ter ní nic ó uí mac"
)
#: Words that make a name a company, a team or a group of people rather than one person to greet by name.
_ORGANISATION_WORDS = _words(
    """ltd limited llc llp inc incorporated plc corp corporation co company gmbh ag sa sas sarl bv nv pty
    group holdings partners associates services solutions systems technologies tech industries enterprises
    international agency hotel hotels restaurant cafe clinic practice surgery school college university
    academy council club society trust foundation charity church team family party wedding committee
    board department dept office staff residents tenants guests household parents couple crew"""
)
_PARENTHESES = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\"[^\"]*\"")
_INITIAL = re.compile(r"^[^\W\d_]\.?$")
_WIDE_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_AND = re.compile(r"\s+(?:and|&|\+)\s+", re.IGNORECASE)


def _bare(word: str) -> str:
    return word.lower().rstrip(".,")


def _person(words: list[str]) -> str | None:
    """How to greet one person, from the words of their name; None when it can't be told."""
    if not words:
        return None
    title = _bare(words[0])
    if title in _SURNAME_TITLES | _GIVEN_NAME_TITLES:
        rest = words[1:]
        if not rest:
            return None
        if title in _GIVEN_NAME_TITLES:
            return f"{words[0]} {rest[0]}"
        # The surname: the last word, with any particles before it ("van der Berg").
        start = len(rest) - 1
        while start > 0 and rest[start - 1].lower() in _SURNAME_PARTICLES:
            start -= 1
        return f"{words[0]} {' '.join(rest[start:])}"
    if _INITIAL.match(words[0]):
        # "J. Smith": an initial alone reads oddly ("Hi J."), the whole name doesn't.
        return " ".join(words)
    if len(words[0]) > 1 and words[0].isupper():
        return None  # "ACME", "JP": capitals are more often a company or initials than a given name
    return words[0]


def greeting_name(customer_name: str | None) -> str | None:
    """The name to put after "Hi", or None when "Hi there" reads better.

    A person is greeted by their given name ("Dana Cole" → "Dana"), or with their title and surname
    when the name has one ("Mrs Okonkwo", "Dr Jane Smith" → "Dr Smith"). Companies, teams and groups
    ("ACME Ltd", "The Smith wedding party"), a lone title, an email address or a reference number get
    "there": greeting them by their first word ("Hi ACME", "Hi The") reads like a mail merge gone wrong.
    """
    text = " ".join(_PARENTHESES.sub(" ", customer_name or "").split()).strip(" ,;:-")
    if not text or "@" in text or any(ch.isdigit() for ch in text):
        return None
    if _WIDE_SCRIPT.search(text):
        return text  # Chinese, Japanese, Korean names: the whole name, as written
    if "," in text:
        # "Okonkwo, Ada" (surname first, as CRMs export it) is greeted as "Ada"; "Tom, Dick and Harry"
        # is a list of people.
        if text.count(",") > 1 or _AND.search(text):
            return None
        surname, _, given = text.partition(",")
        text = f"{given.strip()} {surname.strip()}".strip()
    words = text.split()
    lowered = [_bare(w) for w in words]
    if lowered[0] == "the" or any(w in _ORGANISATION_WORDS for w in lowered):
        return None
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) > 1 and all(ch.isupper() for ch in letters):
        return None  # "ACME", "IBM UK": capitals alone are more often a company than a shouting person
    if not all(any(ch.isalpha() for ch in w) for w in words if w not in {"&", "+"}):
        return None
    # "Mr and Mrs Patel", "Anna & Ben Lewis": each person, the surname shared.
    parts = [p.split() for p in _AND.split(text)]
    if len(parts) > 2:
        return None
    if len(parts) == 2:
        first, second = parts
        second_name = _person(second)
        if len(first) == 1 and _bare(first[0]) in _SURNAME_TITLES and len(second) >= 2 and second_name:
            return f"{first[0]} and {second_name}"  # "Mr and Mrs Patel"
        names = [_person(first), second_name]
        if None in names:
            return None
        return " and ".join(n for n in names if n)
    name = _person(words)
    if name and name == name.lower():
        name = " ".join(w[:1].upper() + w[1:] for w in name.split())  # "dana" → "Dana"
    return name


def fill_template(situation: Situation, *, customer_name: str | None, summary: str) -> FilledTemplate:
    name = greeting_name(customer_name) or "there"
    problem = summary.strip().rstrip(".!") or "[what went wrong]"
    # "Parcel was late" reads "…let you down: parcel was late"; "DHL lost it" keeps its capitals.
    problem_lc = problem if problem[:2].isupper() else problem[0].lower() + problem[1:]
    text = _TEMPLATES[situation].format(
        name=name, problem=problem_lc, problem_sentence=f"{problem[0].upper()}{problem[1:]}."
    )
    return FilledTemplate(situation=situation, text=text)
