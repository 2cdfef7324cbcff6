"""Statements over many rows at once: claiming a batch, writing many new rows.

Claiming: the ledger and the outbox both take a batch of due rows with one
``UPDATE ... WHERE id IN (SELECT ... LIMIT n [FOR UPDATE SKIP LOCKED])``;
:func:`claimable` builds that ``IN``. On PostgreSQL ``SKIP LOCKED`` lets several
processes claim at once without waiting on each other; on SQLite the write transaction
(``BEGIN IMMEDIATE``) already makes the select-and-update atomic.

Writing: SQLAlchemy's ORM writes new rows with ``INSERT ... RETURNING`` so it learns their ids.
PostgreSQL gets those batched into multi-row INSERTs. SQLite cannot promise the order of
RETURNING rows for a multi-row INSERT, so SQLAlchemy sends those rows one statement at a
time: for a set of 200 lapsed promises that is 600 round trips through the driver's
thread instead of three. :func:`write_new_rows` takes the ids first and writes the rows
with one plain ``executemany`` per table, skipping the ORM's per-object bookkeeping.
"""

from __future__ import annotations

from sqlalchemy import func, insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement


def claimable(dialect: str, model: type, *conditions, order_by, limit: int) -> ColumnElement:
    """``model.id IN (the first `limit` rows meeting `conditions`, by `order_by`)``,
    skipping rows another PostgreSQL transaction holds."""
    pick = select(model.id).where(*conditions).order_by(*order_by).limit(limit)
    if dialect == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    return model.id.in_(pick.scalar_subquery())


async def write_new_rows(session: AsyncSession, *models: type) -> int:
    """Write the session's new rows of ``models`` with plain multi-row INSERTs, and take
    them out of the session; returns how many were written.

    For hundreds of rows the ORM's flush costs more than building them: it tracks each
    object's history, sorts the work and refreshes every row after its INSERT. Rows that
    nothing else in the transaction changes need none of that. Their ids are taken first
    (see :func:`_take_ids`), so each row's ``id`` is set when this returns and the rows
    can still be read, detached from the session.
    """
    rows = [row for row in session.new if type(row) in models]
    for row in rows:
        session.expunge(row)
    return await write_rows(session, rows)


async def write_rows(session: AsyncSession, rows: list) -> int:
    """Write ORM rows that are in no session (built elsewhere, or taken out of one) in
    this session's transaction: ids first, then one ``executemany`` per table and shape,
    in the order given within each table. Returns how many were written."""
    by_model: dict[type, list] = {}
    for row in rows:
        by_model.setdefault(type(row), []).append(row)
    for model, of_model in by_model.items():
        await _take_ids(session, model, [row for row in of_model if row.id is None])
        attributes = [(prop.key, prop.columns[0].key)
                      for prop in inspect(model).column_attrs]
        by_shape: dict[tuple[str, ...], list[dict]] = {}
        for row in of_model:
            state = row.__dict__
            values = {column: state[key] for key, column in attributes if key in state}
            by_shape.setdefault(tuple(values), []).append(values)
        for values in by_shape.values():
            await session.execute(insert(model.__table__), values)
    return len(rows)


async def _take_ids(session: AsyncSession, model: type, rows: list) -> None:
    """Give ``rows`` their ids before they are inserted.

    SQLite: ``max(id)`` plus one, two, ...: safe only inside a write transaction, and ours
    begins with ``BEGIN IMMEDIATE`` (bot/storage/db.py), which holds the database's one
    write lock, so no other connection can take an id between our read and our INSERT.
    PostgreSQL: as many values from the table's own sequence, in one statement, so other
    processes writing at the same time never collide.
    """
    if not rows:
        return
    table = model.__table__
    if session.bind.dialect.name == "sqlite":
        highest = (await session.execute(select(func.max(table.c.id)))).scalar() or 0
        ids = range(highest + 1, highest + 1 + len(rows))
    else:
        sequence = func.pg_get_serial_sequence(table.name, "id")
        ids = (await session.execute(select(func.nextval(sequence)).select_from(
            func.generate_series(1, len(rows))))).scalars().all()
    for row, new_id in zip(rows, ids):
        row.id = new_id
