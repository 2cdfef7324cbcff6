"""The SQLite connection the desk uses: one trip to the connection's thread per
statement, with everything SQLAlchemy reads of a cursor still right."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError

from bot.storage.engine import create_engine, session_factory
from bot.storage.sqlite_driver import OneTripConnection
from bot.storage.tables import Base, WorkspaceRow


@pytest.fixture
async def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'desk.sqlite3'}")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


def _workspace(external_id: str) -> dict:
    from datetime import datetime, timezone
    return dict(platform="test", external_id=external_id, name=external_id,
                settings_json="{}", next_ticket_number=1,
                created_at=datetime(2026, 12, 5, tzinfo=timezone.utc))


async def test_a_statement_is_one_trip_to_the_thread(engine, monkeypatch):
    trips = []
    original = OneTripConnection._execute

    async def counted(self, fn, *args, **kwargs):
        trips.append(fn)
        return await original(self, fn, *args, **kwargs)

    async with session_factory(engine)() as session:
        await session.execute(text("SELECT 1"))  # the connection and its BEGIN
        monkeypatch.setattr(OneTripConnection, "_execute", counted)
        rows = (await session.execute(select(text("1 UNION ALL SELECT 2")))).all()
        assert [tuple(r) for r in rows] == [(1,), (2,)]
        assert len(trips) == 1  # aiosqlite's own cursor takes four: open, run, fetch, close


async def test_rows_counts_and_new_ids_are_what_sqlite_says(engine):
    async with session_factory(engine)() as session:
        first = await session.execute(insert(WorkspaceRow).values(**_workspace("a")))
        assert first.inserted_primary_key[0] == 1  # lastrowid
        await session.execute(insert(WorkspaceRow), [_workspace("b"), _workspace("c")])
        changed = await session.execute(
            update(WorkspaceRow).where(WorkspaceRow.external_id != "a").values(name="x"))
        assert changed.rowcount == 2
        names = (await session.execute(
            select(WorkspaceRow.external_id, WorkspaceRow.name).order_by(WorkspaceRow.id))).all()
        assert [tuple(r) for r in names] == [("a", "a"), ("b", "x"), ("c", "x")]
        await session.commit()


async def test_an_error_is_sqlites_as_sqlalchemy_wraps_it_and_the_session_goes_on(engine):
    async with session_factory(engine)() as session:
        await session.execute(insert(WorkspaceRow).values(**_workspace("a")))
        with pytest.raises(IntegrityError):
            await session.execute(insert(WorkspaceRow).values(**_workspace("a")))
        await session.rollback()
        assert (await session.execute(select(text("count(*) FROM workspaces")))).scalar() == 0
