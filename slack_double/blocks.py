"""Block Kit validation: slack_sdk's models plus the documented limits slack_sdk does not check."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_SECTION_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_ID = 255
MAX_BUTTON_VALUE = 2000
MAX_MODAL_TITLE = 24
MAX_MODAL_BUTTON = 24
MAX_PRIVATE_METADATA = 3000
MAX_CALLBACK_ID = 255
MAX_EXTERNAL_ID = 255

# Block types whose nested `elements` are interactive elements (rich_text's are text runs).
_ELEMENT_CONTAINERS = ("actions", "context")


def _ptr(path: str) -> str:
    return f"[json-pointer:{path}]"


def _text_of(obj: Any) -> str | None:
    if isinstance(obj, dict):
        text = obj.get("text")
        return text if isinstance(text, str) else None
    return obj if isinstance(obj, str) else None


def iter_elements(block: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (relative pointer, element) for every interactive element a block holds."""
    accessory = block.get("accessory")
    if isinstance(accessory, dict):
        yield "/accessory", accessory
    element = block.get("element")
    if block.get("type") == "input" and isinstance(element, dict):
        yield "/element", element
    if block.get("type") in _ELEMENT_CONTAINERS:
        for i, el in enumerate(block.get("elements") or []):
            if isinstance(el, dict):
                yield f"/elements/{i}", el


def _dropped_keys(src: Any, out: Any, path: str) -> list[str]:
    """Properties slack_sdk silently dropped while parsing: Slack itself rejects unknown ones."""
    errors: list[str] = []
    if isinstance(src, dict):
        if not isinstance(out, dict):
            kind = src.get("type", "object")
            return [f"unsupported type {kind!r} {_ptr(path)}"]
        for key, value in src.items():
            if value is None:
                continue
            if key not in out:
                errors.append(f"unknown property {key!r} {_ptr(f'{path}/{key}')}")
            else:
                errors.extend(_dropped_keys(value, out[key], f"{path}/{key}"))
    elif isinstance(src, list) and isinstance(out, list):
        for i, (a, b) in enumerate(zip(src, out, strict=False)):
            errors.extend(_dropped_keys(a, b, f"{path}/{i}"))
    return errors


def _check_block_limits(block: dict[str, Any], path: str, seen_block_ids: set[str]) -> list[str]:
    """The limits from Slack's docs, checked here so they hold whatever slack_sdk version is installed."""
    errors: list[str] = []
    block_id = block.get("block_id")
    if block_id is not None:
        if not isinstance(block_id, str) or not block_id:
            errors.append(f"block_id must be a non-empty string {_ptr(path + '/block_id')}")
        elif len(block_id) > MAX_ID:
            errors.append(f"block_id must be at most {MAX_ID} characters {_ptr(path + '/block_id')}")
        elif block_id in seen_block_ids:
            errors.append(f"duplicate block_id {block_id!r} {_ptr(path + '/block_id')}")
        else:
            seen_block_ids.add(block_id)

    kind = block.get("type")
    if kind == "section":
        text = _text_of(block.get("text"))
        if text is not None and len(text) > MAX_SECTION_TEXT:
            errors.append(
                f"section text must be at most {MAX_SECTION_TEXT} characters, got {len(text)} "
                f"{_ptr(path + '/text/text')}"
            )
        fields = block.get("fields") or []
        if isinstance(fields, list):
            if len(fields) > MAX_SECTION_FIELDS:
                errors.append(
                    f"section may have at most {MAX_SECTION_FIELDS} fields {_ptr(path + '/fields')}"
                )
            for i, field in enumerate(fields):
                ftext = _text_of(field)
                if ftext is not None and len(ftext) > MAX_SECTION_FIELD_TEXT:
                    errors.append(
                        f"section field must be at most {MAX_SECTION_FIELD_TEXT} characters "
                        f"{_ptr(f'{path}/fields/{i}/text')}"
                    )
    elif kind == "header":
        text = _text_of(block.get("text"))
        if text is not None and len(text) > MAX_HEADER_TEXT:
            errors.append(
                f"header text must be at most {MAX_HEADER_TEXT} characters, got {len(text)} "
                f"{_ptr(path + '/text/text')}"
            )

    seen_action_ids: set[str] = set()
    for rel, element in iter_elements(block):
        epath = path + rel
        action_id = element.get("action_id")
        if isinstance(action_id, str):
            if len(action_id) > MAX_ID:
                errors.append(f"action_id must be at most {MAX_ID} characters {_ptr(epath + '/action_id')}")
            elif action_id in seen_action_ids:
                errors.append(f"duplicate action_id {action_id!r} in block {_ptr(epath + '/action_id')}")
            seen_action_ids.add(action_id)
        value = element.get("value")
        if element.get("type") == "button" and isinstance(value, str) and len(value) > MAX_BUTTON_VALUE:
            errors.append(
                f"button value must be at most {MAX_BUTTON_VALUE} characters {_ptr(epath + '/value')}"
            )
    return errors


