"""The Discord adapter: the desk in Discord guilds and DMs, through discord.py 2.x.

It only translates. Gateway events become neutral events for the router (see
discord_inbound.py); the outbox's messages become API calls (discord_outbound.py).
Interactions are acknowledged before the desk does any work, well within Discord's
3 seconds: commands and buttons are deferred, form buttons answer with a modal.

Configuration: DISCORD_BOT_TOKEN enables it; DISCORD_API_URL replaces the REST base
(with its version path) and DISCORD_GATEWAY_URL the gateway, for tests and proxies.
Both are class attributes of discord.py, so they apply to every client in the process.
HELPDESK_DISCORD_AGENT_ROLES and _LEAD_ROLES name the roles whose members work the desk.
"""

from __future__ import annotations

from datetime import timedelta
import asyncio
import base64
import logging

import discord
import yarl
from discord.gateway import DiscordWebSocket

from bot.core import (
    ButtonPressed,
    CommandInvoked,
    Delivery,
    DeliveryError,
    EventSink,
    Inbox,
    OutboundMessage,
    event_to_json,
)
from bot.core.tasks import BackgroundTasks
from bot.platforms.discord.inbound import PLATFORM, Inbound, RoleMap
from bot.platforms.forms import form_for
from bot.platforms.discord.once import SendOnce
from bot.platforms.discord.outbound import Outbound
from bot.platforms.discord.replies import InteractionReplies, ReplyToken
from bot.platforms.discord.commands import (
    COMMAND_NAMES,
    TICKET,
    command_payloads,
    command_words,
    focused_option,
    read_command,
    ticket_choice_name,
)
from bot.platforms.discord.ui import (
    DeskButton,
    FormBook,
    form_modal,
    modal_values,
    parse_modal_id,
)
from bot.settings import Settings, SettingsError
from bot.templates import Templates, load_templates

logger = logging.getLogger(__name__)

# Discord drops an autocomplete answer that comes later than 3 s after the interaction;
# a slower lookup answers with no choices instead (the person can still type a number).
AUTOCOMPLETE_BUDGET = 2.0
# Discord shows at most 25 choices. The sink's lookup returns at most the limit it is
# given and bounds what was typed itself (bot/desk/choices.py), so neither is cut here.
MAX_CHOICES = 25
# Exactly what the adapter uses; `helpdesk-bot discord-invite` asks for no more.
PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, send_messages_in_threads=True,
    create_public_threads=True, embed_links=True, read_message_history=True)
SCOPES = ("bot", "applications.commands")


def intents() -> discord.Intents:
    """Gateway intents: guilds, guild and DM messages (with content), guild and DM
    reactions. ``message_content`` is privileged: enable it in the developer portal."""
    wanted = discord.Intents.none()
    wanted.guilds = wanted.guild_messages = wanted.dm_messages = True
    wanted.message_content = wanted.guild_reactions = wanted.dm_reactions = True
    return wanted


def invite_url(application_id: str) -> str:
    """The URL that adds the bot to a guild with exactly the permissions and scopes used."""
    return discord.utils.oauth_url(application_id, permissions=PERMISSIONS, scopes=SCOPES)


