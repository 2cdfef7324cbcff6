"""Alembic migrations: empty -> head -> base on both databases, and models in step."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from bot.storage import migrate
from bot.storage.engine import create_engine
from bot.storage.tables import Base

TABLES = {"workspaces", "people", "channel_configs", "tickets", "ticket_events", "promises",
          "outbox", "processed_events"}


async def _tables(engine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def _empty(engine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.drop_all)
        await connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


async def test_upgrade_to_head_and_downgrade_to_base(db_url):
    engine = create_engine(db_url)
    try:
        await _empty(engine)
        assert await migrate.current_revision(engine) is None
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == migrate.head_revision()
        assert TABLES <= await _tables(engine)
        await migrate.upgrade(engine)  # idempotent at head
        await migrate.downgrade(engine, "base")
        assert await migrate.current_revision(engine) is None
        assert not TABLES & await _tables(engine)
    finally:
        await engine.dispose()


async def test_migrations_match_the_models(db_url):
    engine = create_engine(db_url)
    try:
        await _empty(engine)
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c, opts={
                    "include_object": migrate.objects_for(c.dialect.name)}), Base.metadata))
        assert differences == [], "models changed without a migration: run alembic revision"
    finally:
        await _empty(engine)
        await engine.dispose()


@pytest.mark.postgres
async def test_instances_started_at_once_migrate_one_at_a_time(postgres_url):
    # Compose replicas or a Deployment start together, each migrating at start: without
    # a lock two created the same table, and one exited on PostgreSQL's catalog
    # ("duplicate key value violates unique constraint pg_type_typname_nsp_index").
    import asyncio
    from tests.support.databases import own_database
    async with own_database(postgres_url, "migrate_race") as url:
        engines = [create_engine(url.render_as_string(hide_password=False)) for _ in range(3)]
        try:
            await asyncio.gather(*(migrate.upgrade(engine) for engine in engines))
            for engine in engines:
                assert await migrate.current_revision(engine) == migrate.head_revision()
        finally:
            for engine in engines:
                await engine.dispose()