def validate_blocks(blocks: Any, *, max_blocks: int, path: str = "/blocks") -> list[str]:
    """Human-readable problems with a list of blocks; an empty list means Slack would accept it."""
    if not isinstance(blocks, list):
        return [f"blocks must be an array {_ptr(path)}"]
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"no more than {max_blocks} items allowed, got {len(blocks)} {_ptr(path)}")
    seen_block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        bpath = f"{path}/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"each block must be an object with a type {_ptr(bpath)}")
            continue
        own = _check_block_limits(block, bpath, seen_block_ids)
        errors.extend(own)
        if own:
            continue  # one report per problem: slack_sdk would repeat the same limit in other words
        try:
            parsed = Block.parse(block)
            if parsed is None:
                errors.append(f"unsupported block type {block['type']!r} {_ptr(bpath)}")
                continue
            out = parsed.to_dict()
        except SlackObjectFormationError as exc:
            errors.append(f"{exc} {_ptr(bpath)}")
            continue
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            errors.append(f"malformed {block['type']} block: {exc} {_ptr(bpath)}")
            continue
        errors.extend(_dropped_keys(block, out, bpath))
    return errors


def validate_message_blocks(blocks: Any) -> list[str]:
    return validate_blocks(blocks, max_blocks=MAX_MESSAGE_BLOCKS)


def validate_view(view: Any, path: str = "/view") -> list[str]:
    """Problems with a modal or home view payload, each tagged with a json-pointer as Slack does."""
    if not isinstance(view, dict):
        return [f"view must be an object {_ptr(path)}"]
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return [f"view type must be 'modal' or 'home', got {kind!r} {_ptr(path + '/type')}"]
    errors = validate_blocks(view.get("blocks", []), max_blocks=MAX_VIEW_BLOCKS, path=path + "/blocks")
    if kind == "modal":
        title = _text_of(view.get("title"))
        for key in ("title", "submit", "close"):
            if key in view and not isinstance(view[key], dict):
                errors.append(f"{key} must be a plain_text object {_ptr(f'{path}/{key}')}")
        if not title:
            errors.append(f"a modal needs a title {_ptr(path + '/title')}")
        elif len(title) > MAX_MODAL_TITLE:
            errors.append(f"title must be at most {MAX_MODAL_TITLE} characters {_ptr(path + '/title/text')}")
        for key in ("submit", "close"):
            text = _text_of(view.get(key))
            if text is not None and len(text) > MAX_MODAL_BUTTON:
                errors.append(
                    f"{key} must be at most {MAX_MODAL_BUTTON} characters {_ptr(f'{path}/{key}/text')}"
                )
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
        if has_input and not view.get("submit"):
            errors.append(f"a modal with input blocks needs a submit button {_ptr(path + '/submit')}")
    for key, limit in (
        ("private_metadata", MAX_PRIVATE_METADATA),
        ("callback_id", MAX_CALLBACK_ID),
        ("external_id", MAX_EXTERNAL_ID),
    ):
        value = view.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            errors.append(f"{key} must be a string of at most {limit} characters {_ptr(f'{path}/{key}')}")
    if errors:
        return errors
    try:
        View(**view).to_dict()
    except SlackObjectFormationError as exc:
        errors.append(f"{exc} {_ptr(path)}")
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        errors.append(f"malformed view: {exc} {_ptr(path)}")
    return errors
