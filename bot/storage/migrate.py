"""Bring a database to the latest schema (or any revision) with Alembic, from code."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.tables import KB_INDEX_OBJECTS

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
# The advisory lock migrations take on PostgreSQL (the same in every instance).
MIGRATION_LOCK_KEY = 0x4844_6D69_6772  # "HDmigr"


def objects_for(dialect: str):
    """Alembic's ``include_object`` for ``dialect``: leaves out schema objects the models
    create only on another database (``Index(...).ddl_if(dialect=...)``), so comparing
    models with a migrated SQLite database does not ask for a PostgreSQL-only index."""
    def include(obj, name, type_, reflected, compare_to) -> bool:
        # The articles' full-text index is raw DDL (FTS5 and its shadow tables, an
        # expression GIN index), which Alembic cannot compare.
        if name and name.startswith(KB_INDEX_OBJECTS):
            return False
        condition = getattr(obj, "_ddl_if", None)
        return condition is None or condition.dialect in (None, dialect)
    return include


def alembic_config() -> Config:
    """Alembic's configuration, pointing at the migrations shipped with the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest revision the code knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def schema_revisions(current: str | None) -> tuple[str, bool]:
    """The newest revision the code knows, and whether it knows ``current`` (a database
    at one it does not was migrated by a newer version). Read from one load of the
    scripts, and walked only when ``current`` is neither empty nor the newest."""
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    if current is None or current == head:
        return head, True
    return head, current in {known.revision for known in script.walk_revisions()}


def downgrade_problem(revision: str | None, *, yes: bool, current: str | None) -> str | None:
    """Why a downgrade to ``revision`` must not run as asked, or None. A downgrade names
    where it goes (there is no sensible default), and one to ``base``, which drops every
    table and all the desk's data, is done only with ``yes``. ``current`` is the
    database's revision, to tell where a relative target (``-2``) lands."""
    script = ScriptDirectory.from_config(alembic_config())
    if not revision:
        below = script.get_revision(script.get_current_head()).down_revision
        return ("--downgrade needs --revision: the revision to go down to, for example "
                f"--revision {below or 'base'} (one step below the latest) or --revision base "
                "(empties the database; add --yes)")
    if not yes and _lands_on_base(script, revision, current):
        return (f"downgrading to {revision} drops every table and all the desk's data; "
                "run it again with --yes if that is what you want")
    return None


def _lands_on_base(script: ScriptDirectory, revision: str, current: str | None) -> bool:
    if revision == "base":
        return True
    steps = revision[1:]
    if not (revision.startswith("-") and steps.isdigit()):
        return False
    at = current
    for _ in range(int(steps)):
        if at is None:
            return True
        at = script.get_revision(at).down_revision
    return at is None


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade the database behind ``engine`` to ``revision``."""
    await _run(engine, lambda cfg: command.upgrade(cfg, revision))


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    """Downgrade the database behind ``engine`` to ``revision``."""
    await _run(engine, lambda cfg: command.downgrade(cfg, revision))


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision())


async def _run(engine: AsyncEngine, action) -> None:
    def in_sync(connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        action(config)

    async with engine.connect() as connection:
        # SQLite's batch mode rebuilds a table by dropping it; with foreign keys on, the
        # drop would first delete every row that cascades from it (a ticket's promises
        # and timeline). Off for the migration, outside its transaction, where the
        # pragma takes effect; the connection is dropped rather than pooled without them.
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            await connection.run_sync(_sqlite_foreign_keys, False)
        try:
            if engine.dialect.name == "postgresql":
                # Several instances started at once each migrate at start: one at a
                # time (the others wait here, then find nothing left to do), instead of
                # two creating the same table and one failing on PostgreSQL's catalog.
                # Held until this transaction, the migration's own, ends.
                await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                         {"key": MIGRATION_LOCK_KEY})
            await connection.run_sync(in_sync)
            await connection.commit()
        except BaseException:
            if sqlite:
                await connection.invalidate()
            raise
        if sqlite:
            await connection.run_sync(_sqlite_foreign_keys, True)


def _sqlite_foreign_keys(connection, on: bool) -> None:
    """Turn SQLite's foreign keys on or off for ``connection`` (outside a transaction)."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    finally:
        cursor.close()
