"""Three-signals apology coach: checks a draft reply for "I care", "I understand" and "you can trust me"."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Signal(StrEnum):
    CARE = "care"
    UNDERSTAND = "understand"
    TRUST = "trust"


class FlagKind(StrEnum):
    MECHANICAL_FORMULA = "mechanical_formula"
    NON_APOLOGY = "non_apology"
    BLAMES_CUSTOMER = "blames_customer"
    BLAMES_OTHERS = "blames_others"
    HIDES_BEHIND_POLICY = "hides_behind_policy"
    PASSIVE_EVASION = "passive_evasion"
    VAGUE_PROMISE = "vague_promise"


class ReviewStatus(StrEnum):
    REVIEWED = "reviewed"
    EMPTY = "empty"
    NOT_ENGLISH = "not_english"


class CoachContext(BaseModel):
    """What the case is about, so "I understand" can be checked against the real problem."""

    model_config = ConfigDict(frozen=True)

    customer_name: str | None = Field(default=None, max_length=200)
    summary: str | None = Field(default=None, max_length=2000)
    category: str | None = Field(default=None, max_length=100)
