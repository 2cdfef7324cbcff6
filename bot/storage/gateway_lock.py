"""A PostgreSQL advisory lock that says which instance holds a platform's one gateway
connection (Discord allows one per bot token and shard).

The lock belongs to a database session, so it is held on a connection of its own,
outside the pool (a pooled connection goes back and the lock with it). When the
holder's process dies its connection closes and PostgreSQL frees the lock at once:
that is the failover signal the instances standing by poll for.
"""

from __future__ import annotations

import logging
import zlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

logger = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable 63-bit advisory lock key for ``name`` (the same in every instance)."""
    return zlib.crc32(f"helpdesk-bot:{name}".encode()) | (0x4844 << 32)


class GatewayLock:
    """``pg_try_advisory_lock`` on a connection of its own, for the gateway ``name``."""

    def __init__(self, engine: AsyncEngine, name: str) -> None:
        # A second engine on the same URL, without a pool: its one connection is ours.
        self._engine = create_async_engine(engine.url, poolclass=NullPool)
        self.key = lock_key(name)
        self.name = name
        self._connection: AsyncConnection | None = None

    async def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True when this instance now holds it."""
        try:
            if self._connection is None:
                self._connection = await self._engine.connect()
            got = (await self._connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})).scalar_one()
            await self._connection.commit()  # end the transaction; the lock stays
        except Exception as error:  # the database is away: not ours, try again later
            logger.warning("could not ask for the %s gateway lock: %s", self.name,
                           type(error).__name__)
            await self._drop()
            return False
        return bool(got)

    async def still_held(self) -> bool:
        """Whether our lock connection is alive (a restart or a cut frees the lock)."""
        if self._connection is None:
            return False
        try:
            await self._connection.execute(text("SELECT 1"))
            await self._connection.commit()
            return True
        except Exception:
            await self._drop()
            return False

    async def release(self) -> None:
        """Give the lock up (closing its connection frees it) and close the engine."""
        await self._drop()
        await self._engine.dispose()

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.close()
            except Exception:  # already broken: closing it is all we wanted
                pass
