"""Issue 18: one Discord gateway for several instances, held through a PostgreSQL
advisory lock; a stand-by takes over within 15 s when the holder dies."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from bot.clock import OffsetClock
from bot.core import Delivery
from bot.failover import HeldGateway
from bot.outbox.dispatcher import OutboxDispatcher
from bot.storage.gateway_lock import GatewayLock
from bot.storage.uow import Database
from tests.support.harness import reset_schema

pytestmark = pytest.mark.postgres


class Gateway:
    """Stands in for the Discord adapter: counts starts and stops."""

    platform = "discord"
    pacing = None

    def __init__(self) -> None:
        self.connected = False
        self.starts = self.stops = 0

    async def start(self, dispatch) -> None:
        self.connected, self.starts = True, self.starts + 1

    async def stop(self) -> None:
        self.connected, self.stops = False, self.stops + 1

    async def is_connected(self) -> bool:
        return self.connected

    async def send(self, message, *, idempotency_key, attempt=1, since=None) -> Delivery:
        return Delivery("m", message.channel_id, None)


async def until(check, seconds: float) -> float:
    loop = asyncio.get_running_loop()
    began = loop.time()
    while not check():
        assert loop.time() - began < seconds, "waited in vain"
        await asyncio.sleep(0.05)
    return loop.time() - began


async def test_the_gateway_is_held_by_one_instance_and_taken_over_when_it_dies(postgres_url):
    db = Database.from_url(postgres_url, OffsetClock())
    await reset_schema(db)
    instances = []
    try:
        for _ in range(3):
            gateway = Gateway()
            dispatcher = OutboxDispatcher(db, {"discord": gateway})
            instances.append(HeldGateway(gateway, GatewayLock(db.engine, "discord-test"),
                                         dispatcher, poll=1.0))
        for instance in instances:
            await instance.start(lambda event: None)
        await until(lambda: any(i.holding for i in instances), 10)
        await asyncio.sleep(2.5)  # the others have polled meanwhile, and stood by
        [holder] = [i for i in instances if i.holding]
        standing_by = [i for i in instances if not i.holding]
        assert [i.adapter.starts for i in standing_by] == [0, 0]
        # A stand-by is ready (it serves Slack meanwhile) and claims no Discord rows.
        assert all([await i.is_connected() for i in instances])
        assert all("discord" in i.dispatcher._held for i in standing_by)
        assert "discord" not in holder.dispatcher._held

        # The holder's process dies: PostgreSQL ends its session, freeing the lock.
        async with db.unit_of_work() as uow:
            ended = (await uow.session.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND granted AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"))).all()
        assert len(ended) == 1
        took = await until(lambda: any(i.holding for i in standing_by), 15)
        assert took < 15
        [successor] = [i for i in standing_by if i.holding]
        assert successor.adapter.starts == 1 and "discord" not in successor.dispatcher._held
        # The old holder noticed its lock was gone and disconnected: never two gateways
        # for longer than a poll.
        await until(lambda: not holder.holding, 5)
        assert holder.adapter.stops == 1 and not holder.adapter.connected
        assert sum(i.holding for i in instances) == 1
    finally:
        for instance in instances:
            await instance.stop()
        await db.dispose()
