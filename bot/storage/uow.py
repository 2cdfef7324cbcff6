"""The database handle and its unit of work: one transaction per event or job."""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.clock import Clock, SystemClock
from bot.storage.engine import SQLITE_BUSY_TIMEOUT_MS, create_engine, session_factory
from bot.storage.outbox_repository import OutboxRepository
from bot.storage.peek import Peeker
from bot.storage.promise_repository import PromiseRepository
from bot.storage.event_log import InboundEventLog
from bot.storage.repositories import PeopleRepository, TicketRepository, WorkspaceRepository

logger = logging.getLogger(__name__)


class WriteGate:
    """One writing unit of work at a time in this process, first come first served.

    SQLite has one writer. Left to its busy handler, writers waiting for the lock poll
    with growing sleeps and whoever polls at the right moment wins, so under load one
    busy loop (say, the sweeper) can starve another (the outbox). Queueing writers here
    first makes the order fair and the hand-over immediate. Other processes still meet
    at SQLite's own lock and its busy timeout.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock = asyncio.Lock()
        self._holder: asyncio.Task | None = None

    async def acquire(self) -> bool:
        """Wait for our turn to write (at most ``timeout`` seconds). Returns False, and
        waits for nothing, when this task already holds the gate: a unit of work opened
        inside another one is left to SQLite's own lock, as it was before the gate."""
        task = asyncio.current_task()
        if task is not None and task is self._holder:
            return False
        await asyncio.wait_for(self._lock.acquire(), self.timeout)
        self._holder = task
        return True

    def release(self) -> None:
        """Let the next writer in."""
        self._holder = None
        self._lock.release()


class Database:
    """Owns the engine; hands out units of work; tells listeners when outbox rows commit."""

    def __init__(self, engine: AsyncEngine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)
        self.read_sessions = session_factory(engine, read_only=True)
        self.clock = clock or SystemClock()
        self.peek = Peeker(engine)  # the tick's one cheap read (bot/storage/peek.py)
        self._outbox_listeners: list[Callable[[], None]] = []
        # Set by a running dispatcher (bot/outbox/handoff.py): fresh rows are written
        # claimed for it and handed over in memory after the commit.
        self.outbox_preclaim: Callable | None = None
        self.outbox_handoff: Callable[[list], None] | None = None
        self.write_gate = (WriteGate(SQLITE_BUSY_TIMEOUT_MS / 1000)
                           if engine.dialect.name == "sqlite" else None)

    @classmethod
    def from_url(cls, url: str, clock: Clock | None = None) -> "Database":
        """A database for a plain or async SQLAlchemy URL."""
        return cls(create_engine(url), clock)

    def on_outbox_commit(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after any transaction that added outbox rows commits."""
        self._outbox_listeners.append(listener)

    def unit_of_work(self) -> "UnitOfWork":
        """A new unit of work; use it as ``async with db.unit_of_work() as uow``."""
        return UnitOfWork(self)

    def reading(self) -> "UnitOfWork":
        """A unit of work that only reads: on SQLite it takes no write lock, so it
        never queues behind writers. Writing in it is a bug."""
        return UnitOfWork(self, read_only=True)

    def outbox_committed(self) -> None:
        """Wake whoever delivers the outbox."""
        for listener in self._outbox_listeners:
            listener()

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.peek.close()
        await self.engine.dispose()


class UnitOfWork:
    """One session and transaction, with the repositories that work inside it.

    Commits when the block ends normally and rolls back on an exception, so a handler's
    state change and the messages it queued are saved together or not at all.
    """

    session: AsyncSession

    def __init__(self, db: Database, *, read_only: bool = False) -> None:
        self.db = db
        self.clock = db.clock
        self.read_only = read_only

    async def __aenter__(self) -> "UnitOfWork":
        self.gate = None if self.read_only else self.db.write_gate
        if self.gate is not None and not await self.gate.acquire():
            self.gate = None  # nested in this task's own unit of work, which holds it
        try:
            self.session = (self.db.read_sessions if self.read_only else self.db.sessions)()
            await self.session.begin()
        except BaseException:
            self._release()
            raise
        self.workspaces = WorkspaceRepository(self.session)
        self.people = PeopleRepository(self.session)
        self.tickets = TicketRepository(self.session)
        self.events = InboundEventLog(self.session)
        self.promises = PromiseRepository(self.session)
        self.outbox = OutboxRepository(self.session,
                                       None if self.read_only else self.db.outbox_preclaim)
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                await self.session.commit()
            else:
                await self.session.rollback()
        finally:
            try:
                await self.session.close()
            finally:
                self._release()
        if exc_type is None and self.outbox.claimed and self.db.outbox_handoff is not None:
            self.db.outbox_handoff(self.outbox.claimed)
        if exc_type is None and self.outbox.added > len(self.outbox.claimed):
            self.db.outbox_committed()  # rows left pending: a claim will find them

    def _release(self) -> None:
        if self.gate is not None:
            self.gate.release()
            self.gate = None

    async def rollback(self) -> None:
        """Discard everything done so far in this unit of work and start afresh."""
        await self.session.rollback()
        self.outbox.added = 0
        self.outbox.claimed.clear()
        await self.session.begin()
