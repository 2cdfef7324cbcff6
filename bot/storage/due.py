"""One cheap read that tells a tick what there is to do.

Most ticks find nothing due. Claims are write transactions (and on SQLite each takes
the database's one write lock), so a tick first asks, in one read-only statement, for
the earliest moment of each kind of work, and writes only if one has come. The
statement is built once and runs as a peek (bot/storage/peek.py): alone, on a kept
connection, with no transaction around it. ``min()`` over a status-led index is an
index-only lookup whatever the parameters; an ``EXISTS ... <= :now`` would let a
generic PostgreSQL plan scan the table (docs/performance.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import Select, func, select

from bot.domain.promises import PromiseStatus
from bot.storage.tables import OutboxRow, PromiseRow
from bot.storage.uow import Database

_PENDING, _SENDING = PromiseStatus.PENDING.value, PromiseStatus.SENDING.value


@dataclass(frozen=True)
class Due:
    """What has come due: promises to cover, warnings to send, outbox rows to deliver,
    and leases (of promises or rows) that a crashed worker left to expire."""

    promises: bool = False
    promises_soon: bool = False  # one falls due within the sweeper's prepare-ahead window
    promise_leases: bool = False
    warnings: bool = False
    outbox: bool = False
    outbox_leases: bool = False

    @property
    def ledger_work(self) -> bool:
        """Whether the sweeper has anything to do."""
        return self.promises or self.promises_soon or self.promise_leases or self.warnings

    @property
    def outbox_work(self) -> bool:
        """Whether the dispatcher has anything to do."""
        return self.outbox or self.outbox_leases


def _earliest(column, *conditions):
    return select(func.min(column)).where(*conditions).scalar_subquery()


def _moments(ledger: bool, platforms: tuple[str, ...]) -> list[tuple]:
    """Each kind of work as (its moment's column, the rows it counts, whether the moment
    is a lease running out), in the order the probe's columns come."""
    moments: list[tuple] = []
    if ledger:
        moments += [
            (PromiseRow.due_at, (PromiseRow.status == _PENDING,), False),
            (PromiseRow.lease_until, (PromiseRow.status == _SENDING,), True),
            (PromiseRow.warn_at, (PromiseRow.status == _PENDING,
                                  PromiseRow.warned_at.is_(None)), False),
        ]
    if platforms:
        moments += [
            (OutboxRow.due_at, (OutboxRow.status == "pending",
                                OutboxRow.platform.in_(platforms)), False),
            (OutboxRow.lease_until, (OutboxRow.status == "sending",
                                     OutboxRow.platform.in_(platforms)), True),
        ]
    return moments


@lru_cache(maxsize=16)
def _probe(ledger: bool, platforms: tuple[str, ...]) -> Select | None:
    """The probe's statement, built once per shape: it has no parameter that changes
    from tick to tick ("due" is decided here, against the clock), and building it
    cost a third of an idle tick."""
    columns = [_earliest(column, *conditions)
               for column, conditions, _ in _moments(ledger, platforms)]
    return select(*columns) if columns else None


async def what_is_due(db: Database, platforms: list[str] | None = None, *,
                      ledger: bool = True, outbox: bool = True,
                      ahead: timedelta = timedelta(0)) -> Due:
    """Read, without a write lock or a transaction, what is due now. ``platforms``
    limits the outbox to rows this process can deliver (None: no outbox at all);
    ``ahead`` is how far ahead promises count as due soon."""
    now = db.clock.now()
    outbox = bool(outbox and platforms)
    statement = _probe(ledger, tuple(platforms) if outbox else ())
    if statement is None:
        return Due()
    moments = list(await db.peek.one(statement))

    def come(moment: datetime | None) -> bool:
        return moment is not None and moment <= now

    found: dict[str, bool] = {}
    if ledger:
        earliest_promise = moments.pop(0)
        found.update(promises=come(earliest_promise), promise_leases=come(moments.pop(0)),
                     warnings=come(moments.pop(0)))
        if ahead > timedelta(0) and earliest_promise is not None:
            found["promises_soon"] = earliest_promise <= now + ahead
    if outbox:
        found.update(outbox=come(moments.pop(0)), outbox_leases=come(moments.pop(0)))
    return Due(**found)


# Claims take a lease only once it has run out (``lease_until < now``): a moment just
# after it is the first one at which the work can be claimed again.
_AFTER_LEASE = timedelta(milliseconds=1)


async def next_moment_after(db: Database, after: datetime,
                            platforms: list[str] | None = None) -> datetime | None:
    """The earliest moment later than ``after`` at which a tick would find work: a
    promise falling due, a warning to send, an outbox row for ``platforms`` coming due,
    or a lease running out; None when nothing is scheduled. The console's ``/wait``
    moves its clock from one such moment to the next."""
    moments = _moments(True, tuple(platforms or ()))
    # A lease that runs out at ``after`` can be claimed just after it, so it counts too.
    columns = [_earliest(column, *conditions, column >= after if lease else column > after)
               for column, conditions, lease in moments]
    async with db.reading() as uow:
        found = (await uow.session.execute(select(*columns))).one()
    return min((moment + _AFTER_LEASE if lease else moment
                for moment, (_, _, lease) in zip(found, moments) if moment is not None),
               default=None)
