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

Rows known well before they may be written (covers prepared ahead) can go one step
further: :func:`bind_row` turns a row into the driver's own values at once, and
:func:`write_bound` later writes many with one ``executemany`` straight to the driver,
with no per-row work left in SQLAlchemy. Plain tuples also hold far less memory than
ORM objects, and the garbage collector soon stops walking them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import Table, func, insert, inspect, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement


_POSTGRESQL = postgresql.dialect()


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
    begins with ``BEGIN IMMEDIATE`` (bot/storage/engine.py), which holds the database's one
    write lock, so no other connection can take an id between our read and our INSERT.
    PostgreSQL: as many values from the table's own sequence, in one statement, so other
    processes writing at the same time never collide.
    """
    if not rows:
        return
    for row, new_id in zip(rows, await new_ids(session, model.__table__, len(rows))):
        row.id = new_id


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


def array_type(table: Table, column: str) -> str:
    """PostgreSQL's name for ``column``'s type, to cast an array of its values to
    (``unnest`` takes one array per column)."""
    return table.c[column].type.compile(dialect=_POSTGRESQL)


class BoundShape:
    """An INSERT of one table's chosen columns, compiled for one dialect, with each
    column's bind processor; ``later`` columns are bound only when the row is written."""

    def __init__(self, dialect: Dialect, table: Table, columns: tuple[str, ...],
                 later: tuple[str, ...]) -> None:
        self.table = table
        self.later = later
        order = ("id", *columns, *later)
        compiled = insert(table).compile(dialect=dialect, column_keys=list(order))
        if not compiled.positional or sorted(compiled.positiontup or ()) != sorted(order):
            raise ValueError(f"cannot bind {table.name} rows for {dialect.name} positionally")
        self.sql = compiled.string
        # Where each parameter of the statement is in (id, *columns, *later).
        self.order = tuple(order.index(name) for name in compiled.positiontup)
        self.arrays_sql = None
        if dialect.name == "postgresql":
            # One INSERT of many rows from one array per column: the server runs one
            # statement instead of one per row, as an executemany would.
            names = compiled.positiontup
            self.arrays_sql = (
                f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest("
                + ", ".join(f"CAST(${n} AS {array_type(table, name)}[])"
                            for n, name in enumerate(names, 1)) + ")")
        self.processors = [self._processor(dialect, name) for name in columns]
        self.later_processors = [self._processor(dialect, name) for name in later]

    def _processor(self, dialect: Dialect, name: str):
        column_type = self.table.c[name].type
        return column_type.dialect_impl(dialect).bind_processor(dialect)

    def bind(self, values: list) -> tuple:
        """``values`` (in column order) as the driver takes them."""
        return tuple(value if process is None else process(value)
                     for process, value in zip(self.processors, values))

    def bind_later(self, values: dict[str, Any]) -> tuple:
        """The ``later`` columns' values, in order, as the driver takes them."""
        return tuple(values[name] if process is None else process(values[name])
                     for process, name in zip(self.later_processors, self.later))


class Bound(NamedTuple):
    """One row as the driver's values, ready to write but for its id (and ``later``)."""

    shape: BoundShape
    values: tuple


_shapes: dict[tuple, BoundShape] = {}


def bind_row(dialect: Dialect, row: Any, *, later: tuple[str, ...] = ()) -> Bound:
    """Turn an ORM ``row`` not yet written into driver values. Columns it leaves unset
    take their scalar default, as an INSERT would give them; ``later`` columns are left
    for :func:`write_bound`, for values known only at the moment of writing."""
    table, state = type(row).__table__, row.__dict__
    columns, values = [], []
    for prop in inspect(type(row)).column_attrs:
        column = prop.columns[0]
        name = column.key
        if name == "id" or name in later:
            continue
        if prop.key in state:
            value = state[prop.key]
        elif column.default is not None and column.default.is_scalar:
            value = column.default.arg
        elif column.default is not None:
            raise ValueError(f"{table.name}.{name} has a default that needs an INSERT")
        else:
            continue
        columns.append(name)
        values.append(value)
    key = (dialect.name, table.name, tuple(columns), later)
    shape = _shapes.get(key)
    if shape is None:
        shape = _shapes[key] = BoundShape(dialect, table, tuple(columns), later)
    return Bound(shape, shape.bind(values))


async def write_bound(session: AsyncSession, rows: list[Bound],
                      later: list[dict[str, Any] | None] | None = None,
                      ids: list[int] | None = None) -> list[int]:
    """Write bound ``rows`` in this session's transaction (``later[i]``: row i's later
    columns); returns their ids, in the order given. The first ``len(ids)`` rows take
    ``ids`` (from :func:`new_ids`), and are written before the rest take new ones."""
    given = list(ids or ())
    if given:
        await _write_bound_with(session, rows[:len(given)], later, given)
    rest = range(len(given), len(rows))
    by_table: dict[Table, list[int]] = {}
    for index in rest:
        by_table.setdefault(rows[index].shape.table, []).append(index)
    taken: dict[int, int] = {}
    for table, indexes in by_table.items():
        taken.update(zip(indexes, await new_ids(session, table, len(indexes))))
    await _write_bound_with(session, [rows[i] for i in rest],
                            [later[i] for i in rest] if later else None,
                            [taken[i] for i in rest])
    return given + [taken[i] for i in rest]


async def _write_bound_with(session: AsyncSession, rows: list[Bound],
                            later: list[dict[str, Any] | None] | None, ids: list[int]) -> None:
    connection = await session.connection()
    by_table: dict[Table, list[int]] = {}
    for index, row in enumerate(rows):
        by_table.setdefault(row.shape.table, []).append(index)
    for table, indexes in by_table.items():
        by_shape: dict[BoundShape, list[tuple]] = {}
        for index, new_id in ((i, ids[i]) for i in indexes):
            shape, values = rows[index]
            tail = shape.bind_later(later[index]) if shape.later else ()
            ours = (new_id, *values, *tail)
            by_shape.setdefault(shape, []).append(tuple(ours[i] for i in shape.order))
        for shape, params in by_shape.items():
            if shape.arrays_sql is not None and len(params) > 1:
                await connection.exec_driver_sql(shape.arrays_sql,
                                                 tuple(list(column) for column in zip(*params)))
            else:
                await connection.exec_driver_sql(shape.sql, params)
