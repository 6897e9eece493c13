"""The toolkit every listener uses: a payload read once (`Interaction`), a modal's values (`Form`), and the
two ways to answer Slack (ack then work, save then ack)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, Protocol, Self, TypedDict, TypeVar

import aiohttp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError

from bot.errors import InvalidInput, MendError, NotAllowed
from handlers import payloads
from handlers.blocks.amends import AmendsRef
from handlers.blocks.followups import FollowUpRef
from handlers.blocks.recovery import StepRef
from handlers.payloads import id_field, message_ts, opaque_field, text_field

if TYPE_CHECKING:  # tasks -> errors -> interaction: only the types are needed here
    from handlers.slack_api import SlackPoster
    from handlers.tasks import BackgroundTasks


class Ref(Protocol):
    """A typed reference Mend puts in a button's value or a modal's private_metadata (handlers/blocks)."""

    @classmethod
    def decode(cls, raw: Any) -> Self | None: ...


log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R", bound=Ref)

#: What a person is told when a payload names no such thing (forged, stale, or from an older Mend).
BROKEN: dict[type[Any], str] = {
    StepRef: "That button doesn't point at a case step I know. Please use the buttons in the case thread.",
    AmendsRef: "That button doesn't point at an amends request I know. Please use the buttons in the case thread.",
    FollowUpRef: "That button doesn't point at a reminder I know. Please use the buttons in the case thread.",
}
BROKEN_DEFAULT = "That button doesn't point at anything I know. Please use the buttons Mend posted."
OTHER_WORKSPACE = "That belongs to another workspace, so nothing was opened."

#: What a picker that holds something other than a person's id says.
PICK_A_PERSON = "Pick a person from the list."


class FieldError(InvalidInput):
    """A field error found at the edge, shown on the modal's `block` (a picker, say) whatever the form maps."""

    def __init__(self, block: str, user_message: str) -> None:
        super().__init__(block, user_message)
        self.block = block


def broken(kind: type[Any]) -> str:
    """The message for a payload with no `kind` ref in it; a ref type outside the table may carry its own."""
    return BROKEN.get(kind) or str(getattr(kind, "BROKEN", BROKEN_DEFAULT))


PRIVATE_METADATA_LIMIT = 3000  # what Slack keeps; anything longer was not written by Mend
# Slack closes the door after 3 seconds; a save gets 2 of them, the rest is for the answer to travel.
SAVE_DEADLINE_SECONDS = 2.0
SLACK_FAILED_MESSAGE = (
    "Slack didn't answer Mend just now, so nothing was saved. What you entered is still here: please try "
    "again in a moment."
)


def failed_message(ref: str) -> str:
    return (
        f"Something went wrong on Mend's side (ref {ref}), so nothing was saved. What you entered is still "
        "here: please try again, and tell your Mend admin if it keeps happening."
    )


SLOW_SAVE_MESSAGE = (
    "Mend's database is slow to answer right now. What you entered is still here: please try again "
    "in a moment."
)


