"""The pieces every Mend modal composes: the modal itself, the case it is about, and each kind of input."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import TypedDict, Unpack

from slack_sdk.models.blocks import (
    Block,
    DatePickerElement,
    InputBlock,
    InputInteractiveElement,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    TimePickerElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.cases import Case
from handlers.blocks.kit import section
from handlers.blocks.text import safe_mrkdwn
from handlers.ids import InputId

#: Slack's limit on a plain_text_input, the usual length of a free-text answer.
LONG_TEXT_LIMIT = 3000
CHOOSE_ONE = "Choose one"


def modal(
    callback_id: str,
    title: str,
    blocks: Sequence[Block],
    *,
    submit: str | None = None,
    close: str = "Cancel",
    private_metadata: str | None = None,
) -> View:
    return View(
        type="modal",
        callback_id=callback_id,
        title=title,
        submit=submit,
        close=close,
        private_metadata=private_metadata,
        blocks=blocks,
    )


def customer_of(case: Case) -> str:
    """The customer as a modal or message names them: escaped and short enough for a heading."""
    return safe_mrkdwn(case.report.customer_display, 200)


def summary_of(case: Case, limit: int) -> str:
    return safe_mrkdwn(case.report.summary, limit)


def case_line(case: Case, about: str | None = None, *more: str) -> str:
    """`*R-42* · about`, then one line each of `more`: which case this is, always written the same way."""
    head = f"*{case.reference}* · {about}" if about else f"*{case.reference}*"
    return "\n".join((head, *more))


def case_header(case: Case, about: str | None = None, *more: str) -> SectionBlock:
    """The section at the top of a modal saying which case it is about (the parts must be escaped already)."""
    return section(case_line(case, about, *more))


def options(choices: Iterable[tuple[str, str]], *, emoji: bool = False) -> list[Option]:
    """Options from (value, label) pairs; `emoji` lets emoji codes in the labels render as emoji."""
    return [
        Option(value=value, text=PlainTextObject(text=label, emoji=emoji or None)) for value, label in choices
    ]


def _input(
    field: InputId,
    label: str,
    element: InputInteractiveElement,
    *,
    optional: bool = False,
    hint: str | None = None,
    block_id: str | None = None,
) -> InputBlock:
    # A default is left out rather than sent as `false`: the payload stays the shape Slack documents.
    return InputBlock(
        block_id=block_id or field.value, label=label, element=element, optional=optional or None, hint=hint
    )


def text_input(
    field: InputId,
    label: str,
    *,
    max_length: int,
    multiline: bool = False,
    optional: bool = False,
    hint: str | None = None,
    placeholder: str | None = None,
    initial_value: str | None = None,
    focus: bool = False,
    block_id: str | None = None,
) -> InputBlock:
    """A typed answer: one line for a name or an amount, several (`multiline`) for anything said in words.

    `block_id` replaces the field's own when a redraw must drop what was typed (Slack keeps an input's
    text for as long as its block_id stays).
    """
    element = PlainTextInputElement(
        action_id=field.action_id,
        multiline=multiline or None,
        max_length=max_length,
        placeholder=placeholder,
        initial_value=initial_value,
        focus_on_load=focus or None,
    )
    return _input(field, label, element, optional=optional, hint=hint, block_id=block_id)


class _TextOptions(TypedDict, total=False):
    optional: bool
    hint: str | None
    placeholder: str | None
    initial_value: str | None
    block_id: str | None


def long_text_input(
    field: InputId, label: str, *, max_length: int = LONG_TEXT_LIMIT, **rest: Unpack[_TextOptions]
) -> InputBlock:
    """What went wrong, a reason, a justification, a lesson: several lines, up to Slack's limit."""
    return text_input(field, label, max_length=max_length, multiline=True, **rest)


def select_input(
    field: InputId,
    label: str,
    choices: Sequence[Option],
    *,
    placeholder: str = CHOOSE_ONE,
    initial: Option | None = None,
    optional: bool = False,
) -> InputBlock:
    element = StaticSelectElement(
        action_id=field.action_id, placeholder=placeholder, options=choices, initial_option=initial
    )
    return _input(field, label, element, optional=optional)


def radio_input(field: InputId, label: str, choices: Sequence[Option]) -> InputBlock:
    return _input(field, label, RadioButtonsElement(action_id=field.action_id, options=choices))


def person_input(
    field: InputId, label: str, *, initial: str | None = None, optional: bool = False, hint: str | None = None
) -> InputBlock:
    """Pick one person in the workspace."""
    element = UserSelectElement(action_id=field.action_id, initial_user=initial)
    return _input(field, label, element, optional=optional, hint=hint)


def date_input(field: InputId, label: str, *, initial: date | None = None) -> InputBlock:
    element = DatePickerElement(
        action_id=field.action_id, initial_date=initial.isoformat() if initial else None
    )
    return _input(field, label, element)


def date_time_inputs(
    day_field: InputId,
    time_field: InputId,
    day: date,
    hhmm: str,
    tz_label: str,
    labels: tuple[str, str] = ("Date", "Time"),
) -> list[Block]:
    """A date and a time of day (`hhmm`) in the person's own time zone, which the hint names."""
    date_label, time_label = labels
    clock = TimePickerElement(action_id=time_field.action_id, initial_time=hhmm)
    return [
        date_input(day_field, date_label, initial=day),
        _input(time_field, time_label, clock, hint=f"In your time zone ({tz_label})."),
    ]
