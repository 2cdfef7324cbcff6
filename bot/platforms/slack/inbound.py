"""Translate in: Slack payloads as neutral events, one Bolt listener per kind.

Events are acknowledged by Bolt before these listeners run; commands, buttons and
modal submissions are acknowledged first thing here. Every listener then translates
and hands the event to the desk, which writes to the database and returns: nothing
here waits on the desk's answers, which the outbox delivers afterwards.

The workspace is the team the request came from; event ids are the Events API's
``event_id`` and, for commands and interactions (which have none), their ``trigger_id``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Awaitable, Callable

from slack_bolt.async_app import AsyncApp

from bot.core import (
    Actor,
    ButtonPressed,
    CommandInvoked,
    Event,
    HomeOpened,
    IncomingMessage,
    ReactionAdded,
)
from bot.platforms.forms import CommandForm, form_for
from bot.platforms.slack.blocks import (
    CALLBACK_PREFIX,
    FormOrigin,
    action_of,
    decode_value,
    form_values,
    modal,
)
from bot.platforms.slack.markup import mentions, strip_mention, unescape
from bot.platforms.slack.users import PeopleDirectory
from bot.platforms.slack.reactions import ReactedMessages

logger = logging.getLogger(__name__)

PLATFORM = "slack"
# Message subtypes that are somebody writing; edits, deletions, joins and the like are not.
_WRITTEN = {None, "file_share", "thread_broadcast", "me_message", "bot_message"}
# A slash command run in a DM with someone else, or a group DM, is answered in the
# person's DM with the bot: the bot can never post in those. (A private channel it is
# not in is left alone: inviting the bot fixes that, and admins name channels so.)
_DM_NAMES = ("directmessage",)

# What the app subscribes to (bot/config/slack-manifest.yaml lists the same).
EVENTS = ("message", "app_mention", "reaction_added", "app_home_opened")
COMMANDS = ("/ticket", "/helpdesk", "/kb", "/incident")

Dispatch = Callable[[Event], Awaitable[None]]
DmChannel = Callable[[str], Awaitable[str]]
# A command's trigger_id opens a modal for 3 seconds; the desk's answer (a read) must
# leave views.open time inside them.
FORM_BUDGET_S = 1.5


class SlackInbound:
    """Registers the listeners on a Bolt app and turns payloads into neutral events."""

    def __init__(self, people: PeopleDirectory, reacted: ReactedMessages, dm_channel: DmChannel,
                 dispatch: Dispatch, *, ticket_emojis: tuple[str, ...] = ("ticket",),
                 allow_bots: bool = False) -> None:
        self.people = people
        self.reacted = reacted
        self.dm_channel = dm_channel
        self.dispatch = dispatch
        self.ticket_emojis = frozenset(e.strip(":") for e in ticket_emojis) | {"ticket"}
        self.allow_bots = allow_bots
        # Set by the adapter when the desk offers forms for commands (``/kb add``).
        self.command_form: CommandForm | None = None

    def register(self, app: AsyncApp, run: Callable[..., Awaitable[None]], *,
                 taken: Callable[..., Awaitable[None]]) -> None:
        """Add every listener to ``app``. ``taken`` is listener middleware, run once Bolt
        has matched a request to a listener and before it acknowledges the request; each
        listener then hands its work to ``run``, which awaits it, with its body, so the
        adapter can clear the request from the inbox once handled.
        Between the two the adapter counts the request as in flight."""
        async def on_message(body, event, context):
            await run(self.message(body, event, context), body)

        async def on_mention(body, event, context):
            await run(self.mention(body, event, context), body)

        async def on_reaction(body, event, context):
            await run(self.reaction(body, event, context), body)

        async def on_home(body, event, context):
            await run(self.home(body, event, context), body)

        async def on_command(ack, body, context, client):
            await ack()
            await run(self.command(body, context, client), body)

        async def on_action(ack, body, action, context, client):
            await ack()
            await run(self.action(body, action, context, client), body)

        async def on_view(ack, body, view, context):
            await ack()
            await run(self.submission(body, view, context), body)

        counted = [taken]
        for event, listener in zip(EVENTS, (on_message, on_mention, on_reaction, on_home)):
            app.event(event, middleware=counted)(listener)
        for command in COMMANDS:
            app.command(command, middleware=counted)(on_command)
        app.action({"type": "block_actions", "action_id": re.compile(".")},
                   middleware=counted)(on_action)
        app.view({"type": "view_submission", "callback_id": _callback_pattern()},
                 middleware=counted)(on_view)

    # -- events ---------------------------------------------------------------

    async def message(self, body: dict, event: dict, context) -> None:
        """A message in a DM with the bot or a channel it is in (threads included)."""
        subtype = event.get("subtype")
        if subtype not in _WRITTEN or event.get("hidden"):
            return  # edits, deletions, joins: nobody asked for anything
        direct = event.get("channel_type") == "im"
        if not direct and mentions(event.get("text", ""), context.bot_user_id):
            return  # the app_mention event carries this one
        actor = await self._author(body, event)
        if actor is None:
            return
        await self.dispatch(self._incoming(body, event, context, actor, direct=direct))

    async def mention(self, body: dict, event: dict, context) -> None:
        """Someone mentioned the bot in a channel."""
        if event.get("channel", "").startswith("D"):
            return  # a DM arrives as message.im too
        actor = await self._author(body, event)
        if actor is not None:
            await self.dispatch(self._incoming(body, event, context, actor, direct=False,
                                               mentioned=True))

    async def _author(self, body: dict, event: dict) -> Actor | None:
        """Who wrote ``event``; None for a bot the desk does not listen to."""
        bot_id = event.get("bot_id")
        if bot_id or event.get("subtype") == "bot_message":
            if not self.allow_bots:
                return None
            name = event.get("username") or (event.get("bot_profile") or {}).get("name") or ""
            # Bots the admin chose to listen to are treated as people asking for help.
            return Actor(event.get("user") or bot_id or "", name)
        if not event.get("user"):
            return None
        actor = await self.people.actor(_team(body), event["user"])
        return replace(actor, is_bot=False) if actor.is_bot and self.allow_bots else actor

    def _incoming(self, body: dict, event: dict, context, actor: Actor, *, direct: bool,
                  mentioned: bool = False) -> IncomingMessage:
        ts = event.get("ts", "")
        thread = event.get("thread_ts")
        return IncomingMessage(
            platform=PLATFORM, workspace_id=_team(body, context), event_id=body["event_id"],
            actor=actor, channel_id=event.get("channel", ""), message_id=ts,
            text=unescape(strip_mention(event.get("text", ""), context.bot_user_id)),
            thread_id=thread if thread and thread != ts else None, is_direct=direct,
            mentions_bot=mentioned)

    async def reaction(self, body: dict, event: dict, context) -> None:
        """The ticket emoji on a message opens a ticket for its author."""
        item = event.get("item") or {}
        if event.get("reaction", "").split("::")[0] not in self.ticket_emojis \
                or item.get("type") != "message":
            return
        team = _team(body, context)
        actor = await self.people.actor(team, event["user"])
        found = await self.reacted.read(item["channel"], item["ts"], event.get("item_user"))
        author = None
        if found.bot_id:
            author = Actor(found.author_id or found.bot_id, is_bot=True)
        elif found.author_id:
            author = await self.people.actor(team, found.author_id)
        await self.dispatch(ReactionAdded(
            platform=PLATFORM, workspace_id=team, event_id=body["event_id"], actor=actor,
            channel_id=item["channel"], emoji=event["reaction"], message_id=item["ts"],
            message_author=author, message_text=found.text, thread_id=found.thread_id,
            message_unreadable=not found.read, message_link=found.link))

    async def home(self, body: dict, event: dict, context) -> None:
        """The App Home tab opened."""
        if event.get("tab", "home") != "home":
            return
        actor = await self.people.actor(_team(body, context), event["user"])
        await self.dispatch(HomeOpened(platform=PLATFORM, workspace_id=_team(body, context),
                                       event_id=body["event_id"], actor=actor,
                                       channel_id=event.get("channel", "")))

    # -- commands and interactions ------------------------------------------------

    async def command(self, body: dict, context, client=None) -> None:
        """``/ticket ...`` or ``/helpdesk ...``; one that opens a form for this person
        (``/kb add``) opens its modal instead of reaching the desk now: the desk hears of
        it when the modal is submitted."""
        team = _team(body, context)
        actor = await self.people.actor(team, body["user_id"])
        channel = body.get("channel_id", "")
        name = body["command"].lstrip("/")
        text = unescape(body.get("text", "")).strip()
        direct = body.get("channel_name") in _DM_NAMES or \
            body.get("channel_name", "").startswith("mpdm-")
        if direct:
            dm = await self._dm_or_none(actor.user_id)
            channel = dm or channel
        if client is not None and await self._open_form(client, body, team, actor, channel,
                                                         name, text):
            return
        await self.dispatch(CommandInvoked(
            platform=PLATFORM, workspace_id=team, event_id=body["trigger_id"], actor=actor,
            channel_id=channel, name=name, text=text, reply_token=body.get("response_url"),
            is_direct=direct))

    async def _open_form(self, client, body: dict, team: str, actor: Actor, channel: str,
                         name: str, text: str) -> bool:
        """Open the modal the desk has for this command and person; False (the command
        then goes to the desk, which answers it) when there is none, or it could not be
        opened in time (a replayed command's trigger has long expired)."""
        form = await form_for(self.command_form, PLATFORM, team, actor, name, text,
                              FORM_BUDGET_S)
        if form is None:
            return False
        origin = FormOrigin(form.action, form.value, form.title, channel, None, None,
                            body.get("response_url"))
        try:
            await client.views_open(trigger_id=body["trigger_id"], view=modal(origin, form.fields))
        except Exception as error:
            logger.warning("views.open for /%s failed: %s; answered as a command", name, error)
            return False
        return True

    async def _dm_or_none(self, user_id: str) -> str | None:
        try:
            return await self.dm_channel(user_id)
        except Exception as error:  # the answer then goes by response_url instead
            logger.warning("could not open a DM with %s: %s", user_id, error)
            return None

    async def action(self, body: dict, action: dict, context, client) -> None:
        """A button pressed; one with a form opens its modal instead (within 3 s)."""
        if action.get("type") != "button":
            return
        value, form = decode_value(action.get("value"))
        container = body.get("container") or {}
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id", "")
        message_ts = container.get("message_ts") or message.get("ts")
        thread = message.get("thread_ts")
        name = action_of(action.get("action_id", ""))
        if form:
            origin = FormOrigin(name, value, action.get("text", {}).get("text", ""), channel,
                                message_ts, thread if thread != message_ts else None,
                                body.get("response_url"))
            try:
                await client.views_open(trigger_id=body["trigger_id"], view=modal(origin, form))
            except Exception as error:
                logger.warning("views.open for %s failed: %s", name, error)
            return
        actor = await self.people.actor(_team(body, context), body["user"]["id"])
        await self.dispatch(ButtonPressed(
            platform=PLATFORM, workspace_id=_team(body, context), event_id=body["trigger_id"],
            actor=actor, channel_id=channel, action=name, value=value, message_id=message_ts,
            thread_id=thread if thread and thread != message_ts else None,
            reply_token=body.get("response_url")))

    async def submission(self, body: dict, view: dict, context) -> None:
        """A modal's answers: the button it came from, pressed with its form filled in."""
        try:
            origin = FormOrigin.load(view.get("private_metadata") or "")
        except (ValueError, TypeError):
            logger.warning("a modal came back without its origin; ignored")
            return
        actor = await self.people.actor(_team(body, context), body["user"]["id"])
        await self.dispatch(ButtonPressed(
            platform=PLATFORM, workspace_id=_team(body, context),
            event_id=body.get("trigger_id") or f"{view.get('id')}-{view.get('hash')}",
            actor=actor, channel_id=origin.channel_id, action=origin.action, value=origin.value,
            message_id=origin.message_id, thread_id=origin.thread_id, form=form_values(view),
            reply_token=origin.response_url))


def _team(body: dict, context=None) -> str:
    """The team a request came from: the tenant every query is scoped to."""
    team = getattr(context, "team_id", None) if context is not None else None
    return (team or body.get("team_id") or (body.get("team") or {}).get("id")
            or (body.get("user") or {}).get("team_id") or "")


def _callback_pattern() -> re.Pattern:
    return re.compile("^" + re.escape(CALLBACK_PREFIX))
