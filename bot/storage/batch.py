"""Statements over many rows at once: claiming a batch, inserting many new rows.

Claiming: the ledger and the outbox both take a batch of due rows with one
``UPDATE ... WHERE id IN (SELECT ... LIMIT n [FOR UPDATE SKIP LOCKED])``;
:func:`claimable` builds that ``IN``. On PostgreSQL ``SKIP LOCKED`` lets several
processes claim at once without waiting on each other; on SQLite the write transaction
(``BEGIN IMMEDIATE``) already makes the select-and-update atomic.

Inserting: :func:`insert_many` is how every repository writes new rows, one or ten
thousand. For many rows it takes their ids first (so the caller can link rows to each
other and hand them to the dispatcher), then writes them at once with SQLAlchemy Core: an
``executemany`` on SQLite, multi-row ``VALUES`` on PostgreSQL (one statement per
chunk, where an ``executemany`` would run one statement per row on the server); one
row is inserted with ``RETURNING id``, one statement instead of two. The rows are in
the transaction the moment it returns, so any later read in the same unit of work sees
them; there is no second, unflushed way to write.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import (
    ARRAY, Table, TextClause, bindparam, func, insert, literal_column, select, text, tuple_,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement



def claimable(dialect: str, model: type, *conditions, order_by, limit: int) -> ColumnElement:
    """``model.id IN (the first `limit` rows meeting `conditions`, by `order_by`)``,
    skipping rows another PostgreSQL transaction holds."""
    pick = select(model.id).where(*conditions).order_by(*order_by).limit(limit)
    if dialect == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    return model.id.in_(pick.scalar_subquery())


def among(column: ColumnElement, values: list, dialect: str) -> ColumnElement:
    """``column IN values`` as one bound parameter, however many values: SQLite reads a
    JSON array (``json_each``), PostgreSQL an array (``= ANY``). An IN list of thousands
    of parameters costs SQLAlchemy milliseconds to expand and compile on every run."""
    if dialect == "postgresql":
        return column == func.any(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(select(literal_column("value")).select_from(
        func.json_each(bindparam(None, json.dumps(list(values))))))


def pairs_among(first: ColumnElement, second: ColumnElement, pairs: list[tuple],
                dialect: str) -> ColumnElement:
    """``(first, second) IN pairs``, as one parameter per column (see :func:`among`)."""
    if dialect == "postgresql":
        given = func.unnest(
            bindparam(None, [p[0] for p in pairs], type_=ARRAY(first.type)),
            bindparam(None, [p[1] for p in pairs], type_=ARRAY(second.type)),
        ).table_valued("a", "b").render_derived()
        return tuple_(first, second).in_(select(given.c.a, given.c.b))
    each = func.json_each(bindparam(None, json.dumps([list(p) for p in pairs]))).table_valued(
        "value")
    return tuple_(first, second).in_(select(
        func.json_extract(each.c.value, "$[0]"), func.json_extract(each.c.value, "$[1]")))


async def insert_many(session: AsyncSession, table: Table, rows: list[dict[str, Any]],
                      ids: list[int] | None = None) -> list[int]:
    """Insert ``rows`` (column values, without ``id``) into ``table`` in this session's
    transaction; returns their new ids, in the order given. The first ``len(ids)`` rows
    take ``ids``, reserved earlier (:func:`reserve_ids`)."""
    given = list(ids or ())
    defaults = _scalar_defaults(table)  # as an INSERT through SQLAlchemy would apply them
    if len(rows) == 1 and not given:
        # One new row (most of what people cause): the database names its id as it
        # writes it, one statement where asking for the id first takes two.
        return [(await session.execute(insert(table).returning(table.c.id),
                                       {**defaults, **rows[0]})).scalar_one()]
    ids = given + await new_ids(session, table, len(rows) - len(given))
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for new_id, row in zip(ids, rows):
        values = {**defaults, "id": new_id, **row}
        by_shape.setdefault(tuple(values), []).append(values)
    dialect = session.bind.dialect
    for shape, values in by_shape.items():
        if len(values) == 1:
            await session.execute(insert(table), values)
        elif dialect.name == "postgresql":
            # One statement with one array per column: the server runs one INSERT,
            # where an executemany runs one per row.
            await session.execute(_unnest_insert(table, shape),
                                  {name: [row[name] for row in values] for name in shape})
        else:
            # Straight to the driver's executemany: SQLAlchemy's own executemany costs
            # about 30 us a row in building parameters, most of a burst's writes.
            sql, columns = _positional_insert(dialect, table, shape)
            connection = await session.connection()
            await connection.exec_driver_sql(sql, [
                tuple(row[name] if process is None else process(row[name])
                      for name, process in columns) for row in values])
    return ids


_defaults: dict[str, dict[str, Any]] = {}


def _scalar_defaults(table: Table) -> dict[str, Any]:
    """The plain default value of each of ``table``'s columns that has one."""
    found = _defaults.get(table.name)
    if found is None:
        found = _defaults[table.name] = {
            column.key: column.default.arg for column in table.c
            if column.default is not None and column.default.is_scalar}
    return found


