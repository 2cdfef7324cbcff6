"""SQLite settings: writers serialise, readers never wait behind them."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from bot.storage.engine import DatabaseUrlError, create_engine, redact_url
from bot.storage.tables import Base
from bot.storage.uow import Database

INSERT = text("insert into processed_events(platform, event_id, received_at) "
              "values ('test', :id, '2026-01-01 00:00:00.000000')")


async def _database(sqlite_url) -> Database:
    db = Database.from_url(sqlite_url)
    async with db.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    return db


async def test_a_reader_does_not_wait_for_a_writer(sqlite_url):
    db = await _database(sqlite_url)
    try:
        async with db.unit_of_work() as writer:
            await writer.session.execute(INSERT, {"id": "a"})
            async with db.reading() as reader:  # would wait 30 s with BEGIN IMMEDIATE
                count = await asyncio.wait_for(reader.session.execute(
                    text("select count(*) from processed_events")), timeout=5)
                assert count.scalar() == 0  # it sees the last commit, not the writer's work
    finally:
        await db.dispose()


async def test_a_second_writer_waits_its_turn_instead_of_failing(sqlite_url):
    db = await _database(sqlite_url)
    try:
        async def write(event_id: str) -> None:
            async with db.unit_of_work() as uow:
                await uow.session.execute(INSERT, {"id": event_id})
                await asyncio.sleep(0.05)  # hold the lock while the other one asks for it
        await asyncio.gather(*(write(f"e{i}") for i in range(5)))
        async with db.reading() as reader:
            assert (await reader.session.execute(
                text("select count(*) from processed_events"))).scalar() == 5
    finally:
        await db.dispose()


@pytest.mark.parametrize("url", ["sqlite:///:memory:", "sqlite://", "mysql://u:p@h/db"])
def test_unsupported_database_urls_are_refused_clearly(url):
    with pytest.raises(DatabaseUrlError):
        create_engine(url)


def test_passwords_never_appear_in_a_printed_url():
    assert "hunter2" not in redact_url("postgresql://me:hunter2@db.example/desk")
