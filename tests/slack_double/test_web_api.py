"""The double's Web API as slack_sdk sees it: messages, threads, channels, auth errors, uploads."""

from __future__ import annotations

import re

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_double import SlackDouble

TS = re.compile(r"^\d{10}\.\d{6}$")


async def error_of(call: object) -> str:
    with pytest.raises(SlackApiError) as info:
        await call  # type: ignore[misc]
    return str(info.value.response["error"])


async def test_post_thread_update_delete(double: SlackDouble, client: AsyncWebClient) -> None:
    channel = double.add_channel("ops")

    parent = await client.chat_postMessage(channel=channel, text="incident")
    reply = await client.chat_postMessage(channel=channel, text="update 1", thread_ts=parent["ts"])
    await client.chat_update(channel=channel, ts=parent["ts"], text="incident (resolved)")

    assert TS.match(parent["ts"]) and float(reply["ts"]) > float(parent["ts"])
    assert [m["text"] for m in double.messages(channel)] == ["incident (resolved)"]
    assert [m["text"] for m in double.thread(channel, parent["ts"])] == ["incident (resolved)", "update 1"]
    head = double.message(channel, parent["ts"])
    assert (head["reply_count"], head["latest_reply"], "edited" in head) == (1, reply["ts"], True)
    replies = await client.conversations_replies(channel=channel, ts=parent["ts"])
    assert [m["ts"] for m in replies["messages"]] == [parent["ts"], reply["ts"]]

    await client.chat_delete(channel=channel, ts=reply["ts"])
    assert [m["text"] for m in double.thread(channel, parent["ts"])] == ["incident (resolved)"]
    assert await error_of(client.chat_delete(channel=channel, ts=reply["ts"])) == "message_not_found"


async def test_timestamps_are_unique_and_increasing(double: SlackDouble, client: AsyncWebClient) -> None:
    channel = double.add_channel("ops")
    stamps = [(await client.chat_postMessage(channel=channel, text=str(i)))["ts"] for i in range(20)]
    assert stamps == sorted(stamps, key=float) and len(set(stamps)) == 20


async def test_cannot_edit_someone_elses_message(double: SlackDouble, client: AsyncWebClient) -> None:
    alice = double.add_user("alice")
    channel = double.add_channel("ops", members=[alice])
    theirs = double.post_as_user(alice, channel, "hello")
    assert (
        await error_of(client.chat_update(channel=channel, ts=theirs["ts"], text="x"))
        == "cant_update_message"
    )


async def test_post_to_user_id_lands_in_the_apps_dm(double: SlackDouble, client: AsyncWebClient) -> None:
    alice = double.add_user("alice")
    result = await client.chat_postMessage(channel=alice, text="hi")
    dm = double.dm_channel_id(alice)
    assert result["channel"] == dm and dm is not None and dm.startswith("D")
    opened = await client.conversations_open(users=alice)
    assert opened["channel"]["id"] == dm and opened["already_open"] is True


async def test_not_in_channel_until_joined_and_private_channels_cannot_be_joined(
    double: SlackDouble, client: AsyncWebClient
) -> None:
    public = double.add_channel("support", bot_member=False)
    private = double.add_channel("secret", is_private=True, bot_member=False)

    assert await error_of(client.chat_postMessage(channel=public, text="x")) == "not_in_channel"
    joined = await client.conversations_join(channel=public)
    assert joined["channel"]["is_member"] is True
    await client.chat_postMessage(channel=public, text="x")
    assert await error_of(client.chat_postMessage(channel=private, text="x")) == "channel_not_found"
    assert await error_of(client.conversations_join(channel=private)) == "channel_not_found"
    double.channel(private).members.add(double.bot_user_id)
    assert (
        await error_of(client.conversations_join(channel=private)) == "method_not_supported_for_channel_type"
    )
    assert await error_of(client.chat_postMessage(channel="C0NOPE", text="x")) == "channel_not_found"


async def test_ephemeral_and_permalinks(double: SlackDouble, client: AsyncWebClient) -> None:
    alice, bob = double.add_user("alice"), double.add_user("bob")
    channel = double.add_channel("ops", members=[alice])

    sent = await client.chat_postEphemeral(channel=channel, user=alice, text="only you")
    assert [(e.user, e.text, e.ts) for e in double.ephemerals(alice)] == [
        (alice, "only you", sent["message_ts"])
    ]
    assert double.messages(channel) == []
    assert (
        await error_of(client.chat_postEphemeral(channel=channel, user=bob, text="x"))
        == "user_not_in_channel"
    )

    parent = await client.chat_postMessage(channel=channel, text="p")
    reply = await client.chat_postMessage(channel=channel, text="r", thread_ts=parent["ts"])
    top = await client.chat_getPermalink(channel=channel, message_ts=parent["ts"])
    nested = await client.chat_getPermalink(channel=channel, message_ts=reply["ts"])
    digits = parent["ts"].replace(".", "")
    assert top["permalink"] == f"https://mend-test.slack.com/archives/{channel}/p{digits}"
    assert nested["permalink"].endswith(f"?thread_ts={parent['ts']}&cid={channel}")


