"""Engines, sessions and the SQLite settings that make it safe under concurrency.

SQLite is configured with WAL, a busy timeout and ``BEGIN IMMEDIATE`` on every
transaction: with the driver's default deferred transactions, concurrent
read-modify-write updates are silently lost or fail with "database is locked".
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.settings import to_async_url

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Page cache per SQLite connection, KiB (the pool keeps a few connections open).
SQLITE_CACHE_KIB = 32_768
READ_ONLY = "helpdesk_read_only"
# A connection that runs single statements outside any transaction (bot/storage/peek.py).
PEEK = "helpdesk_peek"


class DatabaseUrlError(ValueError):
    """The database URL cannot be used; the message never contains a password."""


def redact_url(url: str) -> str:
    """The URL with its password replaced, safe to print."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for ``url`` (plain URLs get their async driver)."""
    async_url = to_async_url(url)
    try:
        parsed = make_url(async_url)
    except ArgumentError:
        raise DatabaseUrlError(f"HELPDESK_DATABASE_URL is not a database URL: {redact_url(url)}") from None
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(async_url, parsed.database, echo)
    if parsed.get_backend_name() == "postgresql":
        # A migration run by another process changes table shapes under cached
        # prepared statements; a small cache keeps that failure rare and cheap.
        return create_async_engine(
            async_url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10,
            # Custom plans: a generic plan for the claim queries scans the whole table.
            connect_args={"prepared_statement_cache_size": 100,
                          "server_settings": {"plan_cache_mode": "force_custom_plan"}},
        )
    raise DatabaseUrlError(
        f"HELPDESK_DATABASE_URL uses {parsed.get_backend_name()!r}; "
        "the desk supports sqlite and postgresql."
    )


def _sqlite_engine(url: str, database: str | None, echo: bool) -> AsyncEngine:
    if not database or database == ":memory:":
        # One shared in-memory connection would let a rollback in one task discard
        # another task's work; the desk always wants a file.
        raise DatabaseUrlError("HELPDESK_DATABASE_URL must name a SQLite file, not :memory:.")
    parent = Path(database).expanduser().resolve().parent
    if not parent.is_dir():
        raise DatabaseUrlError(f"the folder for the SQLite database does not exist: {parent}")
    engine = create_async_engine(
        url, echo=echo, pool_size=8, max_overflow=8, pool_timeout=60,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Hand transaction control to the "begin" hook below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # SQLite's default page cache is 2 MiB; past ~20,000 open promises the ledger's
        # indexes outgrow it and every batch re-reads pages from the OS. Grown lazily.
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection) -> None:
        # Take the write lock up front: a deferred transaction that later upgrades
        # to a writer can fail with SQLITE_BUSY without waiting on busy_timeout.
        # Read-only units of work (see UnitOfWork.read_only) need no lock at all, and a
        # peek no transaction: the driver runs its one statement on its own.
        options = connection.get_execution_options()
        if options.get(PEEK):
            return
        if options.get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def session_factory(engine: AsyncEngine, *, read_only: bool = False
                    ) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (no lazy loads under asyncio);
    ``read_only`` sessions take no write lock on SQLite."""
    bind = engine.execution_options(**{READ_ONLY: True}) if read_only else engine
    return async_sessionmaker(bind, expire_on_commit=False, autoflush=False)
