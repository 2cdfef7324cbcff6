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
thread instead of three. Rows whose ids are already set need no RETURNING, and the ORM
writes them with one ``executemany`` per table.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement


def claimable(dialect: str, model: type, *conditions, order_by, limit: int) -> ColumnElement:
    """``model.id IN (the first `limit` rows meeting `conditions`, by `order_by`)``,
    skipping rows another PostgreSQL transaction holds."""
    pick = select(model.id).where(*conditions).order_by(*order_by).limit(limit)
    if dialect == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    return model.id.in_(pick.scalar_subquery())


async def number_new_rows(session: AsyncSession, *models: type) -> None:
    """On SQLite, give the session's new rows of ``models`` their ids before a flush.

    Safe only inside a write transaction: on SQLite ours begins with ``BEGIN
    IMMEDIATE`` (bot/storage/db.py), which holds the database's one write lock, so no
    other connection can take an id between our ``max(id)`` and our INSERT. On other
    databases this does nothing; they batch with RETURNING already.
    """
    if session.bind is None or session.bind.dialect.name != "sqlite":
        return
    for model in models:
        rows = [row for row in session.new if type(row) is model and row.id is None]
        if not rows:
            continue
        highest = (await session.execute(select(func.max(model.id)))).scalar() or 0
        for offset, row in enumerate(rows, start=1):
            row.id = highest + offset