def application_id_from_token(token: str) -> str | None:
    """The bot's user id, read from the first part of its token (base64 of the id; for
    every application made since 2020 the bot's id is the application's), or None."""
    first = token.strip().split(".", 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    return decoded if decoded.isdigit() else None


class DeskClient(discord.Client):
    """discord.py's client, handing every event it cares about to the adapter."""

    def __init__(self, desk: "DiscordAdapter", **options) -> None:
        super().__init__(**options)
        self.desk = desk

    async def setup_hook(self) -> None:
        """Register the one dynamic item behind every desk button, before connecting."""
        self.add_dynamic_items(DeskButton)

    async def on_ready(self) -> None:
        """Connected: make sure every guild has the desk's commands."""
        self.desk.sync_commands(self.guilds)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        """Added to a guild: give it the commands."""
        self.desk.sync_commands([guild])

    async def on_message(self, message: discord.Message) -> None:
        """A message in a channel, thread or DM."""
        await self.desk.deliver(await self.desk.inbound.message(message))

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        """A reaction, cached message or not."""
        await self.desk.deliver(await self.desk.inbound.reaction(payload))

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Commands, autocomplete and modal submits (buttons arrive through DeskButton)."""
        if interaction.type is discord.InteractionType.application_command:
            await self.desk.on_command(interaction)
        elif interaction.type is discord.InteractionType.autocomplete:
            await self.desk.on_autocomplete(interaction)
        elif interaction.type is discord.InteractionType.modal_submit:
            await self.desk.on_modal(interaction)


class DiscordAdapter:
    """The desk on Discord. ``guild_ready_timeout`` is discord.py's wait for guilds at
    start-up; ``thinking_grace`` how long a command's "thinking" state waits for an
    answer before it is cleared (tests shorten both). ``max_concurrent_events`` bounds
    how many events the desk handles at once (default: 2 on SQLite, whose single writer
    gains nothing from more and, overloaded, makes them wait in its busy handler until
    they fail; 16 on PostgreSQL); the rest wait their turn in memory."""

    platform = PLATFORM
    # No pacing here: discord.py waits on Discord's per-route buckets itself, and the
    # dispatcher's per-channel pacing would key threads by their parent channel.
    pacing = None

    def __init__(self, settings: Settings, *, guild_ready_timeout: float = 2.0,
                 thinking_grace: float = 5.0, startup_timeout: float = 60.0,
                 max_concurrent_events: int | None = None,
                 templates: Templates | None = None, outage_patience: float = 120.0,
                 outage_pause: float = 5.0) -> None:
        if not settings.discord_bot_token:
            raise SettingsError("DISCORD_BOT_TOKEN is not set.")
        self.settings = settings
        # Discord's own words (thread names, command descriptions) in the desk's wording.
        self.templates = templates or load_templates(settings.config_dir)
        if max_concurrent_events is None:
            sqlite = settings.async_database_url.startswith("sqlite")
            max_concurrent_events = 2 if sqlite else 16
        self._handling = asyncio.Semaphore(max_concurrent_events)
        self.outage_patience = outage_patience  # see deliver
        self.outage_pause = outage_pause
        self.guild_ready_timeout = guild_ready_timeout
        self.thinking_grace = thinking_grace
        self.startup_timeout = startup_timeout
        self.book = FormBook()
        self.client: DeskClient | None = None
        self._dispatch: EventSink | None = None
        self._runner: asyncio.Task | None = None
        self._ready = False
        self._tasks = BackgroundTasks(logger)
        self._words: dict[str, dict[str, str]] = {}
        self._choices = None  # the sink's ticket_choices, when it offers them
        self._forms = None  # the sink's command_form, when it offers forms
        self._inbox: Inbox | None = None

    async def start(self, dispatch: EventSink) -> None:
        """Log in, connect to the gateway and return once the guilds are known."""
        if self.settings.discord_api_url:
            discord.http.Route.BASE = self.settings.discord_api_url.rstrip("/")
        if self.settings.discord_gateway_url:
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.settings.discord_gateway_url)
        self._dispatch = dispatch
        self._words = command_words(dispatch)
        self._choices = getattr(dispatch, "ticket_choices", None)
        self._forms = getattr(dispatch, "command_form", None)
        self.client = DeskClient(
            self, intents=intents(), max_messages=None, max_ratelimit_timeout=30.0,
            guild_ready_timeout=self.guild_ready_timeout, chunk_guilds_at_startup=False,
            allowed_mentions=discord.AllowedMentions.none())
        self.inbound = Inbound(self.client, roles=RoleMap(self.settings.discord_agent_roles,
                                                          self.settings.discord_lead_roles))
        self.once = SendOnce(self.settings.discord_bot_token.reveal(),
                             self.client.http.user_agent)
        self.replies = InteractionReplies(self.client, self.once,
                                          thinking_grace=self.thinking_grace)
        self.outbound = Outbound(self.client, self.inbound, self.book, self.replies, self.once,
                                 self.templates)
        try:
            await self.client.login(self.settings.discord_bot_token.reveal())
        except discord.LoginFailure:
            await self.client.close()
            raise SettingsError("Discord refused DISCORD_BOT_TOKEN; copy the bot's token "
                                "from the developer portal again.") from None
        self._runner = asyncio.create_task(self.client.connect(reconnect=True))
        self._runner.add_done_callback(self._connection_ended)
        await self._until_ready()
        self._ready = True
        logger.info("Discord connected as %s in %d guild(s)", self.client.user,
                    len(self.client.guilds))

    async def is_connected(self) -> bool:
        """Whether the gateway connection is up and was ready: discord.py reconnects by
        itself, and between a drop and the resumed session the desk hears nothing."""
        client, runner = self.client, self._runner
        if not self._ready or client is None or runner is None or runner.done():
            return False
        ws = client.ws
        return client.is_ready() and not client.is_closed() and ws is not None and ws.open

    async def _until_ready(self) -> None:
        assert self.client is not None and self._runner is not None
        ready = asyncio.create_task(self.client.wait_until_ready())
        done, _ = await asyncio.wait({ready, self._runner}, timeout=self.startup_timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if ready in done:
            return
        ready.cancel()
        if self._runner in done:
            error = self._runner.exception()
            await self.client.close()
            if isinstance(error, discord.PrivilegedIntentsRequired):
                raise SettingsError("Discord refused the message content intent: enable "
                                    "MESSAGE CONTENT INTENT for the bot in the developer "
                                    "portal.") from None
            raise error or RuntimeError("the Discord gateway closed during start-up")
        await self.stop()
        raise TimeoutError(f"Discord was not ready after {self.startup_timeout:.0f}s")

    def _connection_ended(self, runner: asyncio.Task) -> None:
        # discord.py reconnects by itself: the connection ends with an error only when it
        # gives up, and from then on the desk hears nothing from Discord until a restart.
        # (Before ready, start() raises the error itself.)
        if self._ready and not runner.cancelled() and runner.exception() is not None:
            logger.error("the Discord gateway connection ended; the bot no longer hears "
                         "Discord", exc_info=runner.exception())

    async def stop(self) -> None:
        """Disconnect and forget pending work."""
        self._ready = False
        await self._tasks.cancel()
        if self.client is not None:
            await self.replies.close()
            await self.once.close()
            await self.client.close()
        if self._runner is not None:
            try:
                await self._runner
            except Exception:  # the connection ended badly; we are stopping anyway
                logger.debug("the Discord connection ended with an error", exc_info=True)
            self._runner = None

    async def send(self, message: OutboundMessage, *, idempotency_key: str,
                   attempt: int = 1, since: timedelta | None = None) -> Delivery:
        """Post, edit or answer privately (see discord_outbound.py); the nonce made from
        ``idempotency_key`` makes any attempt after the first return the same message,
        and where Discord takes no nonce ``attempt`` > 1 looks for an earlier try's."""
        if self.client is None or self.client.is_closed():
            raise DeliveryError("the Discord adapter is not connected")
        return await self.outbound.send(message, idempotency_key, attempt)

    # -- inbound -------------------------------------------------------------------

    def use_inbox(self, inbox: Inbox) -> bool:
        """Keep every interaction the desk has deferred in ``inbox`` until it is handled,
        so that one this process dies holding is handled by another instance (Discord
        does not send an interaction twice). True: the composition root replays them."""
        self._inbox = inbox
        return True

    async def deliver(self, event, *, deferred: bool = False) -> bool:
        """Hand a translated event (or nothing) to the desk, a few at a time. A
        ``deferred`` interaction is kept in the inbox first and cleared once handled.

        Discord delivers nothing twice, so while the database is away an event the
        inbox could not keep waits here, in memory, and is tried again every
        ``outage_pause`` seconds for up to ``outage_patience`` (a managed PostgreSQL
        failover takes 30 s to 2 minutes; the router itself rides out the first 15 s).
        Returns False only when it was given up: the caller tells the person."""
        if event is None or self._dispatch is None:
            return True
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self.outage_patience
        kept = False
        while True:
            if deferred and self._inbox is not None and not kept:
                try:
                    if not await self._inbox.keep(PLATFORM, event.event_id,
                                                  event_to_json(event)):
                        return True  # kept already: whoever holds it handles it
                    kept = True
                except Exception:  # the database is away: tried in memory meanwhile
                    logger.warning("could not keep Discord interaction %s; handling it "
                                   "without the inbox", event.event_id)
            try:
                async with self._handling:
                    await self._dispatch(event)  # raises only while the database is away
                break
            except Exception:
                if kept:  # the inbox has it: any instance replays it once it is back
                    try:
                        await self._inbox.retry_later(PLATFORM, event.event_id)
                    except Exception:  # then its lease runs out
                        logger.warning("could not hand Discord interaction %s back",
                                       event.event_id)
                    return True
                if loop.time() >= give_up_at:
                    logger.error("the database stayed away for %.0f s: Discord %s %s was "
                                 "not handled", self.outage_patience, type(event).__name__,
                                 event.event_id)
                    return False
                logger.warning("the database is away: Discord %s %s waits here and is "
                               "tried again in %.0f s", type(event).__name__, event.event_id,
                               self.outage_pause)
                await asyncio.sleep(self.outage_pause)
        if kept:
            try:
                await self._inbox.done(PLATFORM, event.event_id)
            except Exception:  # its lease runs out; the replay is dropped by the dedupe
                logger.exception("could not clear Discord interaction %s", event.event_id)
        return True

    def sync_commands(self, guilds) -> None:
        """Register /ticket and /helpdesk in each guild, in the background."""
        self._tasks.start(self._sync(list(guilds)), name="discord-command-sync")

    async def _sync(self, guilds) -> None:
        assert self.client is not None
        payload = command_payloads(self._words, self.templates)
        for guild in guilds:
            try:
                await self.client.http.bulk_upsert_guild_commands(
                    self.client.application_id, guild.id, payload)
            except discord.HTTPException as error:
                logger.error("could not register commands in guild %s: %s", guild.id, error)

    async def on_command(self, interaction: discord.Interaction) -> None:
        """``/ticket claim ticket:4``: read the typed options; a value no Discord client
        should send (a number out of range, a bot where a person belongs, a missing
        option) is answered privately at once and goes no further; anything else is
        deferred privately and handed to the desk as the words its router reads."""
        data = interaction.data or {}
        if data.get("name") not in COMMAND_NAMES:
            return
        reading = read_command(data)
        if reading.problem is not None:
            await interaction.response.send_message(reading.words(self.templates),
                                                    ephemeral=True)
            return
        if await self._open_form(interaction, data["name"], reading.text):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        token = self._token(interaction)
        self.replies.thinking(token)
        handled = await self.deliver(await self._event(interaction, CommandInvoked,
                                                       name=data["name"], text=reading.text),
                                     deferred=True)
        if not handled:
            await self.replies.apologise(token, self.templates.render("errors.not_taken"))
        self.replies.clear_later(token)

    async def _open_form(self, interaction: discord.Interaction, name: str, text: str) -> bool:
        """Answer the command with the modal the desk has for it and this person
        (``/kb add``), within Discord's 3 seconds; False (the command is then deferred
        and handed to the desk, which answers it) when there is none or it is late."""
        if self._forms is None or interaction.guild is None:
            return False
        member = interaction.user if isinstance(interaction.user, discord.Member) else None
        actor = self.inbound.actor(interaction.user, member, interaction.permissions)
        form = await form_for(self._forms, PLATFORM, str(interaction.guild.id), actor, name,
                              text, AUTOCOMPLETE_BUDGET)
        if form is None:
            return False
        await interaction.response.send_modal(
            form_modal(form.title, form.action, form.value, form.fields))
        return True

    async def on_autocomplete(self, interaction: discord.Interaction) -> None:
        """The ticket number being typed: the tickets this person may see whose number
        starts with, or whose subject contains, what they typed (at most 25, newest
        first), answered (type 8) within Discord's 3 seconds. Not queued behind the
        desk's events: it only reads."""
        found = focused_option(interaction.data or {})
        choices: list[discord.app_commands.Choice] = []
        if found is not None and found.get("name") == TICKET.name \
                and self._choices is not None and interaction.guild is not None:
            member = interaction.user if isinstance(interaction.user, discord.Member) else None
            actor = self.inbound.actor(interaction.user, member, interaction.permissions)
            typed = str(found.get("value") or "")
            try:
                tickets = await asyncio.wait_for(
                    self._choices(PLATFORM, str(interaction.guild.id), actor, typed,
                                  limit=MAX_CHOICES),
                    AUTOCOMPLETE_BUDGET)
            except asyncio.TimeoutError:
                logger.warning("ticket autocomplete took over %.1fs; answered with no choices",
                               AUTOCOMPLETE_BUDGET)
                tickets = []
            except Exception:  # a lookup that failed must not leave the picker hanging
                logger.exception("ticket autocomplete failed; answered with no choices")
                tickets = []
            choices = [discord.app_commands.Choice(
                name=ticket_choice_name(self.templates, number, subject), value=number)
                for number, subject in tickets]
        try:
            await interaction.response.autocomplete(choices)
        except discord.HTTPException as error:  # too late, or the person moved on
            logger.info("could not answer an autocomplete: %s", error)

    async def on_button(self, interaction: discord.Interaction, item: discord.ui.Button) -> None:
        """A desk button: a form opens its modal; anything else is deferred and handed on."""
        parsed = self.book.parse(item.custom_id or "")
        if parsed is None:
            await interaction.response.defer()
            return
        action, value, fields = parsed
        if fields:
            title = item.label or self.templates.render("discord.form_title")
            await interaction.response.send_modal(form_modal(title, action, value, fields))
            return
        await interaction.response.defer()
        message_id = str(interaction.message.id) if interaction.message else None
        handled = await self.deliver(await self._event(interaction, ButtonPressed,
                                                       action=action, value=value,
                                                       message_id=message_id),
                                     deferred=True)
        if not handled:
            await self.replies.apologise(self._token(interaction),
                                         self.templates.render("errors.not_taken"))

    async def on_modal(self, interaction: discord.Interaction) -> None:
        """A submitted form: the button press it completes, with the answers."""
        data = interaction.data or {}
        parsed = parse_modal_id(data.get("custom_id", ""))
        if parsed is None:
            return
        await interaction.response.defer()
        message_id = str(interaction.message.id) if interaction.message else None
        handled = await self.deliver(await self._event(
            interaction, ButtonPressed, action=parsed[0], value=parsed[1], message_id=message_id,
            form=modal_values(data.get("components") or [])), deferred=True)
        if not handled:
            await self.replies.apologise(self._token(interaction),
                                         self.templates.render("errors.not_taken"))

    def _token(self, interaction: discord.Interaction) -> ReplyToken:
        return ReplyToken(str(interaction.application_id), str(interaction.id), interaction.token)

    async def _event(self, interaction: discord.Interaction, kind, **fields):
        return await self.inbound.interaction(interaction, kind, str(self._token(interaction)),
                                              **fields)