@dataclass(frozen=True)
class Interaction:
    """What a Slack payload (command, shortcut, click, submission or event) says, read once.

    Every Slack id is checked for Slack's shape; a forged or malformed field is None, never an exception.
    """

    user_id: str | None = None
    team_id: str | None = None
    enterprise_id: str | None = None
    channel_id: str | None = None
    trigger_id: str | None = None
    response_url: str | None = None
    message_ts: str | None = None
    thread_ts: str | None = None
    message_text: str | None = None
    view_id: str | None = None
    view_hash: str | None = None
    private_metadata: str | None = None
    #: The clicked button's value, or the chosen option's value of a select.
    value: str | None = None
    #: A slash command's text.
    text: str | None = None
    values: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def from_body(cls, body: Any) -> Interaction:
        if not isinstance(body, dict):
            return cls()
        actions = body.get("actions")
        action = actions[0] if isinstance(actions, list) and actions else None
        metadata = text_field(body, "view", "private_metadata")
        return cls(
            user_id=payloads.user_id(payloads.field(body, "user", "id"))
            or payloads.user_id(payloads.field(body, "user_id"))
            or payloads.user_id(payloads.field(body, "user"))
            or payloads.user_id(payloads.field(body, "event", "user")),
            team_id=payloads.team_id(payloads.field(body, "team", "id"))
            or payloads.team_id(payloads.field(body, "team_id"))
            or payloads.team_id(payloads.field(body, "user", "team_id"))
            or payloads.team_id(payloads.field(body, "view", "team_id")),
            enterprise_id=payloads.team_id(payloads.field(body, "enterprise", "id"))
            or payloads.team_id(payloads.field(body, "enterprise_id"))
            or payloads.team_id(payloads.field(body, "team", "enterprise_id")),
            channel_id=payloads.channel_id(payloads.field(body, "channel_id"))
            or payloads.channel_id(payloads.field(body, "channel", "id"))
            or payloads.channel_id(payloads.field(body, "container", "channel_id"))
            or payloads.channel_id(payloads.field(body, "event", "channel")),
            trigger_id=opaque_field(body, "trigger_id"),
            response_url=_response_url(body),
            message_ts=message_ts(payloads.field(body, "container", "message_ts"))
            or message_ts(payloads.field(body, "message", "ts"))
            or message_ts(payloads.field(body, "message_ts")),
            thread_ts=message_ts(payloads.field(body, "container", "thread_ts"))
            or message_ts(payloads.field(body, "message", "thread_ts"))
            or message_ts(payloads.field(body, "event", "thread_ts")),
            message_text=text_field(body, "message", "text"),
            view_id=id_field(body, "view", "id"),
            view_hash=opaque_field(body, "view", "hash"),
            private_metadata=metadata
            if metadata is None or len(metadata) <= PRIVATE_METADATA_LIMIT
            else None,
            value=text_field(action, "value") or text_field(action, "selected_option", "value"),
            text=text_field(body, "text"),
            values=payloads.field(body, "view", "state", "values"),
        )

    @property
    def form(self) -> Form:
        return Form(self.values)

    def ref(self, kind: type[R], *, in_metadata: bool = False) -> R | None:
        """The typed ref the button's value (or the modal's private_metadata) carries, if it is one."""
        return kind.decode(self.private_metadata if in_metadata else self.value)

    def acting(self, kind: type[R], *, in_metadata: bool = False) -> Acting[R] | None:
        ref = self.ref(kind, in_metadata=in_metadata)
        if ref is None or self.user_id is None or self.team_id is None:
            return None
        return Acting(ref, self.user_id, self.team_id, self)

    def require(self, kind: type[R], *, in_metadata: bool = False) -> Acting[R]:
        """Who acts on what; a payload that names nothing Mend knows is told so, not guessed at."""
        acting = self.acting(kind, in_metadata=in_metadata)
        if acting is None:
            raise MendError(broken(kind))
        return acting


class Actor(TypedDict):
    """Who acts, as the domain's services take it (`**acting.actor`)."""

    actor_user_id: str
    team_id: str


@dataclass(frozen=True)
class Acting(Generic[R]):
    """A person of a workspace acting on the thing a ref names."""

    ref: R
    user_id: str
    team_id: str
    interaction: Interaction

    @property
    def actor(self) -> Actor:
        return {"actor_user_id": self.user_id, "team_id": self.team_id}


def _response_url(body: dict[str, Any]) -> str | None:
    urls = body.get("response_urls")
    first = urls[0] if isinstance(urls, list) and urls else None
    url = text_field(body, "response_url") or text_field(first, "response_url")
    return url if url and url.startswith("https://") and len(url) <= 2000 and url.isprintable() else None


