"""Engines, sessions and the SQLite settings that make it safe under concurrency.

SQLite is configured with WAL, a busy timeout and ``BEGIN IMMEDIATE`` on every
transaction: with the driver's default deferred transactions, concurrent
read-modify-write updates are silently lost or fail with "database is locked".
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.settings import mask, to_async_url, url_secrets
from bot.storage import sqlite_driver

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Page cache per SQLite connection, KiB (the pool keeps a few connections open).
SQLITE_CACHE_KIB = 32_768
READ_ONLY = "helpdesk_read_only"
# A connection that runs single statements outside any transaction (bot/storage/peek.py).
PEEK = "helpdesk_peek"


class DatabaseUrlError(ValueError):
    """The database URL cannot be used; the message never contains a password."""


def _parse(url: str) -> URL | None:
    try:
        return make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return None


def redact_url(url: str) -> str:
    """The URL with its password and secret query values (``password=``, ``token=``,
    ``sslpassword=`` ...) replaced, safe to print."""
    parsed = _parse(url)
    if parsed is None:
        return "<unparseable database URL>"
    # mask hides the password and every secret query value, and any of the URL's
    # secrets quoted elsewhere in it.
    return mask(parsed.render_as_string(hide_password=False), url_secrets(url))


def sqlite_path(url: str) -> Path | None:
    """The file a SQLite URL names (``file:`` URIs included), or None for another
    database or no file."""
    parsed = _parse(to_async_url(url))
    if parsed is None or parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    database = parsed.database
    if parsed.query.get("uri") in ("true", "1") and database.startswith("file:"):
        database = database[len("file:"):]
    if database == ":memory:" or parsed.query.get("mode") == "memory":
        return None
    return Path(database).expanduser().resolve()


# What the SQLite driver itself takes from a URL's query; anything else is a SQLite URI
# parameter, which only counts with uri=true (SQLAlchemy otherwise ignores it, warning).
_SQLITE_DRIVER_ARGS = ("uri", "timeout", "isolation_level", "detect_types",
                       "check_same_thread", "cached_statements")
# URI parameters that make the file read-only.
_READ_ONLY_ARGS = ("mode", "immutable")


def _read_only_uri(url: str) -> bool:
    """Whether the URL asks for the file read-only, with or without uri=true: without
    it SQLite would open the file writable, but the person who wrote mode=ro meant it."""
    parsed = _parse(to_async_url(url))
    return (parsed is not None and parsed.get_backend_name() == "sqlite"
            and (parsed.query.get("mode") == "ro" or parsed.query.get("immutable") == "1"))


def _uses_uri(parsed: URL) -> bool:
    return parsed.query.get("uri") in ("true", "1")


def _who() -> str:
    return f"uid {os.geteuid()}" if hasattr(os, "geteuid") else "this user"


def _mode(path: Path) -> str:
    info = path.stat()
    return f"{stat.filemode(info.st_mode)}, owner uid {info.st_uid}"


def sqlite_permission_problem(url: str) -> str | None:
    """Why the desk could not write a SQLite database, read from the file system before
    anything is opened (None when nothing stands in the way, or not SQLite)."""
    path = sqlite_path(url)
    if path is None:
        return None
    if _read_only_uri(url):
        return (f"the SQLite database {path} is read-only by its URL (mode=ro or "
                "immutable=1); the desk writes to it: remove that from HELPDESK_DATABASE_URL")
    folder = path.parent
    if not folder.is_dir():
        return None  # create_engine names it
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return (f"the SQLite database {path} is read-only for {_who()} ({_mode(path)}); "
                "the desk writes to it: give this user read and write permission")
    if not os.access(folder, os.W_OK | os.X_OK):
        return (f"the folder {folder} is not writable for {_who()} ({_mode(folder)}); "
                "SQLite writes its journal (the -wal and -shm files) beside the database: "
                "give this user write permission on the folder")
    for suffix in ("-wal", "-shm"):
        journal = path.with_name(path.name + suffix)
        if journal.exists() and not os.access(journal, os.R_OK | os.W_OK):
            return (f"SQLite's journal {journal} is read-only for {_who()} "
                    f"({_mode(journal)}): give this user read and write permission")
    return None


# Words drivers use when a write is refused: SQLite, then PostgreSQL.
_REFUSED_WRITES = ("readonly database", "read-only database", "unable to open database file",
                   "read-only transaction", "permission denied", "insufficient privilege",
                   "must be owner")


def describe_database_error(error: BaseException, url: str) -> tuple[bool, str]:
    """(a configuration problem?, one line) for a database error, with no secret in it.

    The driver's own words are kept (they say what went wrong), but masked: asyncpg and
    SQLAlchemy may quote the URL, password and all."""
    where = redact_url(url)
    root = getattr(error, "orig", None) or error.__cause__ or error
    lines = str(root).strip().splitlines()
    reason = mask(lines[0] if lines else type(root).__name__, url_secrets(url))[:300]
    if isinstance(root, TypeError) and "unexpected keyword argument" in reason:
        # asyncpg refuses a query parameter of the URL it does not take.
        keyword = reason.rsplit(" ", 1)[-1]
        return True, (f"HELPDESK_DATABASE_URL has a parameter the database driver does not "
                      f"take: {keyword} (in {where})")
    if any(word in reason.lower() for word in _REFUSED_WRITES):
        problem = sqlite_permission_problem(url)
        if problem is not None:
            return False, problem
        return False, f"the database at {where} may not be written by the desk: {reason}"
    return False, f"cannot reach the database at {where}: {reason}"


async def write_problem(engine: AsyncEngine, url: str) -> str | None:
    """Whether the desk may write where it must, found by trying: a change made and
    rolled back (the ``alembic_version`` row when there is one, else a table created).
    On PostgreSQL also a read-only session and tables the user may not change. What
    the file system says of a SQLite file is :func:`sqlite_permission_problem`'s, asked
    before anything is opened."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
            if engine.dialect.name == "postgresql":
                if (await connection.exec_driver_sql("SHOW transaction_read_only")).scalar() == "on":
                    return (f"the database at {redact_url(url)} is read-only (a standby, or "
                            "default_transaction_read_only is on); the desk writes to it")
                denied = (await connection.execute(text(_PG_DENIED))).scalars().all()
                if denied:
                    return (f"the database user may not change these tables at "
                            f"{redact_url(url)}: {', '.join(sorted(denied))} (GRANT SELECT, "
                            "INSERT, UPDATE, DELETE on them)")
            if "alembic_version" in tables:
                await connection.execute(
                    text("UPDATE alembic_version SET version_num = version_num"))
            else:
                await connection.execute(text("CREATE TABLE helpdesk_write_check (x INTEGER)"))
        finally:
            await transaction.rollback()
    return None