_positional_inserts: dict[tuple[str, str, tuple[str, ...]], tuple[str, list]] = {}


def _positional_insert(dialect: Dialect, table: Table, shape: tuple[str, ...]
                       ) -> tuple[str, list[tuple[str, Any]]]:
    """The INSERT of ``shape``'s columns compiled for ``dialect`` with positional
    parameters, and each parameter's column with the bind processor its type applies
    (a time to the stored text, say), built once per table and shape."""
    key = (dialect.name, table.name, shape)
    known = _positional_inserts.get(key)
    if known is None:
        compiled = insert(table).compile(dialect=dialect, column_keys=list(shape))
        if not compiled.positional or sorted(compiled.positiontup or ()) != sorted(shape):
            raise ValueError(f"cannot insert {table.name} rows positionally on {dialect.name}")
        columns = [(name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
                   for name in compiled.positiontup]
        known = _positional_inserts[key] = (compiled.string, columns)
    return known


_unnest_inserts: dict[tuple[str, tuple[str, ...]], TextClause] = {}


def _unnest_insert(table: Table, columns: tuple[str, ...]) -> TextClause:
    """``INSERT INTO table (columns) SELECT * FROM unnest(...)``, built once per shape.
    Values go in as the driver takes them: the bot's times are aware UTC already."""
    statement = _unnest_inserts.get((table.name, columns))
    if statement is None:
        arrays = ", ".join(f"CAST(:{name} AS {array_type(table, name)}[])" for name in columns)
        statement = _unnest_inserts[(table.name, columns)] = text(
            f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays})")
    return statement


async def reserve_ids(session: AsyncSession, table: Table, count: int) -> list[int]:
    """Ids for rows of ``table`` to be inserted later in this transaction, where the
    database can hand them out ahead: PostgreSQL's sequence does. SQLite cannot (an id
    is the highest plus one at the moment of writing), so there the answer is empty."""
    if session.bind.dialect.name == "sqlite":
        return []
    return await new_ids(session, table, count)


async def new_ids(session: AsyncSession, table: Table, count: int) -> list[int]:
    """``count`` ids for new rows of ``table``, in this session's transaction (on SQLite
    valid only until the transaction writes other rows of the table with new ids)."""
    if not count:
        return []
    if session.bind.dialect.name == "sqlite":
        highest = (await session.execute(select(func.max(table.c.id)))).scalar() or 0
        return list(range(highest + 1, highest + 1 + count))
    # As a scalar subquery the sequence's name is looked up once, not once per id.
    sequence = select(func.pg_get_serial_sequence(table.name, "id")).scalar_subquery()
    return list((await session.execute(select(func.nextval(sequence)).select_from(
        func.generate_series(1, count)))).scalars().all())


_POSTGRESQL = postgresql.dialect()


def array_type(table: Table, column: str) -> str:
    """PostgreSQL's name for ``column``'s type, to cast an array of its values to
    (``unnest`` takes one array per column)."""
    return table.c[column].type.compile(dialect=_POSTGRESQL)
