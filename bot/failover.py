"""One gateway for several instances: a platform adapter started only while this
instance holds the platform's PostgreSQL advisory lock (bot/storage/gateway_lock.py).

Discord allows one gateway connection per bot token (per shard). With two or three
instances on one PostgreSQL, each wraps its Discord adapter in :class:`HeldGateway`:
the one that takes the lock connects; the others stand by, ready (``/readyz`` counts a
healthy stand-by as connected: it serves Slack and its ticker meanwhile), and poll the
lock every ``poll`` seconds. When the holder dies its lock connection closes,
PostgreSQL frees the lock, and a stand-by connects: within ``poll`` seconds plus the
gateway's own start. A holder that vanishes without closing it (its machine dies, the
network goes silent) is ended by the server after the lock's ``ttl`` of silence; the
holder, whose pings come back late, disconnects first. A database restart ends every
session and nobody can hold the lock meanwhile: the holder keeps its gateway (what it
hears waits in memory for the database) and asks again before the stand-bys do (see
``_keep``); it disconnects only if the database says another instance took the lock.
While standing by, the outbox does not claim the platform's rows: the holder sends them.

Why a lock and not shards (``HELPDESK_DISCORD_SHARDS``): a help desk's guilds fit one
shard many times over (Discord requires sharding from 2,500 guilds), and a lock needs no
fixed assignment of instances, so any one of them can die.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bot.core import ChatAdapter, Delivery, EventSink, OutboundMessage
from bot.core.tasks import BackgroundTasks
from bot.outbox.dispatcher import OutboxDispatcher
from bot.storage.gateway_lock import GatewayLock, LockAnswer

logger = logging.getLogger(__name__)

POLL_SECONDS = 3.0


class HeldGateway:
    """``adapter``, connected only while ``lock`` is ours (see the module doc)."""

    def __init__(self, adapter: ChatAdapter, lock: GatewayLock, dispatcher: OutboxDispatcher,
                 *, poll: float = POLL_SECONDS) -> None:
        self.adapter = adapter
        self.platform = adapter.platform
        self.pacing = getattr(adapter, "pacing", None)
        self.lock = lock
        self.dispatcher = dispatcher
        self.poll = poll
        self.holding = False
        self.takeovers = 0
        self._tasks = BackgroundTasks(logger)
        self._holder: asyncio.Task | None = None

    async def start(self, dispatch: EventSink) -> None:
        """Stand by, and connect whenever the lock is ours; returns at once."""
        self.dispatcher.hold_platform(self.platform, True)
        self._holder = self._tasks.start(self._hold(dispatch), name=f"{self.platform}-gateway")

    async def _hold(self, dispatch: EventSink) -> None:
        while True:
            answer = await self.lock.ask()
            if answer is not LockAnswer.OURS:
                # A database that did not answer is restarting or away: when it comes
                # back, the holder (asking every third of a poll) gets the first chance
                # to hold its lock again, so a stand-by waits a poll more.
                await asyncio.sleep(self.poll * (1 if answer is LockAnswer.THEIRS else 2))
                continue
            logger.info("this instance holds the %s gateway; connecting", self.platform)
            if not await self._connect(dispatch):
                await self.lock.release()
                await asyncio.sleep(self.poll)
                continue
            self.holding = True
            self.takeovers += 1
            self.dispatcher.hold_platform(self.platform, False)
            await self._keep()
            self.holding = False
            self.dispatcher.hold_platform(self.platform, True)
            try:
                await self.adapter.stop()
            except Exception:
                logger.exception("stopping the %s adapter failed", self.platform)
            # The instance that just stood down is the likeliest to be in trouble: a
            # stand-by gets the first chance at the lock.
            await asyncio.sleep(self.poll * 2)

    async def _connect(self, dispatch: EventSink) -> bool:
        """Start the gateway, pinging the lock meanwhile (a start can take longer than
        the lock's ``ttl`` of silence); False when it did not start."""
        starting = self._tasks.start(self.adapter.start(dispatch),
                                     name=f"{self.platform}-gateway-start")
        while not starting.done():
            await asyncio.wait({starting}, timeout=self.poll)
            if not starting.done():
                await self.lock.still_held()  # keeps the session from going idle
        try:
            starting.result()
        except Exception:
            logger.exception("the %s gateway did not start; giving the lock up", self.platform)
            return False
        return True

    async def _keep(self) -> None:
        """Hold the lock while it is ours; return when this instance must stand down.

        A lock session that ends because the database restarted or refused (NO_ANSWER)
        does not make us stand down: no instance can take the lock meanwhile, and what
        the gateway hears waits in memory for the database (the adapter's outage
        patience), where disconnecting would lose it. We ask again every third of a
        poll (before the stand-bys, who ask every poll) and stand down only when the
        database answers that another instance holds it. A session that goes *silent*
        is different: the network between us and the database may be cut while the
        others reach it, so we stand down at once, before the server's ``ttl`` frees the
        lock for a stand-by."""
        while True:
            await asyncio.sleep(self.poll)
            answer = await self.lock.still_held()
            if answer is LockAnswer.OURS:
                continue
            if answer is LockAnswer.SILENT:
                logger.error("the %s gateway lock's database went silent; disconnecting and "
                             "standing by (another instance may reach it)", self.platform)
                return
            logger.warning("the %s gateway lock's session ended (the database restarted or "
                           "is away); keeping the gateway and asking for the lock again",
                           self.platform)
            while True:
                answer = await self.lock.ask()
                if answer is LockAnswer.OURS:
                    logger.info("holding the %s gateway lock again", self.platform)
                    break
                if answer is LockAnswer.THEIRS:
                    logger.error("another instance took the %s gateway lock while the "
                                 "database was away; disconnecting and standing by",
                                 self.platform)
                    return
                if answer is LockAnswer.SILENT:
                    logger.error("the %s gateway lock's database went silent; disconnecting "
                                 "and standing by", self.platform)
                    return
                await asyncio.sleep(self.poll / 3)

    def use_inbox(self, inbox) -> bool:
        """The adapter's own inbox use (its deferred interactions), if it has one."""
        use_inbox = getattr(self.adapter, "use_inbox", None)
        return bool(use_inbox is not None and use_inbox(inbox))

    async def is_connected(self) -> bool:
        """A stand-by is healthy; a holder is as connected as its gateway."""
        if not self.holding:
            return self._holder is not None and not self._holder.done()
        probe = getattr(self.adapter, "is_connected", None)
        return True if probe is None else await probe()

    async def send(self, message: OutboundMessage, *, idempotency_key: str,
                   attempt: int = 1, since: timedelta | None = None) -> Delivery:
        """Send through the adapter (the outbox asks only while we hold the gateway)."""
        return await self.adapter.send(message, idempotency_key=idempotency_key,
                                       attempt=attempt, since=since)

    async def stop(self) -> None:
        """Stop standing by or holding; the lock goes with its connection."""
        await self._tasks.cancel()
        if self.holding:
            self.holding = False
            await self.adapter.stop()
        await self.lock.release()


def held(adapter: ChatAdapter) -> ChatAdapter:
    """The adapter itself, under a :class:`HeldGateway` or not."""
    return adapter.adapter if isinstance(adapter, HeldGateway) else adapter