# The desk's tables (those of the current schema) this user may not write.
_PG_DENIED = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind = 'r'
  AND NOT (has_table_privilege(c.oid, 'INSERT') AND has_table_privilege(c.oid, 'UPDATE')
           AND has_table_privilege(c.oid, 'DELETE') AND has_table_privilege(c.oid, 'SELECT'))
"""


def create_engine(url: str, *, echo: bool = False, pooled: bool = True) -> AsyncEngine:
    """An async engine for ``url`` (plain URLs get their async driver). ``pooled=False``
    (PostgreSQL): every connection is the caller's own, never lent again (a session-level
    advisory lock lives on one)."""
    async_url = to_async_url(url)
    parsed = _parse(async_url)
    if parsed is None:
        raise DatabaseUrlError(f"HELPDESK_DATABASE_URL is not a database URL: {redact_url(url)}")
    if "@" in (parsed.host or ""):
        # u:p@ss@host parses as password "p" on host "ss@host": connecting would fail with
        # "name not known" for a host nobody wrote, and a piece of the password in it.
        raise DatabaseUrlError(
            f"HELPDESK_DATABASE_URL has more than one @ before its host ({redact_url(url)}): "
            "write an @ in the user name or password as %40")
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        if path is not None and path.is_dir():
            raise DatabaseUrlError(f"HELPDESK_DATABASE_URL: {path} is a folder, not a SQLite "
                                   "database file")
        if not _uses_uri(parsed):
            ignored = sorted(set(parsed.query) - set(_SQLITE_DRIVER_ARGS))
            unknown = [key for key in ignored if key not in _READ_ONLY_ARGS]
            if unknown:
                raise DatabaseUrlError(
                    f"HELPDESK_DATABASE_URL: SQLite does not take {', '.join(unknown)} "
                    f"(in {redact_url(url)}); SQLite's own URI parameters need uri=true too")
            # mode=ro without uri=true is named by sqlite_permission_problem; the driver
            # is not handed words it would only warn about.
            parsed = parsed.difference_update_query(ignored)
            async_url = parsed.render_as_string(hide_password=False)
        return _sqlite_engine(async_url, path, parsed.database, echo)
    if parsed.get_backend_name() == "postgresql":
        connect_args: dict = {}
        if "sslmode" in parsed.query:
            # libpq's name, as hosted PostgreSQL URLs carry it; asyncpg calls it ssl and
            # takes the same words (disable ... verify-full), but refuses sslmode itself.
            connect_args["ssl"] = parsed.query["sslmode"]
            parsed = parsed.difference_update_query(["sslmode"])
        # A migration run by another process changes table shapes under cached
        # prepared statements; a small cache keeps that failure rare and cheap.
        # Custom plans: a generic plan for the claim queries scans the whole table.
        connect_args = {"prepared_statement_cache_size": 100,
                        "server_settings": {"plan_cache_mode": "force_custom_plan"},
                        **connect_args}
        if not pooled:
            return create_async_engine(parsed, echo=echo, poolclass=NullPool,
                                       connect_args=connect_args)
        return create_async_engine(
            parsed, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10,
            connect_args=connect_args,
        )
    raise DatabaseUrlError(
        f"HELPDESK_DATABASE_URL uses {parsed.get_backend_name()!r}; "
        "the desk supports sqlite and postgresql."
    )


def _sqlite_engine(url: str, path: Path | None, database: str | None,
                   echo: bool) -> AsyncEngine:
    """``path`` is the file ``url`` names (:func:`sqlite_path`), ``database`` the URL's
    own word for it (all there is for a ``mode=memory`` URI, which names no file)."""
    if path is None and (not database or database == ":memory:"):
        # One shared in-memory connection would let a rollback in one task discard
        # another task's work; the desk always wants a file.
        raise DatabaseUrlError("HELPDESK_DATABASE_URL must name a SQLite file, not :memory:.")
    parent = (path or Path(database).expanduser().resolve()).parent
    if not parent.is_dir():
        raise DatabaseUrlError(f"the folder for the SQLite database does not exist: {parent}")
    # sqlite3.connect's arguments as the dialect reads them off the URL (a file, or a
    # URI with its options), given to connections that make one trip per statement.
    connect_with: dict[str, Any] = {}
    engine = create_async_engine(
        url, echo=echo, pool_size=8, max_overflow=8, pool_timeout=60,
        async_creator=lambda: sqlite_driver.connector(**connect_with)(),
    )
    args, kwargs = engine.sync_engine.dialect.create_connect_args(engine.sync_engine.url)
    connect_with.update(args=args, kwargs={**kwargs, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Hand transaction control to the "begin" hook below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # A new database (no tables yet) is made with incremental vacuum, so retention's
        # daily vacuum can give pruned pages back (retention.py says what an existing
        # file needs). Only then: on a file with tables the pragma changes nothing, and
        # would wait for the write lock of whoever is writing.
        cursor.execute("SELECT 1 FROM sqlite_master LIMIT 1")
        if cursor.fetchone() is None:
            cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
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


# SQLSTATE classes and codes that mean "the server went away": connection exceptions
# (08xxx), and an administrator's or a crash's shutdown, or a server still starting
# (57P01-57P03), which is what a restart looks like from a pooled connection.
_GONE_STATES = ("08", "57P01", "57P02", "57P03")


# Pauses before a unit of work is tried again after its database connection was lost
# (an event, a batch of covers): about 15 s in all, longer than a PostgreSQL restart.
RECONNECT_PAUSES = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0)


class DatabaseUnavailable(Exception):
    """The database could not be reached for longer than a unit of work is retried:
    the work was not done, and whoever holds the event should keep it for later."""


def lost_connection(error: BaseException) -> bool:
    """Whether ``error`` means the connection to the database was lost or refused (a
    PostgreSQL restart, a network cut), so the same work on a fresh connection may
    succeed: not a bug, not bad data, not a conflict. SQLite never loses one."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "connection_invalidated", False):
            return True
        state = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(state, str) and state.startswith(_GONE_STATES):
            return True
        if isinstance(current, (ConnectionRefusedError, ConnectionResetError,
                                ConnectionAbortedError, BrokenPipeError)):
            return True
        name = type(current).__name__
        if name in ("ConnectionDoesNotExistError", "InterfaceError") and \
                "closed" in str(current).lower():
            return True
        if "connection was closed in the middle of operation" in str(current):
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False

