"""Drive the whole desk (router, handlers, outbox) against a real database, in-process.

Time is an OffsetClock: ``advance`` lets hours pass at once without freezing asyncio.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from bot.core import (
    Actor, ButtonPressed, CommandInvoked, IncomingMessage, ReactionAdded,
)
from bot.clock import OffsetClock
from bot.desk.policy import Desk
from bot.desk.features import register_all
from bot.desk.alerts import dead_letter_alerter
from bot.desk.cards import CardRenderer
from bot.desk.router import Router
from bot.ledger.sweeper import PromiseSweeper
from bot.outbox.dispatcher import OutboxDispatcher
from bot.settings import Settings
from bot.storage.tables import Base
from bot.storage.uow import Database
from tests.support.recording import RecordingAdapter

WORKSPACE = "T-test"


def stated(moment: datetime) -> datetime:
    """The minute a person is told for ``moment`` (worked out here, not by the code under
    test): rounded up to the whole minute. A promise is due at the minute it states."""
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + timedelta(minutes=1)


async def reset_schema(db: Database) -> None:
    """An empty schema at the models' shape (PostgreSQL tests share one database)."""
    async with db.engine.begin() as connection:
        await connection.run_sync(Base.metadata.drop_all)
        await connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        await connection.run_sync(Base.metadata.create_all)


class DeskHarness:
    """A desk with a recording adapter; people are named by their user ids."""

    def __init__(self, url: str, *, admins: tuple[str, ...] = ("boss",),
                 platform: str = "test") -> None:
        self.clock = OffsetClock()
        self.settings = Settings(database_url=url, admins=admins)
        self.db = Database.from_url(url, self.clock)
        self.desk = Desk.from_settings(self.settings, self.clock)
        self.router = Router(self.db, self.desk)
        register_all(self.router)
        self.platform = platform
        self.adapter = RecordingAdapter(platform)
        # One row at a time, so the transcript reads in the order the desk queued it;
        # concurrent lanes are tested on their own (tests/outbox/test_dispatcher.py).
        self.dispatcher = OutboxDispatcher(self.db, {platform: self.adapter},
                                           on_dead=dead_letter_alerter(self.desk), concurrency=1,
                                           render_cards=CardRenderer(self.desk))
        self.db.deliver_outbox_to(self.dispatcher)
        self.dispatcher.take_handoffs()  # as a running desk does (Ticker.start)
        self._ids = itertools.count(1)
        self.sweeper = PromiseSweeper(self.db, self.desk)
        self.jobs: list = [self.sweeper.sweep]

    async def __aenter__(self) -> "DeskHarness":
        await reset_schema(self.db)
        await self.adapter.start(self.router)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.db.dispose()

    def next_id(self, prefix: str = "e") -> str:
        """A fresh platform id."""
        return f"{prefix}{next(self._ids)}"

    def actor(self, user: str, **kw) -> Actor:
        """An actor whose display name is the capitalised user id (or ``display_name``)."""
        return Actor(user, kw.pop("display_name", user.capitalize()), **kw)

    async def settle(self) -> None:
        """Run scheduled jobs once and deliver everything due."""
        for job in self.jobs:
            await job()
        await self.dispatcher.drain()

    async def advance(self, delta: timedelta) -> None:
        """Let time pass, then settle."""
        self.clock.advance(delta)
        await self.settle()

    async def dm(self, user: str, text: str, *, thread_id: str | None = None,
                 event_id: str | None = None, **actor) -> IncomingMessage:
        """``user`` writes ``text`` to the bot directly."""
        message_id = self.next_id("msg")
        event = IncomingMessage(platform=self.platform, workspace_id=WORKSPACE,
                                event_id=event_id or message_id, actor=self.actor(user, **actor),
                                channel_id=f"D-{user}", text=text, message_id=message_id,
                                thread_id=thread_id, is_direct=True)
        await self.deliver(event)
        return event

    async def channel_message(self, user: str, channel: str, text: str, *,
                              thread_id: str | None = None, mentions_bot: bool = False,
                              **actor) -> IncomingMessage:
        """``user`` writes ``text`` in ``channel``."""
        message_id = self.next_id("msg")
        event = IncomingMessage(platform=self.platform, workspace_id=WORKSPACE,
                                event_id=message_id, actor=self.actor(user, **actor),
                                channel_id=channel, text=text, message_id=message_id,
                                thread_id=thread_id, mentions_bot=mentions_bot)
        await self.deliver(event)
        return event

    async def command(self, user: str, line: str, *, channel: str | None = None,
                      is_direct: bool = False, **actor) -> CommandInvoked:
        """``user`` runs ``/ticket claim 1`` (pass the line without the slash), by default
        in their DM with the bot (``is_direct`` says so to the desk)."""
        name, _, text = line.lstrip("/").partition(" ")
        event = CommandInvoked(platform=self.platform, workspace_id=WORKSPACE,
                               event_id=self.next_id("cmd"), actor=self.actor(user, **actor),
                               channel_id=channel or f"D-{user}", name=name, text=text,
                               is_direct=is_direct)
        await self.deliver(event)
        return event

    async def press(self, user: str, action: str, value: str = "", *, channel: str = "",
                    form: dict | None = None, **actor) -> ButtonPressed:
        """``user`` presses a button."""
        event = ButtonPressed(platform=self.platform, workspace_id=WORKSPACE,
                              event_id=self.next_id("btn"), actor=self.actor(user, **actor),
                              channel_id=channel or f"D-{user}", action=action, value=value,
                              form=form or {})
        await self.deliver(event)
        return event

    async def react(self, user: str, emoji: str, *, author: str, text: str, channel: str,
                    message_id: str | None = None, thread_id: str | None = None,
                    author_is_bot: bool = False) -> ReactionAdded:
        """``user`` reacts with ``emoji`` to ``author``'s message (in ``thread_id``)."""
        event = ReactionAdded(platform=self.platform, workspace_id=WORKSPACE,
                              event_id=self.next_id("rx"), actor=self.actor(user),
                              channel_id=channel, emoji=emoji,
                              message_id=message_id or self.next_id("msg"),
                              message_author=self.actor(author, is_bot=author_is_bot),
                              message_text=text, thread_id=thread_id)
        await self.deliver(event)
        return event

    async def deliver(self, event) -> None:
        """Hand ``event`` to the router as an adapter would, then settle."""
        await self.router(event)
        await self.settle()
