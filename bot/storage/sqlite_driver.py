"""SQLite under asyncio in one trip per statement.

aiosqlite runs every call on the connection's own thread and wakes the event loop when
it is done. SQLAlchemy's adapter makes four such calls per statement (open a cursor,
execute, fetch the rows, close the cursor), and each trip costs a queue hand-off, a
future and an event-loop wake-up: on the desk's short statements that is more than the
statement itself (about a third of the CPU of a new ticket). :class:`OneTripConnection`
is aiosqlite's connection with a cursor that does all four in one call on that thread;
rows, ``description``, ``rowcount`` and ``lastrowid`` come back together. SQLAlchemy
takes it through ``create_async_engine(async_creator=...)`` (:func:`connector`).

Everything else (transactions, ``commit``, ``rollback``, ``close``, the thread's life)
is aiosqlite's own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

import aiosqlite

_ITER_CHUNK_SIZE = 64  # aiosqlite's default; only its own cursor's iteration reads it


class OneTripCursor:
    """The part of aiosqlite's cursor API that SQLAlchemy uses, one thread trip for
    each ``execute``/``executemany``; fetching reads rows already fetched."""

    arraysize = 1

    def __init__(self, connection: "OneTripConnection") -> None:
        self._connection = connection
        self._rows: list[Any] = []
        self.description: Sequence | None = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> "OneTripCursor":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._rows = []

    def __await__(self):  # ``await connection.cursor()``, as with aiosqlite
        async def itself() -> "OneTripCursor":
            return self
        return itself().__await__()

    async def execute(self, sql: str, parameters: Any = None) -> "OneTripCursor":
        """Run ``sql`` and fetch what it returns, in one call on the thread."""
        self._take(await self._connection.run_on_thread(
            _execute, self._connection.sqlite, sql, parameters, False))
        return self

    async def executemany(self, sql: str, parameters: Any) -> "OneTripCursor":
        """Run ``sql`` once per set of ``parameters``, in one call on the thread."""
        self._take(await self._connection.run_on_thread(
            _execute, self._connection.sqlite, sql, parameters, True))
        return self

    def _take(self, outcome: tuple) -> None:
        self.description, self._rows, self.rowcount, self.lastrowid = outcome

    async def fetchall(self) -> list[Any]:
        """The rows not yet fetched."""
        rows, self._rows = self._rows, []
        return rows

    async def fetchone(self) -> Any:
        """The next row, or None."""
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        """Up to ``size`` (default ``arraysize``) of the next rows."""
        count = self.arraysize if size is None else size
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    async def close(self) -> None:
        """Nothing is held open between calls; forget any unread rows."""
        self._rows = []

    async def setinputsizes(self, *sizes: Any) -> None:
        """DB-API no-op, as in sqlite3."""

    async def nextset(self) -> None:
        """SQLite gives one result set per statement."""
        return None


def _execute(connection: sqlite3.Connection, sql: str, parameters: Any,
             many: bool) -> tuple:
    """On the connection's thread: the whole statement, from cursor to close."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        elif parameters is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripConnection(aiosqlite.Connection):
    """aiosqlite's connection whose cursors make one thread trip per statement."""

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        """A cursor that needs no trip to the thread to exist."""
        return OneTripCursor(self)

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The sqlite3 connection (only ever touched on this connection's thread)."""
        return self._conn

    async def run_on_thread(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` on the connection's thread."""
        return await self._execute(function, *args)


def connector(args: Sequence[Any], kwargs: dict[str, Any]
              ) -> Callable[[], Awaitable[OneTripConnection]]:
    """An ``async_creator`` for SQLAlchemy: connections to what ``sqlite3.connect(*args,
    **kwargs)`` opens (the arguments SQLAlchemy's dialect makes of the URL)."""
    async def connect() -> OneTripConnection:
        connection = OneTripConnection(partial(sqlite3.connect, *args, **kwargs),
                                       _ITER_CHUNK_SIZE)
        # As SQLAlchemy does for aiosqlite: a forgotten connection never keeps the
        # process from exiting.
        connection._thread.daemon = True
        return await connection
    return connect