class Form:
    """A submitted modal's values (`view.state.values`) by block id; anything missing or malformed is None.

    An input's action_id is its block_id with `_input` unless given (ids.py's convention).
    """

    def __init__(self, values: Any) -> None:
        self._values = values if isinstance(values, dict) else {}

    def element(self, block: str, action_id: str | None = None) -> dict[str, Any]:
        element = payloads.field(self._values, str(block), action_id or f"{block}_input")
        return element if isinstance(element, dict) else {}

    def text(self, block: str, action_id: str | None = None) -> str | None:
        return text_field(self.element(block, action_id), "value")

    def option(self, block: str) -> str | None:
        return text_field(self.element(block), "selected_option", "value")

    def options(self, block: str) -> list[str]:
        chosen = self.element(block).get("selected_options")
        return (
            [v for o in chosen if (v := text_field(o, "value")) is not None]
            if isinstance(chosen, list)
            else []
        )

    def user(self, block: str) -> str | None:
        """The person picked, if the input holds a user id; nothing picked and a forged id are both None."""
        return payloads.user_id(self.element(block).get("selected_user"))

    def person(self, block: str) -> str | None:
        """The person picked in a users_select: None if nobody was, a field error if it isn't a user id.

        A client may send anything as `selected_user`; it is refused here rather than read as "nobody", so
        an optional picker never quietly drops what was sent. Confirm the person with Slack next
        (`ListenerKit.person`).
        """
        if str(block) not in self._values:
            return None  # a form without this picker
        raw = self._values[str(block)]
        element = raw.get(f"{block}_input") if isinstance(raw, dict) else None
        if not isinstance(element, dict):
            raise FieldError(str(block), PICK_A_PERSON)
        chosen = element.get("selected_user")
        if chosen is None:
            return None  # Slack's null: nobody picked
        picked = payloads.user_id(chosen)
        if picked is None:
            raise FieldError(str(block), PICK_A_PERSON)
        return picked

    def users(self, block: str) -> list[str]:
        chosen = self.element(block).get("selected_users")
        return [u for u in chosen if payloads.user_id(u)] if isinstance(chosen, list) else []

    def channel(self, block: str) -> str | None:
        element = self.element(block)
        return payloads.channel_id(element.get("selected_channel")) or payloads.channel_id(
            element.get("selected_conversation")
        )

    def date(self, block: str) -> dt.date | None:
        return _iso(text_field(self.element(block), "selected_date"), dt.date.fromisoformat)

    def time(self, block: str) -> dt.time | None:
        return _iso(text_field(self.element(block), "selected_time"), dt.time.fromisoformat)

    def value(self, block: str) -> str | None:
        """Whatever the input holds, whatever its type: text, a chosen option, a date or a time."""
        element = self.element(block)
        if "selected_option" in element:
            return self.option(block)
        # People and channels are not read here: their ids are checked for their kind (`person`, `channel`).
        for key in ("selected_date", "selected_time", "value"):
            if (found := text_field(element, key)) is not None:
                return found
        return None

    def block_starting(self, prefix: str) -> str | None:
        """The block id that starts with `prefix` (a block re-made with a new id so Slack redraws it)."""
        return next((k for k in self._values if isinstance(k, str) and k.startswith(prefix)), None)


def _iso(raw: str | None, parse: Callable[[str], T]) -> T | None:
    try:
        return parse(raw) if raw else None
    except ValueError:
        return None


