"""A PostgreSQL advisory lock that says which instance holds a platform's one gateway
connection (Discord allows one per bot token and shard).

The lock belongs to a database session, so it is held on a connection of its own,
outside the pool (a pooled connection goes back and the lock with it), opened with the
same URL and TLS settings as the desk's own connections. When the holder's process dies
its connection closes and PostgreSQL frees the lock at once: that is the failover signal
the instances standing by poll for.

A holder can also vanish without closing anything: its machine dies, or the network
between it and the database stops carrying packets. PostgreSQL would then keep the lock
until the kernel's TCP keepalive gives up (two hours by default). So the lock's session
asks the server to end it once it has been idle ``ttl`` seconds (``idle_session_timeout``,
PostgreSQL 14 and newer; older servers get short TCP keepalives instead), and the holder
pings it well within that (``still_held``), each ping bounded by ``timeout``: a holder
whose ping does not come back in time takes itself for cut off and disconnects its
gateway, and the server frees the lock for a stand-by a few seconds later.
"""

from __future__ import annotations

import logging
import zlib
from enum import Enum

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.tasks import bounded
from bot.storage.engine import create_engine

logger = logging.getLogger(__name__)


class LockAnswer(Enum):
    """What asking for the lock (or pinging it) told us."""

    OURS = "ours"
    THEIRS = "theirs"  # the database answered: another instance holds it
    NO_ANSWER = "no answer"  # the database refused or failed: nobody can hold it now
    SILENT = "silent"  # nothing came back in time: the network to it may be cut


def _described(error: Exception) -> str:
    """The error's kind and first line, for a log (no URL or secret is in either)."""
    first = (str(error).strip().splitlines() or [""])[0][:200]
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def lock_key(name: str) -> int:
    """A stable 63-bit advisory lock key for ``name`` (the same in every instance)."""
    return zlib.crc32(f"helpdesk-bot:{name}".encode()) | (0x4844 << 32)


class GatewayLock:
    """``pg_try_advisory_lock`` on a connection of its own, for the gateway ``name``.

    ``ttl``: seconds of silence after which the server ends the lock's session (and so
    frees the lock); ``timeout``: how long one request on it may take before this
    instance gives the connection (and the lock) up."""

    def __init__(self, url: str, name: str, *, ttl: float = 9.0, timeout: float = 3.0) -> None:
        self._engine = create_engine(url, pooled=False)
        self.key = lock_key(name)
        self.name = name
        self.ttl = ttl
        self.timeout = timeout
        self._connection: AsyncConnection | None = None
        self._silent: list[AsyncConnection] = []  # forgotten silent connections

    async def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True when this instance now holds it."""
        return await self.ask() is LockAnswer.OURS

    async def ask(self) -> "LockAnswer":
        """Take the lock if nobody holds it, and say what happened: ours, another
        instance's, or no answer (the database refused, failed or stayed silent)."""
        try:
            got = await self._bounded(self._try_acquire(), self.timeout * 2)
        except Exception as error:  # the database is away or silent: try again later
            logger.warning("could not ask for the %s gateway lock: %s", self.name,
                           _described(error))
            await self._drop()
            return LockAnswer.SILENT if isinstance(error, TimeoutError) else LockAnswer.NO_ANSWER
        return LockAnswer.OURS if got else LockAnswer.THEIRS

    async def _try_acquire(self) -> bool:
        if self._connection is None:
            self._connection = await self._engine.connect()
            await self._bound_silence(self._connection)
        got = (await self._connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})).scalar_one()
        await self._connection.commit()  # end the transaction; the lock stays
        return bool(got)

    async def _bound_silence(self, connection: AsyncConnection) -> None:
        """Ask the server to end this session after ``ttl`` seconds without a request
        from us, so a holder that vanished silently frees the lock."""
        version = (await connection.execute(text("SHOW server_version_num"))).scalar_one()
        seconds = max(1, int(self.ttl))
        if int(version) >= 140000:
            await connection.execute(text(f"SET idle_session_timeout = '{seconds}s'"))
        # Keepalives too: they also notice a dead peer while a request is in flight.
        probe = max(1, seconds // 3)
        await connection.execute(text(f"SET tcp_keepalives_idle = {probe}"))
        await connection.execute(text(f"SET tcp_keepalives_interval = {probe}"))
        await connection.execute(text("SET tcp_keepalives_count = 3"))
        await connection.commit()

    async def still_held(self) -> "LockAnswer":
        """Whether our lock session still answers, within ``timeout``: OURS, or SILENT
        (no answer in time: the network may be cut), or NO_ANSWER (the session ended:
        a restart, a refused or broken connection). Either way the lock is gone."""
        if self._connection is None:
            return LockAnswer.NO_ANSWER
        try:
            await self._bounded(self._ping(self._connection), self.timeout)
            return LockAnswer.OURS
        except TimeoutError:
            self._forget()
            return LockAnswer.SILENT
        except Exception:
            await self._drop()
            return LockAnswer.NO_ANSWER

    @staticmethod
    async def _ping(connection: AsyncConnection) -> None:
        await connection.execute(text("SELECT 1"))
        await connection.commit()

    @staticmethod
    async def _bounded(work, seconds: float):
        """``work``'s result, or TimeoutError after ``seconds`` (not waiting for the
        cancelled work to unwind: see :func:`bot.core.tasks.bounded`)."""
        box: list = []

        async def run() -> None:
            box.append(await work)

        if not await bounded(run(), seconds):
            raise TimeoutError(f"no answer from the database within {seconds:g} s")
        return box[0]

    async def release(self) -> None:
        """Give the lock up (closing its connection frees it) and close the engine."""
        await self._drop()
        for connection in self._silent:
            try:
                await self._bounded(connection.close(), self.timeout)
            except Exception:  # still silent: abandoned; the server ends it
                pass
        self._silent.clear()
        await self._engine.dispose()

    def _forget(self) -> None:
        """Stop using a connection that went silent, without waiting to close it (the
        server's ``ttl`` ends its session); closed later by :meth:`_drop`'s bounded try
        if it ever answers."""
        connection, self._connection = self._connection, None
        if connection is not None:
            self._silent.append(connection)

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            # Closing says goodbye to the server, which a silent network never carries:
            # bounded, and then the connection is simply abandoned (the server's ttl
            # ends the session on its side).
            await self._bounded(connection.close(), self.timeout)
        except Exception:  # already broken, or silent past the timeout: closing was all
            pass           # we wanted
