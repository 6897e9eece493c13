"""Block Kit parts every message and modal uses, written once: a mrkdwn section, a context line, buttons."""

from __future__ import annotations

from typing import Literal

from slack_sdk.models.blocks import (
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)


def section(
    text: str, *, block_id: str | None = None, accessory: ButtonElement | None = None
) -> SectionBlock:
    """A mrkdwn section (the caller has escaped and bounded the text)."""
    return SectionBlock(text=MarkdownTextObject(text=text), block_id=block_id, accessory=accessory)


def context(*texts: str) -> ContextBlock:
    """Small print under a section: one mrkdwn element per text."""
    return ContextBlock(elements=[MarkdownTextObject(text=text) for text in texts])


def button(
    action_id: str,
    text: str,
    value: str | None = None,
    *,
    style: Literal["primary", "danger"] | None = None,
    confirm: ConfirmObject | None = None,
) -> ButtonElement:
    return ButtonElement(action_id=str(action_id), text=text, value=value, style=style, confirm=confirm)


def button_row(value: str, *labelled: tuple[str, str], primary: bool = True) -> list[ButtonElement]:
    """Buttons (action_id, text) that all carry `value`, the ref of what they act on; the first is primary."""
    return [
        button(action_id, text, value, style="primary" if primary and i == 0 else None)
        for i, (action_id, text) in enumerate(labelled)
    ]