class ListenerKit:
    """What every listener class shares: the poster, background work, and the two ways to answer Slack."""

    def __init__(self, poster: SlackPoster, tasks: BackgroundTasks) -> None:
        self.poster = poster
        self.tasks = tasks

    def spawn(
        self,
        work: Coroutine[Any, Any, object],
        interaction: Interaction,
        *,
        name: str,
        channel_id: str | None = None,
    ) -> None:
        """Run `work` after the ack; what it raises goes to the error policy, told to the person who acted."""
        self.tasks.spawn(
            work, user_id=interaction.user_id, channel_id=channel_id or interaction.channel_id, name=name
        )

    async def ack_then_work(
        self,
        ack: AsyncAck,
        body: Any,
        work: Callable[[Interaction], Coroutine[Any, Any, object]],
        *,
        name: str,
    ) -> None:
        """Ack from memory at once (Slack's 3 seconds), then do the work in the background."""
        await ack()
        interaction = Interaction.from_body(body)
        self.spawn(work(interaction), interaction, name=name)

    async def ack_then_act(
        self,
        ack: AsyncAck,
        body: Any,
        kind: type[R],
        work: Callable[[Acting[R]], Awaitable[object]],
        *,
        name: str,
        in_metadata: bool = False,
    ) -> None:
        """`ack_then_work` for a button about one thing (the ref in its value); a broken ref is told."""

        async def act(interaction: Interaction) -> None:
            await work(interaction.require(kind, in_metadata=in_metadata))

        await self.ack_then_work(ack, body, act, name=name)

    async def open_modal(
        self,
        interaction: Interaction,
        view: Any,
        *,
        belongs_to: str | None,
        again: str = "click the button again",
    ) -> None:
        """Open `view` for the person who clicked, if what it is about is their workspace's.

        `belongs_to` is the team id of the case, alert or request the form is about, or None for a form
        about nothing stored yet (a new report). A click from any other workspace opens nothing.
        """
        if interaction.team_id is None or (belongs_to is not None and interaction.team_id != belongs_to):
            raise NotAllowed(OTHER_WORKSPACE)
        await self.poster.open_modal(interaction.trigger_id, view, again=again)

    async def person(self, acting: Acting[Any], block: str) -> str | None:
        """The person picked in `block`, confirmed with Slack; None if nobody was picked. Call it in a save.

        A forged id, one Slack doesn't know, an app, a deactivated account, someone of another workspace, or
        Slack not answering: a field error on that picker, raised before anything is stored.
        """
        picked = acting.interaction.form.person(block)
        if picked is None:
            return None
        problem = await self.poster.people.check(picked, acting.team_id)
        if problem is not None:
            raise FieldError(block, problem)
        return picked

    async def save_then_ack(
        self,
        ack: AsyncAck,
        interaction: Interaction,
        save: Coroutine[Any, Any, T],
        *,
        error_block: str,
        field_blocks: Mapping[str, str] | None = None,
        then: Callable[[T], Coroutine[Any, Any, object]] | None = None,
        tell_in: str | None = None,
    ) -> bool:
        """Run `save`, then ack: closed on success, or field errors on the modal (domain errors, outages).

        The save comes before the ack on purpose: if the database is down, the modal stays open with what
        the person entered instead of closing on something never stored. After a successful ack, `then`
        runs in the background (redraws, announcements). A save still running at the deadline goes on in
        the background (`then` runs when it finishes) and the person is asked to try again; saves are
        idempotent, so a retry finds what the first one stored. Returns whether it was saved in time.
        """
        task = asyncio.ensure_future(save)
        done, _ = await asyncio.wait({task}, timeout=SAVE_DEADLINE_SECONDS)
        if not done:
            self.tasks.spawn(_finish_late(task, then), user_id=None, channel_id=None, name="late-save")
            await ack(response_action="errors", errors={error_block: SLOW_SAVE_MESSAGE})
            return False
        try:
            result = task.result()
        except FieldError as exc:
            await ack(response_action="errors", errors={exc.block: exc.user_message})
            return False
        except InvalidInput as exc:
            block = (field_blocks or {}).get(exc.field, error_block)
            await ack(response_action="errors", errors={block: exc.user_message})
            return False
        except MendError as exc:
            await ack(response_action="errors", errors={error_block: exc.user_message})
            return False
        except (TimeoutError, SlackApiError, aiohttp.ClientError) as exc:
            # Slack failed under the save (users.info, say): the save stopped there, so nothing is stored.
            log.warning("a Slack call failed during a submission (%s)", type(exc).__name__, exc_info=True)
            await ack(response_action="errors", errors={error_block: SLACK_FAILED_MESSAGE})
            return False
        except Exception:
            ref = uuid.uuid4().hex[:8]
            log.error("unexpected error in a submission (ref %s)", ref, exc_info=True)
            await ack(response_action="errors", errors={error_block: failed_message(ref)})
            return False
        await ack()
        if then is not None:
            self.spawn(then(result), interaction, name="after-save", channel_id=tell_in)
        return True

    async def submit(
        self,
        ack: AsyncAck,
        body: Any,
        kind: type[R],
        save: Callable[[Acting[R]], Coroutine[Any, Any, T]],
        *,
        error_block: str,
        field_blocks: Mapping[str, str] | None = None,
        then: Callable[[Acting[R], T], Coroutine[Any, Any, object]] | None = None,
    ) -> bool:
        """`save_then_ack` for a modal about one thing (the ref in its private_metadata)."""
        acting = Interaction.from_body(body).acting(kind, in_metadata=True)
        if acting is None:
            await ack(response_action="errors", errors={error_block: broken(kind)})
            return False
        return await self.save_then_ack(
            ack,
            acting.interaction,
            save(acting),
            error_block=error_block,
            field_blocks=field_blocks,
            then=partial(then, acting) if then is not None else None,
        )


async def _finish_late(task: asyncio.Future[T], then: Callable[[T], Awaitable[object]] | None) -> None:
    try:
        result = await task
    except MendError:
        return  # the person was already asked to submit again
    if then is not None:
        await then(result)
