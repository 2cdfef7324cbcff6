"""The database handle and its unit of work: one transaction per event or job."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from datetime import datetime
from typing import AsyncIterator, Callable, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.core import OutboundMessage

from bot.clock import Clock, SystemClock
from bot.storage.engine import SQLITE_BUSY_TIMEOUT_MS, create_engine, session_factory
from bot.storage.outbox_repository import OutboxRepository, WrittenRow
from bot.storage.peek import Peeker
from bot.storage.promise_repository import PromiseRepository
from bot.storage.dashboard_links import DashboardLinks
from bot.storage.event_log import InboundEventLog
from bot.storage.incident_repository import ClusterRepository, IncidentRepository
from bot.storage.kb_repository import KnowledgeRepository
from bot.storage.kb_search import KbStatsCache
from bot.storage.people_repository import PeopleRepository
from bot.storage.ticket_repository import TicketRepository
from bot.storage.workspace_repository import WorkspaceRepository

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


class OutboxSink(Protocol):
    """Whoever delivers the outbox in this process, as a unit of work sees them (the
    dispatcher, bot/outbox/dispatcher.py). The composition root connects one with
    :meth:`Database.deliver_outbox_to`; without one, rows simply wait to be claimed."""

    def preclaim(self, platform: str, kind: str,
                 due_at: datetime | None) -> tuple[str, datetime] | None:
        """The claim (token, lease end) to write on a new row of ``kind`` so that it is
        handed over in memory after the commit, or None to leave it pending."""

    def accept(self, rows: list[tuple[WrittenRow, OutboundMessage]]) -> None:
        """Rows written pre-claimed have committed: send them."""

    def committed(self) -> None:
        """A commit left rows pending: claim them soon."""


class Database:
    """Owns the engine and hands out units of work."""

    def __init__(self, engine: AsyncEngine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)
        self.read_sessions = session_factory(engine, read_only=True)
        self.clock = clock or SystemClock()
        self.peek = Peeker(engine)  # the tick's one cheap read (bot/storage/peek.py)
        self.kb_stats = KbStatsCache()  # the knowledge base's term statistics
        # The optional sentence-embedding search (bot/storage/kb_vectors.py): set by the
        # composition root when HELPDESK_KB_EMBEDDINGS is on; None keeps the lexical one.
        self.kb_vectors = None
        self.outbox_sink: OutboxSink | None = None
        self.write_gate = (WriteGate(SQLITE_BUSY_TIMEOUT_MS / 1000)
                           if engine.dialect.name == "sqlite" else None)

    @classmethod
    def from_url(cls, url: str, clock: Clock | None = None) -> "Database":
        """A database for a plain or async SQLAlchemy URL."""
        return cls(create_engine(url), clock)

    def deliver_outbox_to(self, sink: OutboxSink) -> None:
        """Tell ``sink`` about every outbox row a unit of work commits."""
        self.outbox_sink = sink

    def unit_of_work(self) -> "UnitOfWork":
        """A new unit of work; use it as ``async with db.unit_of_work() as uow``."""
        return UnitOfWork(self)

    def reading(self) -> "UnitOfWork":
        """A unit of work that only reads: on SQLite it takes no write lock, so it
        never queues behind writers. Writing in it is a bug."""
        return UnitOfWork(self, read_only=True)

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
        self._after_commit: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once this unit of work has committed, and never if it rolls
        back (counting what happened: a rolled-back ticket was never opened)."""
        self._after_commit.append(callback)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A part of this unit of work that may fail on its own (a SAVEPOINT): when the
        block raises, its writes are undone, and so are the outbox rows it queued for the
        hand-over and the after-commit callbacks it added, while the rest of the unit of
        work goes on. The exception is re-raised."""
        claimed, added = len(self.outbox.claimed), self.outbox.added
        callbacks = len(self._after_commit)
        try:
            async with self.session.begin_nested():
                yield
        except BaseException:
            del self.outbox.claimed[claimed:]
            self.outbox.added = added
            del self._after_commit[callbacks:]
            raise

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
        self.kb = KnowledgeRepository(self.session, self.db.kb_stats, self.db.kb_vectors)
        self.incidents = IncidentRepository(self.session)
        self.clusters = ClusterRepository(self.session)
        self.dashboard_links = DashboardLinks(self.session)
        sink = None if self.read_only else self.db.outbox_sink
        self.outbox = OutboxRepository(self.session, sink.preclaim if sink else None)
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
        if exc_type is None:
            for callback in self._after_commit:
                try:
                    callback()
                except Exception:  # the work is committed; a tally must not undo that
                    logger.exception("an after-commit callback failed")
        sink = self.db.outbox_sink
        if exc_type is None and sink is not None:
            if self.outbox.claimed:
                sink.accept(self.outbox.claimed)
            if self.outbox.added > len(self.outbox.claimed):
                sink.committed()  # rows left pending: a claim will find them

    def _release(self) -> None:
        if self.gate is not None:
            self.gate.release()
            self.gate = None
