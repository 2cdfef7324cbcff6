"""Issue 18: a Discord interaction the desk has deferred is kept in the inbox until it
is handled, and one an instance died holding is handled by another."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from bot.core import CommandInvoked, event_from_json, event_to_json
from bot.storage.inbox import DurableInbox
from bot.storage.tables import InboxRow
from tests.support.discord.desk import DiscordDesk
from tests.support.discord.server import ephemeral_texts


@pytest.fixture
async def desk(db_url, fake, world):
    async with DiscordDesk(db_url, fake) as desk:
        await desk.configure(world.guild, intake=(world.help,), triage=world.triage,
                             agents=((world.sam, "Sam"),))
        desk.inbox = DurableInbox(desk.db)
        assert desk.adapter.use_inbox(desk.inbox)

        async def replay(stored: str) -> None:  # as bot/app.py wires it
            event = event_from_json(stored)
            await desk.sink(event)
            await desk.inbox.done(event.platform, event.event_id)

        desk.inbox.replay_with("discord", replay)
        yield desk


async def inbox_rows(desk) -> list[InboxRow]:
    async with desk.db.reading() as uow:
        return list((await uow.session.execute(select(InboxRow))).scalars())


async def test_a_deferred_command_is_kept_until_handled(fake, world, desk):
    gate, router = asyncio.Event(), desk.sink.router

    async def held(event):
        await gate.wait()
        await router(event)

    desk.sink.router = held
    run = fake.command(world.alice, world.general, "/ticket mine")
    await fake.wait_for(lambda: run.response)  # deferred: Discord will not send it again
    for _ in range(100):
        if await inbox_rows(desk):
            break
        await asyncio.sleep(0.02)
    [kept] = await inbox_rows(desk)
    assert (kept.platform, kept.owner) == ("discord", desk.inbox.owner)
    gate.set()
    await desk.step()
    assert ephemeral_texts(run) == ["You have no tickets yet. Write to me any time and I'll open one."]
    assert await inbox_rows(desk) == []


async def test_an_interaction_a_dead_instance_deferred_is_answered_by_another(fake, world, desk):
    run = fake.command(world.alice, world.general, "/ticket mine")
    await desk.step()
    [handled] = desk.sink.events
    # Another interaction of Alice's, deferred by an instance that died before handling
    # it (it answers through the same interaction's token, as a follow-up).
    event = CommandInvoked(platform="discord", workspace_id=world.guild, event_id="9000001",
                           actor=handled.actor, channel_id=world.general, name="ticket",
                           text="mine", reply_token=handled.reply_token)
    past = desk.clock.now() - timedelta(minutes=1)
    async with desk.db.unit_of_work() as uow:
        await uow.session.execute(insert(InboxRow).values(
            platform="discord", event_key=event.event_id, payload=event_to_json(event),
            owner="dead-instance", lease_until=past, received_at=past, attempts=1))
    assert await desk.inbox.take_over() == 1
    for _ in range(200):
        if not await inbox_rows(desk):
            break
        await asyncio.sleep(0.02)
    assert await inbox_rows(desk) == []
    await desk.settle()
    assert ephemeral_texts(run) == [
        "You have no tickets yet. Write to me any time and I'll open one."] * 2
    # Taken over once more, nothing is left to handle again.
    assert await desk.inbox.take_over() == 0


class DatabaseAway:
    """The router as it behaves while the database is away for longer than its own
    15 s of retries: it raises (``DatabaseUnavailable``), for ``times`` calls."""

    def __init__(self, router, times: int) -> None:
        self.router, self.times, self.calls = router, times, 0

    async def __call__(self, event) -> None:
        self.calls += 1
        if self.calls <= self.times:
            from bot.storage.engine import DatabaseUnavailable
            raise DatabaseUnavailable("the database is unreachable")
        await self.router(event)


async def test_a_command_waits_out_a_database_outage_in_memory(fake, world, desk):
    # Discord delivers nothing twice: with the inbox unable to keep it either, the
    # deferred command waits in memory and is handled once the database is back.
    async def away(*args):
        raise ConnectionError("the database is away")

    desk.adapter.outage_pause = 0.05
    kept, desk.inbox.keep = desk.inbox.keep, away
    desk.sink.router = DatabaseAway(desk.sink.router, times=3)
    run = fake.command(world.alice, world.general, "/ticket mine")
    await fake.wait_for(lambda: run.response)
    for _ in range(200):
        if desk.sink.router.calls > 3:
            break
        await asyncio.sleep(0.02)
    desk.inbox.keep = kept
    # The one event, handled (it may be already: waiting for "one more" would wait in
    # vain), then what it said delivered.
    await desk.handled(1)
    assert ephemeral_texts(run) == ["You have no tickets yet. Write to me any time and I'll open one."]


async def test_a_command_given_up_after_the_outage_patience_is_answered_honestly(
        fake, world, desk):
    async def away(*args):
        raise ConnectionError("the database is away")

    desk.adapter.outage_pause, desk.adapter.outage_patience = 0.05, 0.3
    desk.inbox.keep = away
    desk.sink.router = DatabaseAway(desk.sink.router, times=10_000)
    run = fake.command(world.alice, world.general, "/ticket new Printer jams on tray 2")
    await fake.wait_for(lambda: run.response)
    await fake.wait_for(lambda: ephemeral_texts(run), timeout=10)
    # Not left on "thinking..." for ever, and nothing claimed that was not done.
    assert ephemeral_texts(run) == ["Sorry, I couldn't take that just now, so nothing was "
                                    "changed. Please try it again in a few minutes."]
    assert desk.sink.router.calls >= 2