async def test_history_filters_paginates_and_shows_metadata_only_on_request(
    double: SlackDouble, client: AsyncWebClient
) -> None:
    channel = double.add_channel("ops")
    metadata = {"event_type": "case_opened", "event_payload": {"case": 7}}
    posted = [
        (await client.chat_postMessage(channel=channel, text=f"m{i}", metadata=metadata))["ts"]
        for i in range(5)
    ]
    await client.chat_postMessage(channel=channel, text="reply", thread_ts=posted[0])

    plain = await client.conversations_history(channel=channel)
    assert [m["text"] for m in plain["messages"]] == ["m4", "m3", "m2", "m1", "m0"]
    assert all("metadata" not in m for m in plain["messages"])
    rich = await client.conversations_history(channel=channel, include_all_metadata=True, limit=2)
    assert [m["metadata"] for m in rich["messages"]] == [metadata, metadata] and rich["has_more"] is True
    rest = await client.conversations_history(
        channel=channel, cursor=rich["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in rest["messages"]] == ["m2", "m1", "m0"]
    window = await client.conversations_history(channel=channel, oldest=posted[1], latest=posted[4])
    assert [m["text"] for m in window["messages"]] == ["m3", "m2"]
    assert double.messages(channel)[0]["metadata"] == metadata


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
async def test_bad_metadata_and_empty_messages_are_refused(
    double: SlackDouble, client: AsyncWebClient
) -> None:
    channel = double.add_channel("ops")
    bad = client.chat_postMessage(channel=channel, text="x", metadata={"event_payload": {}})
    assert await error_of(bad) == "invalid_metadata_format"
    assert await error_of(client.chat_postMessage(channel=channel)) == "no_text"


async def test_text_over_40000_characters_is_truncated(double: SlackDouble, client: AsyncWebClient) -> None:
    channel = double.add_channel("ops")
    await client.chat_postMessage(channel=channel, text="x" * 40_050)
    assert len(double.messages(channel)[0]["text"]) == 40_000


async def test_auth_and_unknown_methods(double: SlackDouble) -> None:
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=double.api_url)
    missing = AsyncWebClient(base_url=double.api_url)
    right = AsyncWebClient(token=double.bot_token, base_url=double.api_url)

    assert await error_of(wrong.auth_test()) == "invalid_auth"
    assert await error_of(missing.auth_test()) == "not_authed"
    assert await error_of(right.api_call("chat.scheduleMessage")) == "unknown_method"
    me = await right.auth_test()
    assert (me["user_id"], me["bot_id"], me["team_id"]) == (double.bot_user_id, "B0MENDBOT", "T0MEND")


async def test_workspace_lookups(double: SlackDouble, client: AsyncWebClient) -> None:
    alice = double.add_user("alice", real_name="Alice L", tz="Europe/Paris", tz_offset=3600)
    group = double.add_usergroup("oncall", [alice])
    channel = double.add_channel("ops", members=[alice])

    user = (await client.users_info(user=alice))["user"]
    assert (user["real_name"], user["tz"], user["tz_offset"], user["is_bot"]) == (
        "Alice L",
        "Europe/Paris",
        3600,
        False,
    )
    assert (await client.usergroups_users_list(usergroup=group))["users"] == [alice]
    assert (await client.team_info())["team"]["domain"] == "mend-test"
    info = (await client.conversations_info(channel=channel))["channel"]
    assert (info["name"], info["is_private"], info["is_member"]) == ("ops", False, True)
    assert await error_of(client.users_info(user="U0NOBODY")) == "user_not_found"
    assert await error_of(client.usergroups_users_list(usergroup="S0NONE")) == "no_such_subteam"


async def test_users_info_tells_apps_deactivated_people_and_other_workspaces_apart(
    double: SlackDouble, client: AsyncWebClient
) -> None:
    robot = double.add_user("robot", is_bot=True)
    gone = double.add_user("gone", deleted=True)
    partner = double.add_user("partner", team_id="T0PARTNER")

    bot = (await client.users_info(user=robot))["user"]
    assert bot["is_bot"] and bot["profile"]["bot_id"].startswith("B")
    assert (await client.users_info(user=gone))["user"]["deleted"] is True
    outsider = (await client.users_info(user=partner))["user"]
    assert (outsider["team_id"], outsider["profile"]["team"]) == ("T0PARTNER", "T0PARTNER")
    assert partner not in double.workspace.channels[double.general_channel_id].members


async def test_reactions(double: SlackDouble, client: AsyncWebClient) -> None:
    channel = double.add_channel("ops")
    ts = (await client.chat_postMessage(channel=channel, text="x"))["ts"]
    await client.reactions_add(channel=channel, timestamp=ts, name="white_check_mark")
    assert double.message(channel, ts)["reactions"] == [
        {"name": "white_check_mark", "users": [double.bot_user_id], "count": 1}
    ]
    assert await error_of(client.reactions_add(channel=channel, timestamp=ts, name="white_check_mark")) == (
        "already_reacted"
    )


async def test_file_upload_v2_round_trip(double: SlackDouble, client: AsyncWebClient) -> None:
    channel = double.add_channel("ops")

    result = await client.files_upload_v2(
        channel=channel,
        content="timeline\n",
        filename="timeline.txt",
        title="Timeline",
        initial_comment="here",
    )

    file_id = result["file"]["id"]
    stored = double.workspace.files[file_id]
    assert (stored.content, stored.title, stored.completed) == (b"timeline\n", "Timeline", True)
    [message] = double.messages(channel)
    assert message["text"] == "here" and message["files"][0]["id"] == file_id
    assert [c.method for c in double.calls] == ["files.getUploadURLExternal", "files.completeUploadExternal"]
