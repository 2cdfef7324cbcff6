"""Single reads outside any transaction, on a connection kept for them.

The scheduler's tick asks the database one question a second, "is anything due?"
(bot/storage/due.py), and nearly always the answer is no. Asked through a unit of
work, that one statement came with a pool checkout and its liveness ping, a session,
``BEGIN`` and ``COMMIT``: four round trips, and three quarters of the tick. A peek runs
the statement alone on a connection it keeps: in autocommit on PostgreSQL, and on
SQLite without the ``BEGIN`` every other transaction starts with (one statement is its
own consistent snapshot). Nothing is held open between peeks, so no old snapshot is
seen and no checkpoint is held back.

The kept connection replaces the pool's ping: when the server has dropped it (a
restart, an idle timeout), the peek is tried once more on a fresh connection, and any
other failure drops it so that the next peek starts clean.
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import Executable, Row
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage.engine import PEEK


class Peeker:
    """Runs one read-only statement at a time on a connection of its own."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._connection: AsyncConnection | None = None
        self._one_at_a_time = asyncio.Lock()

    async def one(self, statement: Executable) -> Row:
        """The single row ``statement`` returns. Never use it for a write: there is no
        transaction to roll back."""
        async with self._one_at_a_time:
            try:
                return await self._run(statement)
            except DBAPIError as error:
                if not error.connection_invalidated:
                    raise
            # The server had dropped the kept connection: once more, on a fresh one.
            return await self._run(statement)

    async def _run(self, statement: Executable) -> Row:
        connection = self._connection or await self._open()
        try:
            row = (await connection.execute(statement)).one()
            # Ends what SQLAlchemy counts as a transaction; there is none on the server,
            # so this sends nothing to PostgreSQL.
            await connection.rollback()
            return row
        except BaseException:  # a failure, or cancelled mid-statement: state unknown
            await self._drop()
            raise

    async def close(self) -> None:
        """Give the kept connection back (before the engine is disposed)."""
        async with self._one_at_a_time:
            connection, self._connection = self._connection, None
            if connection is not None:
                await connection.close()

    async def _open(self) -> AsyncConnection:
        connection = await self.engine.connect()
        options = {PEEK: True}
        if self.engine.dialect.name == "postgresql":
            options["isolation_level"] = "AUTOCOMMIT"
        self._connection = await connection.execution_options(**options)
        return self._connection

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(Exception):
            await connection.invalidate()
        with contextlib.suppress(Exception):
            await connection.close()
