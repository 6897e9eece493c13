"""The sandbox's pure parts: what it reads from the manifest, and how it names Mend's approvers."""

from __future__ import annotations

from pydantic import Field

from sandbox.manifest import load_manifest, parse_manifest
from sandbox.world import approver_overrides
from settings import Settings


def test_the_manifest_decides_what_the_sandbox_offers_and_sends() -> None:
    manifest = load_manifest()
    assert manifest.command("/recover") is not None
    shortcut = manifest.shortcut("start_recovery")
    assert shortcut is not None and shortcut.type == "message"
    assert "app_home_opened" in manifest.bot_events
    # Mend does not subscribe to message events, so Slack would not send it the messages people type.
    assert not manifest.subscribes_to_messages_in(is_im=False, is_private=False)
    subscribed = parse_manifest({"settings": {"event_subscriptions": {"bot_events": ["message.im"]}}})
    assert subscribed.subscribes_to_messages_in(is_im=True, is_private=True)
    assert not subscribed.subscribes_to_messages_in(is_im=False, is_private=True)


def test_approvers_are_passed_only_when_mend_has_the_setting() -> None:
    if "approver_ids" not in Settings.model_fields:
        assert approver_overrides(Settings, ["U1"]) == {}

    class ListSettings(Settings):
        approver_ids: list[str] = Field(default_factory=list)

    class TextSettings(Settings):
        approver_ids: str | None = None

    assert approver_overrides(ListSettings, ["U1", "U2"]) == {"approver_ids": ["U1", "U2"]}
    assert approver_overrides(TextSettings, ["U1", "U2"]) == {"approver_ids": "U1,U2"}
