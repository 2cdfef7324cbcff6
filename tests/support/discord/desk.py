"""The whole desk on Discord, in-process: the real DiscordAdapter (discord.py) connected
to a FakeDiscord, with the real router, handlers, outbox and promise sweeper on a
SQLite file. Time is an OffsetClock; tests never sleep for business time to pass.

The fake's world: guild "Acme" with #help (intake), #triage, #general and the forum
#it-forum; Alice (requester), Sam (agent), Ada (has Manage Server) and the owner.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.platforms.discord.adapter import DiscordAdapter
from bot.clock import OffsetClock
from bot.desk.policy import Desk
from bot.domain.people import Role
from bot.desk.features import register_all
from bot.desk.alerts import dead_letter_alerter
from bot.desk.cards import CardRenderer
from bot.desk.router import Router
from bot.ledger.sweeper import PromiseSweeper
from bot.outbox.dispatcher import OutboxDispatcher
from bot.settings import Secret, Settings
from bot.storage.uow import Database
from tests.support.discord.server import FakeDiscord
from tests.support.harness import reset_schema


class CountingSink:
    """Passes events to the router and counts them once handled, so tests can wait."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.events: list = []
        self._changed = asyncio.Condition()

    @property
    def commands(self):
        """The router's commands, so the adapter registers its words as sub-commands."""
        return self.router.commands

    async def ticket_choices(self, *args, **kwargs):
        """The router's ticket lookup for autocomplete (not an event: not counted)."""
        return await self.router.ticket_choices(*args, **kwargs)

    async def command_form(self, *args, **kwargs):
        """The router's form for a command (``/kb add``): a read, not an event."""
        return await self.router.command_form(*args, **kwargs)

    async def __call__(self, event) -> None:
        """Handle ``event`` fully, then record it."""
        await self.router(event)
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    async def wait(self, count: int, timeout: float = 10.0) -> list:
        """Wait until ``count`` events in all have been handled."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.events) >= count),
                                   timeout)
        return self.events


class DiscordDesk:
    """A desk serving the fake Discord; ``extra`` adapters share its dispatcher;
    ``settings`` adds further Settings fields (say, ``discord_agent_roles``)."""

    def __init__(self, url: str, fake: FakeDiscord, *, admins: tuple[str, ...] = (),
                 extra: dict | None = None, **settings) -> None:
        self.fake = fake
        self.clock = OffsetClock()
        self.settings = Settings(database_url=url, admins=admins,
                                 discord_bot_token=Secret("fake-token"),
                                 discord_api_url=fake.api_url, discord_gateway_url=fake.gateway_url,
                                 **settings)
        self.db = Database.from_url(url, self.clock)
        self.desk = Desk.from_settings(self.settings, self.clock)
        self.router = Router(self.db, self.desk)
        register_all(self.router)
        self.sink = CountingSink(self.router)
        self.adapter = self._new_adapter()
        self.extra = extra or {}
        self.dispatcher = OutboxDispatcher(self.db, {"discord": self.adapter, **self.extra},
                                           on_dead=dead_letter_alerter(self.desk),
                                           render_cards=CardRenderer(self.desk))
        self.db.deliver_outbox_to(self.dispatcher)
        self.sweeper = PromiseSweeper(self.db, self.desk)

    def _new_adapter(self) -> DiscordAdapter:
        return DiscordAdapter(self.settings, guild_ready_timeout=0.05, thinking_grace=0.5)

    async def __aenter__(self) -> "DiscordDesk":
        await reset_schema(self.db)
        await self.adapter.start(self.sink)
        for extra in self.extra.values():
            await extra.start(self.router)
        await self.fake.wait_for(lambda: self.fake.commands)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.adapter.stop()
        await self.db.dispose()

    async def restart(self) -> None:
        """Stop the adapter and start a new one, as a process restart would."""
        await self.adapter.stop()
        self.adapter = self._new_adapter()
        self.dispatcher.adapters["discord"] = self.adapter
        await self.adapter.start(self.sink)

    async def handled(self, count: int) -> None:
        """Wait until the desk has handled ``count`` events since the start, then deliver."""
        await self.sink.wait(count)
        await self.settle()

    async def step(self) -> None:
        """Wait for one more event to be handled, then deliver what is due."""
        await self.handled(len(self.sink.events) + 1)

    async def settle(self) -> None:
        """Sweep due promises and deliver every due outbox row."""
        await self.sweeper.sweep()
        await self.dispatcher.drain()

    async def advance(self, delta: timedelta) -> None:
        """Let business time pass, then settle."""
        self.clock.advance(delta)
        await self.settle()

    async def configure(self, guild_id: str, *, intake: tuple[str, ...] = (),
                        triage: str | None = None, agents: tuple[tuple[str, str], ...] = ()) -> None:
        """Set channels and agents straight in the database (the commands that do it
        have their own test)."""
        now = self.clock.now()
        async with self.db.unit_of_work() as uow:
            workspace = await uow.workspaces.ensure("discord", guild_id, guild_id, now)
            for channel in intake:
                await uow.workspaces.set_channel(workspace.id, "intake", channel, now,
                                                 only_one=False)
            if triage:
                await uow.workspaces.set_channel(workspace.id, "triage", triage, now,
                                                 only_one=True)
            for user_id, name in agents:
                person = await uow.people.ensure(workspace.id, user_id, name, now)
                await uow.people.record_role(person.id, Role.AGENT)


class World:
    """Ids of the fake's guild, channels and people."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.guild = fake.add_guild("Acme")
        self.owner = fake.guilds[self.guild]["owner"]
        self.help = fake.add_channel(self.guild, "help")
        self.triage = fake.add_channel(self.guild, "triage")
        self.general = fake.add_channel(self.guild, "general")
        self.forum = fake.add_channel(self.guild, "it-forum", forum=True)
        self.alice = fake.add_user("Alice")
        self.sam = fake.add_user("Sam")
        self.ada = fake.add_user("Ada")
        for person in (self.alice, self.sam):
            fake.add_member(self.guild, person)
        fake.add_member(self.guild, self.ada, admin=True)
