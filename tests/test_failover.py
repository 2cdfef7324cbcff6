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
from bot.storage.gateway_lock import GatewayLock, LockAnswer
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
            instances.append(HeldGateway(gateway, GatewayLock(postgres_url, "discord-test"),
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

        # The holder's process dies: its code stops running and its connection closes,
        # so PostgreSQL ends its session, freeing the lock.
        holder._holder.cancel()
        await asyncio.wait({holder._holder})
        await _terminate_lock_sessions(db)
        took = await until(lambda: any(i.holding for i in standing_by), 15)
        assert took < 15
        [successor] = [i for i in standing_by if i.holding]
        assert successor.adapter.starts == 1 and "discord" not in successor.dispatcher._held
        assert sum(i.holding for i in standing_by) == 1
    finally:
        for instance in instances:
            await instance.stop()
        await db.dispose()


async def _terminate_lock_sessions(db) -> int:
    async with db.unit_of_work() as uow:
        ended = (await uow.session.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_locks "
            "WHERE locktype = 'advisory' AND granted AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"))).all()
    return len(ended)


async def test_a_database_restart_keeps_the_holders_gateway(postgres_url):
    # Every session ends and new ones are refused for a while (a restart): no instance
    # can hold the lock meanwhile, and what the gateway hears waits in memory for the
    # database. The holder keeps its gateway, asks again before the stand-by does, and
    # holds the lock again when the database is back: never a moment with no gateway,
    # nor two.
    from sqlalchemy.engine import make_url
    from tests.support.silent_proxy import SilentProxy
    url = make_url(postgres_url)
    proxy = SilentProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    db = Database.from_url(postgres_url, OffsetClock())
    await reset_schema(db)
    instances = []
    try:
        for _ in range(2):
            gateway = Gateway()
            instances.append(HeldGateway(gateway, GatewayLock(through, "discord-restart"),
                                         OutboxDispatcher(db, {"discord": gateway}), poll=1.0))
        for instance in instances:
            await instance.start(lambda event: None)
        await until(lambda: any(i.holding for i in instances), 10)
        [holder] = [i for i in instances if i.holding]
        [stand_by] = [i for i in instances if not i.holding]
        proxy.go_down()
        watched = []
        for n in range(100):  # 5 s: down for 3, then back
            if n == 60:
                proxy.come_back()
            watched.append((holder.holding, stand_by.holding, holder.adapter.connected))
            await asyncio.sleep(0.05)
        assert all(seen == (True, False, True) for seen in watched), watched
        assert holder.adapter.stops == 0 and stand_by.adapter.starts == 0
        assert await holder.lock.still_held() is LockAnswer.OURS  # the lock is ours again
        await asyncio.sleep(2.5)  # the stand-by has asked again meanwhile, and stood by
        assert (holder.holding, stand_by.holding) == (True, False)
    finally:
        for instance in instances:
            await instance.stop()
        await db.dispose()
        await proxy.stop()



async def test_a_holder_cut_off_silently_stands_down_and_a_stand_by_takes_over(postgres_url):
    # The holder's machine dies or its route drops: no FIN, no RST, its lock session
    # looks merely idle to PostgreSQL, which would keep the lock for hours of TCP
    # keepalive. The lock's session asks the server to end it after ``ttl`` of silence,
    # and the holder, hearing nothing back, disconnects first: never two gateways.
    from sqlalchemy.engine import make_url
    from tests.support.silent_proxy import SilentProxy
    url = make_url(postgres_url)
    proxy = SilentProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    db = Database.from_url(postgres_url, OffsetClock())
    await reset_schema(db)
    through_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(
        hide_password=False)
    holder = HeldGateway(Gateway(), GatewayLock(through_proxy, "discord-silent", ttl=3.0,
                                                timeout=1.0),
                         OutboxDispatcher(db, {"discord": Gateway()}), poll=1.0)
    stand_by = HeldGateway(Gateway(), GatewayLock(postgres_url, "discord-silent", ttl=3.0,
                                                  timeout=1.0),
                           OutboxDispatcher(db, {"discord": Gateway()}), poll=1.0)
    both_at_once = []
    try:
        await holder.start(lambda event: None)
        await until(lambda: holder.holding, 10)
        await stand_by.start(lambda event: None)
        await asyncio.sleep(1.5)
        assert not stand_by.holding  # the lock is taken

        proxy.silence()

        async def watch() -> None:
            while True:
                both_at_once.append(holder.holding and stand_by.holding)
                await asyncio.sleep(0.05)

        watcher = asyncio.get_running_loop().create_task(watch())
        try:
            took = await until(lambda: stand_by.holding, 30)
        finally:
            watcher.cancel()
        assert took < 15  # ttl 3 s + polls of 1 s, with room for a loaded machine
        assert not holder.holding and holder.adapter.stops == 1
        assert not any(both_at_once)
    finally:
        for instance in (holder, stand_by):
            await asyncio.wait_for(instance.stop(), 10)
        await proxy.stop()
        await db.dispose()


async def test_the_lock_connection_keeps_the_urls_tls_demands(postgres_url):
    # It used to be opened from the engine's URL, which had sslmode taken out, so a
    # verify-full deployment's lock connected without checking the certificate.
    strict = GatewayLock(postgres_url + "?sslmode=verify-full", "discord-tls", timeout=5.0)
    plain = GatewayLock(postgres_url + "?sslmode=disable", "discord-tls", timeout=5.0)
    try:
        # This machine's server has no certificate a client could verify (or no TLS at
        # all): a verify-full connection must be refused, as the desk's own would be.
        assert await strict.try_acquire() is False
        assert await plain.try_acquire() is True
    finally:
        await strict.release()
        await plain.release()


class SlowGateway(Gateway):
    """A gateway whose start takes longer than the lock's ttl of silence."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    async def start(self, dispatch) -> None:
        await asyncio.sleep(self.seconds)
        await super().start(dispatch)


async def test_a_gateway_start_longer_than_the_locks_ttl_keeps_the_lock(postgres_url):
    # The lock was not pinged while the gateway started: a start longer than the ttl
    # let the server end the session, a stand-by started too, and both flapped.
    db = Database.from_url(postgres_url, OffsetClock())
    await reset_schema(db)
    slow = HeldGateway(SlowGateway(5.0), GatewayLock(postgres_url, "discord-slow", ttl=2.0,
                                                     timeout=1.0),
                       OutboxDispatcher(db, {"discord": Gateway()}), poll=0.5)
    other = HeldGateway(Gateway(), GatewayLock(postgres_url, "discord-slow", ttl=2.0,
                                               timeout=1.0),
                        OutboxDispatcher(db, {"discord": Gateway()}), poll=0.5)
    try:
        await slow.start(lambda event: None)
        await asyncio.sleep(0.3)  # the slow one has the lock and is starting
        await other.start(lambda event: None)
        await until(lambda: slow.holding, 15)
        await asyncio.sleep(1.5)
        assert (slow.holding, other.holding, other.adapter.starts) == (True, False, 0)
    finally:
        for instance in (slow, other):
            await instance.stop()
        await db.dispose()
