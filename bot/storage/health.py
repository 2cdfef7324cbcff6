"""What the web server asks the database: does it answer (``/readyz``), and the numbers
every instance shares (``/metrics``: the outbox's backlog, open promises by kind).

Both are reads. The shared numbers come from the tables rather than from any one
process's memory, so whichever instance Prometheus scrapes reports the same values.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import datetime

from sqlalchemy import func, select, text

from bot.domain.promises import PromiseStatus
from bot.metrics import SharedNumbers
from bot.settings import mask, url_secrets
from bot.storage.engine import sqlite_path
from bot.storage.tables import InboxRow, OutboxRow, PromiseRow
from bot.storage.uow import Database

logger = logging.getLogger(__name__)

# Rows not yet sent: waiting, or held by a dispatcher under a lease.
_UNSENT = ("pending", "sending")
_OPEN = (PromiseStatus.PENDING.value, PromiseStatus.SENDING.value, PromiseStatus.PAUSED.value)


async def shared_numbers(db: Database) -> SharedNumbers:
    """Count unsent outbox rows, the age of the oldest due one, and open promises by
    kind: three aggregate reads in one read-only unit of work.

    The age runs from when a row was *first* due: a row held back by 429s, retries or
    pacing has its ``due_at`` pushed forward each time, so measuring from ``due_at``
    would keep a stuck message looking fresh and the backlog alert silent."""
    now = db.clock.now()
    async with db.reading() as uow:
        pending = (await uow.session.execute(
            select(func.count()).select_from(OutboxRow)
            .where(OutboxRow.status.in_(_UNSENT)))).scalar_one()
        first_due = func.coalesce(OutboxRow.first_due_at, OutboxRow.due_at)
        oldest: datetime | None = (await uow.session.execute(
            select(func.min(first_due))
            .where(OutboxRow.status.in_(_UNSENT), first_due <= now))).scalar_one()
        by_kind = dict((await uow.session.execute(
            select(PromiseRow.kind, func.count()).where(PromiseRow.status.in_(_OPEN))
            .group_by(PromiseRow.kind))).all())
        waiting, received = (await uow.session.execute(
            select(func.count(), func.min(InboxRow.received_at)))).one()
    age = (now - oldest).total_seconds() if oldest is not None else 0.0
    inbox_age = (now - received).total_seconds() if received is not None else 0.0
    return SharedNumbers(int(pending), max(0.0, age), {k: int(v) for k, v in by_kind.items()},
                         int(waiting), max(0.0, inbox_age))


class DatabaseProbe:
    """Whether the desk's database answers: ``SELECT 1`` within ``timeout`` seconds and,
    for a SQLite file, that the file the desk opened is still the one at its path (a
    file deleted or replaced under a running desk keeps answering from the old one,
    and everything written after that is lost at the next start)."""

    def __init__(self, db: Database, url: str, timeout: float = 2.0) -> None:
        self.db = db
        self.url = url
        self.timeout = timeout
        self.path = sqlite_path(url) if db.engine.dialect.name == "sqlite" else None
        self._identity: tuple[int, int] | None = None
        self._reported = False  # the current file problem has been logged

    def remember(self) -> None:
        """Note which file the SQLite database is (call once it exists, after migrating)."""
        if self.path is not None:
            try:
                stat = os.stat(self.path)
            except OSError:
                return
            self._identity = (stat.st_dev, stat.st_ino)

    async def problem(self) -> str | None:
        """None when the database answers; otherwise what is wrong, in one line with no
        secret (the driver's words, masked)."""
        try:
            await asyncio.wait_for(self._select_one(), self.timeout)
        except asyncio.TimeoutError:
            return f"the database did not answer within {self.timeout:g} s"
        except Exception as error:
            return "the database did not answer: " + self._reason(error)
        return self.file_problem()

    def file_problem(self) -> str | None:
        """What is wrong with the SQLite file the desk opened (gone, unreadable, replaced),
        or None; a stat, no query. The first time a problem is found it is logged as an
        ERROR with the path: the desk keeps answering from the old file meanwhile, and
        everything it writes now is lost at the next start."""
        problem = self._file_problem()
        if problem is not None and not self._reported:
            self._reported = True
            logger.error("%s: tickets and messages written from now on will be lost at the "
                         "next start; restore the file and restart the desk", problem)
        elif problem is None:
            self._reported = False
        return problem

    async def _select_one(self) -> None:
        async with self.db.reading() as uow:
            await uow.session.execute(text("SELECT 1"))

    def _file_problem(self) -> str | None:
        if self.path is None or self._identity is None:
            return None
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return f"the SQLite database file {self.path} is gone"
        except OSError as error:
            return f"the SQLite database file {self.path} cannot be read: {error.strerror}"
        if (stat.st_dev, stat.st_ino) != self._identity:
            return f"the SQLite database file {self.path} was replaced by another file"
        return None

    def _reason(self, error: BaseException) -> str:
        root = getattr(error, "orig", None) or error.__cause__ or error
        lines = str(root).strip().splitlines()
        return mask(lines[0] if lines else type(root).__name__, url_secrets(self.url))[:200]
