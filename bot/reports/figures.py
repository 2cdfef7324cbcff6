"""The desk's figures for one filter: how well, how fast, how happy, and its word kept.

Counting is done in the database (``COUNT``/``SUM(CASE ...)`` grouped by what a figure
needs), on SQLite and PostgreSQL alike. Durations are the exception: first response and
resolution times count *business* time, which depends on the desk's calendar (opening
hours, time zone, holidays). The database hands over two timestamps per ticket that was
first answered (or resolved) in the period, and Python measures them against the
calendar's open intervals with a binary search (:class:`BusinessClock`), so the work is
one row per such ticket plus one interval per open day between the oldest of them and
the end of the period. Medians and p90s are taken from those durations.

Definitions (docs/reports.md says the same for people):

- opened: tickets opened in the period. resolved, closed: tickets with a resolution
  (or a close) in the period, from their report outcomes (``report_outcomes``, written
  with the timeline's status line, sliced by the ticket's owner, priority, channel and
  team as they were then), so each period counts what happened in it: a later reopen
  (which clears the ticket's ``resolved_at``/``closed_at``) does not take last week's
  resolution back, and a ticket resolved in two periods counts in both (once in each).
  reopened: status changes in the period out of resolved or closed back to work;
  reopen rate = reopened / resolved.
- first response time: created -> first response, for tickets first answered in the
  period; resolution time: created -> the ticket's last resolution in the period.
  Both in business time; the SLA rows compare them with the priority's targets.
- promises: those the desk owes, made in the period, cancelled (superseded) ones left
  out; each settled one is *kept* (by a person on time), *covered* (lapsed, and the
  bot's honest update went out within ``LATE_AFTER``) or *late* (kept by a person after
  its time, or the bot's update was late or never delivered); how late is wall-clock
  time past due, where known.
- CSAT: ratings given in the period; response rate = ratings / tickets closed out of
  resolved in the period (closed on the requester's "yes", which asks for a
  rating, or for want of an answer, which does not: the rate is a floor).
- backlog: tickets still open at ``now``, by age (the period does not apply).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from statistics import median
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, literal, or_, select, text
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from bot.domain.calendar import BusinessCalendar
from bot.domain.priority import Priority
from bot.domain.promises import DESK_OWES, LATE_AFTER
from bot.domain.sla import SlaPolicy
from bot.domain.tickets import ACTIVE_STATUSES
from bot.reports.filters import ReportFilter
from bot.storage.tables import (
    CLOSED_EVENT, COMMENTED, RATED, REOPENED, RESOLVED_EVENT, SELF_SOLVED, IncidentRow,
    IncidentTicketRow, OutboxRow, PersonRow, PromiseRow, ReportOutcomeRow, TicketEventRow,
    TicketRow, WorkspaceRow,
)
from bot.storage.uow import UnitOfWork

# What a caller may ask for (``parts``); each is a few queries (see bench/reports.py).
PARTS = frozenset({"counts", "durations", "promises", "csat", "backlog", "days", "agents",
                   "incidents"})

# Backlog age buckets: (label, lower bound of age). The last is open-ended.
BACKLOG_BUCKETS = (("under_1d", timedelta(0)), ("1_3d", timedelta(days=1)),
                   ("3_7d", timedelta(days=3)), ("7_30d", timedelta(days=7)),
                   ("over_30d", timedelta(days=30)))

# How many open incidents a report lists (oldest first).
OPEN_INCIDENTS_SHOWN = 20

# How many rating comments a report carries (newest first).
COMMENTS_SHOWN = 20

_CLOSED_STATES = ("resolved", "closed")


@dataclass(frozen=True)
class Durations:
    """Business-time durations of ``count`` tickets: median and 90th percentile."""

    count: int = 0
    median: timedelta | None = None
    p90: timedelta | None = None

    @classmethod
    def of(cls, seconds: list[float]) -> "Durations":
        """From a list of durations in seconds (nearest-rank p90)."""
        if not seconds:
            return cls()
        ordered = sorted(seconds)
        rank = max(0, -(-len(ordered) * 9 // 10) - 1)  # ceil(0.9 n) - 1
        # To the millisecond: SQLite's julianday() arithmetic is microseconds off.
        return cls(len(ordered), timedelta(seconds=round(median(ordered), 3)),
                   timedelta(seconds=round(ordered[rank], 3)))


@dataclass
class PromiseFigures:
    """What became of the promises the desk made in the period (see the module doc)."""

    made: int = 0
    kept: int = 0
    covered: int = 0
    late: int = 0
    open: int = 0
    kept_late: int = 0          # of ``late``: a person kept it after its time
    covered_late: int = 0       # of ``late``: the bot's update went out late
    undelivered: int = 0        # of ``late``: the bot's update failed or is still pending
    late_by_total: timedelta = timedelta(0)  # over ``late_known`` of them
    late_known: int = 0
    late_by_max: timedelta | None = None

    @property
    def settled(self) -> int:
        """Promises whose outcome is known."""
        return self.kept + self.covered + self.late

    @property
    def late_by_average(self) -> timedelta | None:
        """How late, on average, the late promises whose lateness is known were."""
        return self.late_by_total / self.late_known if self.late_known else None

    @property
    def kept_share(self) -> float | None:
        """Share of settled promises a person kept on time."""
        return self.kept / self.settled if self.settled else None

    @property
    def on_time_share(self) -> float | None:
        """Share of settled promises kept on time by a person or covered on time."""
        return (self.kept + self.covered) / self.settled if self.settled else None

    def add(self, category: str, count: int, late_sum: float | None,
            late_max: float | None, known: int) -> None:
        """Fold one aggregated row (category, count, seconds late) into the figures."""
        self.made += count
        if category == "open":
            self.open += count
        elif category == "kept":
            self.kept += count
        elif category == "covered":
            self.covered += count
        else:
            self.late += count
            if category == "kept_late":
                self.kept_late += count
            elif category == "covered_late":
                self.covered_late += count
            else:
                self.undelivered += count
            if known:
                self.late_known += known
                # To the millisecond: SQLite's julianday() arithmetic is a few
                # microseconds off.
                self.late_by_total += timedelta(seconds=round(float(late_sum or 0), 3))
                worst = timedelta(seconds=round(float(late_max or 0), 3))
                if self.late_by_max is None or worst > self.late_by_max:
                    self.late_by_max = worst


@dataclass(frozen=True)
class SlaRow:
    """SLA targets met for one priority: first response and resolution."""

    priority: str
    first_met: int = 0
    first_total: int = 0
    resolve_met: int = 0
    resolve_total: int = 0


@dataclass
class Csat:
    """Satisfaction: ratings 1-5 given in the period, and their comments."""

    responses: int = 0
    asked: int = 0  # tickets closed by their requester's confirmation (each was asked)
    distribution: dict[int, int] = field(default_factory=lambda: {n: 0 for n in range(1, 6)})
    comments: list[tuple[int, str, datetime]] = field(default_factory=list)  # ticket, text, at
    comment_count: int = 0

    @property
    def average(self) -> float | None:
        """Mean rating, or None with no ratings."""
        if not self.responses:
            return None
        return sum(n * c for n, c in self.distribution.items()) / self.responses

    @property
    def response_rate(self) -> float | None:
        """Ratings given per ticket whose requester was asked (capped at 1)."""
        return min(1.0, self.responses / self.asked) if self.asked else None


@dataclass(frozen=True)
class OpenIncident:
    """An incident still open at ``now``, as the backlog page lists it."""

    number: int
    title: str
    created_at: datetime
    linked_tickets: int


@dataclass(frozen=True)
class Incidents:
    """Incidents declared and resolved in the period, the tickets linked to the ones
    declared in it, and the incidents open at ``now`` (the oldest
    :data:`OPEN_INCIDENTS_SHOWN` listed). With a ticket slice (team, channel, priority,
    agent) an incident counts when one of its linked tickets is in the slice, and only
    those tickets count."""

    opened: int = 0
    resolved: int = 0
    open_now: int = 0
    linked_tickets: int = 0
    open: tuple[OpenIncident, ...] = ()


@dataclass(frozen=True)
class BacklogBucket:
    """Tickets still open at ``now`` whose age falls in one bucket."""

    label: str
    count: int


@dataclass
class DayRow:
    """One local day of the period."""

    day: date
    opened: int = 0
    first_responses: int = 0
    resolved: int = 0
    first_response_median: timedelta | None = None
    resolution_median: timedelta | None = None


@dataclass
class AgentRow:
    """One agent's figures (tickets they own; promises they own)."""

    person_id: int
    name: str
    first_responses: int = 0
    resolved: int = 0
    first_response: Durations = field(default_factory=Durations)
    resolution: Durations = field(default_factory=Durations)
    promises: PromiseFigures = field(default_factory=PromiseFigures)
    ratings: int = 0
    rating_sum: int = 0

    @property
    def csat_average(self) -> float | None:
        """Mean rating of this agent's tickets, or None."""
        return self.rating_sum / self.ratings if self.ratings else None


@dataclass
class Figures:
    """Everything a report shows for one filter at ``now``. Parts not asked for stay
    at their empty values (``parts`` says which were computed)."""

    filter: ReportFilter
    now: datetime
    zone: str
    parts: frozenset[str]
    opened: int = 0
    resolved: int = 0
    closed: int = 0
    reopened: int = 0
    self_solved: int = 0
    first_response: Durations = field(default_factory=Durations)
    resolution: Durations = field(default_factory=Durations)
    sla: list[SlaRow] = field(default_factory=list)
    promises: PromiseFigures = field(default_factory=PromiseFigures)
    csat: Csat = field(default_factory=Csat)
    incidents: Incidents = field(default_factory=Incidents)
    backlog: list[BacklogBucket] = field(default_factory=list)
    days: list[DayRow] = field(default_factory=list)
    agents: list[AgentRow] = field(default_factory=list)

    @property
    def reopen_rate(self) -> float | None:
        """Reopens per resolution in the period."""
        return self.reopened / self.resolved if self.resolved else None

    @property
    def backlog_total(self) -> int:
        """Tickets still open at ``now``."""
        return sum(bucket.count for bucket in self.backlog)


class BusinessClock:
    """Business seconds between instants on one calendar, fast for many pairs.

    The open intervals from ``lo`` to ``hi`` are listed once with a running total;
    each measurement is then two binary searches. Instants outside ``[lo, hi]`` are
    clamped to it, so callers pass bounds that cover every instant they measure."""

    def __init__(self, calendar: BusinessCalendar, lo: datetime, hi: datetime) -> None:
        self.lo, self.hi = lo.timestamp(), hi.timestamp()
        self.starts: list[float] = []
        self.ends: list[float] = []
        self.before: list[float] = []  # open seconds before each interval
        total = 0.0
        for open_at, close_at in calendar.open_intervals(lo, hi):
            self.starts.append(open_at.timestamp())
            self.ends.append(close_at.timestamp())
            self.before.append(total)
            total += close_at.timestamp() - open_at.timestamp()

    def _elapsed(self, moment: float) -> float:
        """Open seconds from ``lo`` to ``moment``."""
        i = bisect.bisect_right(self.starts, moment) - 1
        if i < 0:
            return 0.0
        return self.before[i] + min(moment, self.ends[i]) - self.starts[i]

    def between(self, start: datetime, end: datetime) -> float:
        """Open seconds in ``[start, end)`` (zero when ``end <= start``)."""
        return self.between_epochs(start.timestamp(), end.timestamp())

    def between_epochs(self, start: float, end: float) -> float:
        """:meth:`between` for instants given as epoch seconds. Rounded to the
        millisecond: SQLite's julianday() arithmetic is a few microseconds off."""
        a = min(max(float(start), self.lo), self.hi)
        b = min(max(float(end), self.lo), self.hi)
        return round(max(0.0, self._elapsed(b) - self._elapsed(a)), 3) if b > a else 0.0


def seconds_between(dialect: str, later: ColumnElement, earlier: ColumnElement) -> ColumnElement:
    """``later - earlier`` in seconds, as SQL for ``dialect``."""
    if dialect == "postgresql":
        return func.date_part("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _hour_of(dialect: str, column: ColumnElement) -> ColumnElement:
    """The UTC hour of a timestamp as text ``YYYY-MM-DD HH`` (SQLite stores naive UTC text)."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return func.substr(column, 1, 13)


def _slices(filt: ReportFilter, table) -> list[ColumnElement]:
    """Conditions on ``table`` (tickets, or the report outcomes, which copy the ticket's
    workspace, team, channel and priority) for the filter's slices, not its period."""
    conditions: list[ColumnElement] = [table.workspace_id == filt.workspace_id]
    if filt.team_id is not None:
        # The default team has the tickets from before teams (team_id NULL) too.
        conditions.append(or_(table.team_id == filt.team_id, table.team_id.is_(None))
                          if filt.team_default else table.team_id == filt.team_id)
    if filt.channel_id is not None:
        conditions.append(table.channel_id == filt.channel_id)
    if filt.priority is not None:
        conditions.append(table.priority == filt.priority)
    return conditions


def ticket_filters(filt: ReportFilter) -> list[ColumnElement]:
    """Conditions on ``tickets`` for the filter's slices (not its period)."""
    return _slices(filt, TicketRow)


def outcome_slices(filt: ReportFilter) -> list[ColumnElement]:
    """:func:`ticket_slices` on the report outcomes: the ticket's slices as they were
    when it was resolved or closed."""
    conditions = _slices(filt, ReportOutcomeRow)
    if filt.agent_id is not None:
        conditions.append(ReportOutcomeRow.owner_id == filt.agent_id)
    return conditions


def ticket_slices(filt: ReportFilter) -> list[ColumnElement]:
    """:func:`ticket_filters` plus the agent, as the ticket's owner."""
    conditions = ticket_filters(filt)
    if filt.agent_id is not None:
        conditions.append(TicketRow.owner_id == filt.agent_id)
    return conditions


def in_period(column, filt: ReportFilter) -> ColumnElement:
    """``column`` within the filter's period ``[start, end)``."""
    return and_(column >= filt.start, column < filt.end)


async def compute_figures(uow: UnitOfWork, filt: ReportFilter, now: datetime, *,
                          calendar: BusinessCalendar | None = None,
                          sla: SlaPolicy | None = None,
                          parts: frozenset[str] | set[str] = PARTS) -> Figures:
    """The figures for ``filt`` at ``now``, measured on ``calendar`` against ``sla``
    (the workspace's policy; an always-open UTC calendar and the default targets when
    not given). ``parts`` (a subset of :data:`PARTS`) limits the work to what a page
    shows. Runs only reads: pass a reading unit of work."""
    calendar = calendar or BusinessCalendar.always_open()
    sla = sla or SlaPolicy.default()
    parts = frozenset(parts)
    unknown = parts - PARTS
    if unknown:
        raise ValueError(f"unknown report parts: {sorted(unknown)}")
    figures = Figures(filt, now, calendar.timezone, parts)
    if not await matches_workspace(uow, filt):
        return figures
    dialect = uow.session.bind.dialect.name
    measured = bool(parts & {"durations", "days", "agents"})
    if "counts" in parts or "days" in parts:
        # With the durations read anyway, "resolved" is their count (the same rows).
        await _counts(uow, filt, figures, resolved=not measured)
    if measured:
        await _durations(uow, filt, figures, calendar, sla)
    if "promises" in parts or "agents" in parts:
        await _promises(uow, filt, figures, dialect)
    if "csat" in parts or "agents" in parts:
        await _csat(uow, filt, figures)
    if "backlog" in parts:
        await _backlog(uow, filt, figures, now)
    if "days" in parts:
        await _opened_per_day(uow, filt, figures, dialect)
    if "incidents" in parts:
        await _incidents(uow, filt, figures, now)
    if "agents" in parts:
        await _name_agents(uow, figures)
    return figures


async def matches_workspace(uow: UnitOfWork, filt: ReportFilter) -> bool:
    """False when a slice can match nothing: a platform other than the workspace's own."""
    if filt.platform is None:
        return True
    platform = (await uow.session.execute(
        select(WorkspaceRow.platform).where(WorkspaceRow.id == filt.workspace_id))).scalar()
    return platform == filt.platform


async def _counts(uow: UnitOfWork, filt: ReportFilter, figures: Figures,
                  resolved: bool = True) -> None:
    """Opened from the tickets' own opening time; resolved and closed from the report
    outcomes of the period (each read from an index alone), so that a later reopen
    (which clears the ticket's ``resolved_at`` and ``closed_at``) leaves past periods'
    figures as they were; reopened and self-solved from the timeline lines of the
    period, each from its own partial index."""
    t = TicketRow
    figures.opened = (await uow.session.execute(
        select(func.count()).select_from(t).where(*ticket_slices(filt),
                                                  in_period(t.created_at, filt)))
    ).scalar_one()
    ev = TicketEventRow
    # Each line's ticket is looked up by its key (a correlated subquery): a join let
    # PostgreSQL hash the workspace's every ticket to match a few thousand reopens.
    ticket_of = (select(t.id).where(t.id == ev.ticket_id, *ticket_slices(filt))
                 .scalar_subquery())
    events = select(func.count()).select_from(ev).where(
        in_period(ev.created_at, filt), ticket_of.is_not(None))
    figures.self_solved = (await uow.session.execute(
        events.where(text(SELF_SOLVED)))).scalar_one()
    figures.reopened = (await uow.session.execute(events.where(text(REOPENED)))).scalar_one()
    o = ReportOutcomeRow
    tickets = select(func.count(o.ticket_id.distinct())).where(
        *outcome_slices(filt), in_period(o.at, filt))
    if resolved:  # else _durations counts them (a COUNT DISTINCT is a sort on SQLite)
        figures.resolved = (await uow.session.execute(
            tickets.where(o.kind == "resolved"))).scalar_one()
    # Asked for a rating: closed on the requester's "yes" (out of resolved).
    asked = func.count(case((o.asked, o.ticket_id)).distinct())
    figures.closed, figures.csat.asked = (await uow.session.execute(
        tickets.add_columns(asked).where(o.kind == "closed"))).one()


async def _durations(uow: UnitOfWork, filt: ReportFilter, figures: Figures,
                     calendar: BusinessCalendar, sla: SlaPolicy) -> None:
    """First response and resolution times in business time, overall, per priority
    (against the SLA targets), per local day and per agent.

    The database returns instants as epoch seconds (plain floats: no datetime built
    per row) through a Core result (no ORM row per ticket), and one loop measures each
    ticket with two binary searches: at 60,000 tickets a month the loop, not the query,
    was most of a dashboard page's time."""
    dialect = uow.session.bind.dialect.name
    t = TicketRow
    connection = await uow.session.connection()

    answered = (await connection.execute(
        select(epoch(dialect, t.created_at), epoch(dialect, t.first_response_at), t.priority,
               t.owner_id)
        .where(*ticket_slices(filt), in_period(t.first_response_at, filt)))).all()
    # Resolved: each ticket with a resolution in the period (its report outcomes, read
    # from their index alone), measured to its last one in it: a reopen later does not
    # take it back, and one resolved in two periods counts in both.
    o = ReportOutcomeRow
    latest: dict[int, tuple] = {}
    for ticket_id, created, at, priority, owner in (await connection.execute(
            select(o.ticket_id, epoch(dialect, o.ticket_created_at), epoch(dialect, o.at),
                   o.priority, o.owner_id)
            .where(*outcome_slices(filt), o.kind == "resolved", in_period(o.at, filt))
    )).all():
        seen = latest.get(ticket_id)
        if seen is None or at > seen[1]:
            latest[ticket_id] = (created, at, priority, owner)
    resolved = list(latest.values())
    oldest = min([r[0] for r in answered] + [r[0] for r in resolved],
                 default=filt.start.timestamp())
    lo = min(datetime.fromtimestamp(oldest, timezone.utc), filt.start)
    clock = BusinessClock(calendar, lo, max(filt.end, figures.now))
    days = _local_days(figures)
    day_starts = [_local_midnight(day, figures.zone) for day in days]
    # A millisecond of slack: SQLite's julianday() arithmetic is microseconds off.
    targets = {p.value: (sla.target(p).first_response.total_seconds() + 0.001,
                         sla.target(p).resolution.total_seconds() + 0.001) for p in Priority}
    per_priority: dict[str, list[int]] = {p.value: [0, 0, 0, 0] for p in Priority}
    per_agent: dict[int, tuple[list[float], list[float]]] = {}
    by_day: list[list[list[float]]] = [[[] for _ in days], [[] for _ in days]]
    starts, ends, before = clock.starts, clock.ends, clock.before
    right = bisect.bisect_right
    last_day = len(days) - 1

    def tally(rows, which: int) -> list[float]:
        result = []
        days_of = by_day[which]
        for created, at, priority, owner in rows:
            # Both instants lie within the clock's bounds (they were chosen so).
            i = right(starts, created) - 1
            a = 0.0 if i < 0 else before[i] + min(created, ends[i]) - starts[i]
            i = right(starts, at) - 1
            b = 0.0 if i < 0 else before[i] + min(at, ends[i]) - starts[i]
            seconds = b - a if b > a else 0.0
            result.append(seconds)
            counts = per_priority.get(priority)
            if counts is None:
                counts = per_priority[priority] = [0, 0, 0, 0]
            counts[2 * which + 1] += 1
            target = targets.get(priority)
            if target is None or seconds <= target[which]:
                counts[2 * which] += 1
            day = right(day_starts, at) - 1
            if 0 <= day <= last_day:
                days_of[day].append(seconds)
            if owner is not None:
                mine = per_agent.get(owner)
                if mine is None:
                    mine = per_agent[owner] = ([], [])
                mine[which].append(seconds)
        return result

    figures.first_response = Durations.of(tally(answered, 0))
    figures.resolution = Durations.of(tally(resolved, 1))
    figures.resolved = len(resolved)  # tickets resolved in the period, each once
    figures.sla = [SlaRow(p, *counts) for p, counts in sorted(per_priority.items())]
    figures.days = _day_rows(figures, dict(zip(days, by_day[0])), dict(zip(days, by_day[1])))
    for owner, (first, res) in per_agent.items():
        agent = _agent(figures, owner)
        agent.first_responses, agent.resolved = len(first), len(res)
        agent.first_response, agent.resolution = Durations.of(first), Durations.of(res)


def epoch(dialect: str, column: ColumnElement) -> ColumnElement:
    """A timestamp column as epoch seconds (a float), as SQL for ``dialect``."""
    if dialect == "postgresql":
        # date_part is double precision; extract() is numeric since PostgreSQL 14.
        return func.date_part("epoch", column)
    return (func.julianday(column) - 2440587.5) * 86400.0


def _local_midnight(day: date, zone: str) -> float:
    from zoneinfo import ZoneInfo
    return datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(zone)).timestamp()


def _local_days(figures: Figures) -> list[date]:
    """Every local day the period touches, in the report's time zone."""
    from zoneinfo import ZoneInfo
    zone = ZoneInfo(figures.zone)
    first = figures.filter.start.astimezone(zone).date()
    last = (figures.filter.end - timedelta(microseconds=1)).astimezone(zone).date()
    count = max(0, (last - first).days + 1)
    return [first + timedelta(days=n) for n in range(count)]


def _day_rows(figures: Figures, first: dict[date, list[float]],
              resolved: dict[date, list[float]]) -> list[DayRow]:
    rows = {day: DayRow(day) for day in _local_days(figures)}
    for day, row in rows.items():
        row.first_responses = len(first.get(day, ()))
        row.resolved = len(resolved.get(day, ()))
        row.first_response_median = Durations.of(first.get(day, [])).median
        row.resolution_median = Durations.of(resolved.get(day, [])).median
    return list(rows.values())


def _agent(figures: Figures, person_id: int) -> AgentRow:
    for agent in figures.agents:
        if agent.person_id == person_id:
            return agent
    agent = AgentRow(person_id, "")
    figures.agents.append(agent)
    return agent


def _promise_category(dialect: str) -> tuple[ColumnElement, ColumnElement]:
    """A promise's outcome (see the module doc) and, for late ones, seconds late."""
    p, o = PromiseRow, OutboxRow
    grace = LATE_AFTER.total_seconds()
    cover_late = seconds_between(dialect, o.sent_at, p.due_at)
    category = case(
        (p.status.in_(("pending", "sending", "paused")), literal("open")),
        (and_(p.status == "kept", p.resolution == "late"), literal("kept_late")),
        (p.status == "kept", literal("kept")),
        (and_(o.status == "sent", o.sent_at.is_not(None), cover_late <= grace),
         literal("covered")),
        (and_(o.status == "sent", o.sent_at.is_not(None)), literal("covered_late")),
        else_=literal("undelivered"))
    late_by = case(
        (and_(p.status == "kept", p.resolution == "late"),
         seconds_between(dialect, p.resolved_at, p.due_at)),
        (and_(p.status == "missed", o.status == "sent", o.sent_at.is_not(None)), cover_late),
        else_=None)
    return category, late_by


async def _promises(uow: UnitOfWork, filt: ReportFilter, figures: Figures,
                    dialect: str) -> None:
    """Promise outcomes, for the period and per owner: counts by status in one grouped
    query (read from the index alone), then the outcome and lateness of the late and
    lapsed ones, a small share, with their covers."""
    p = PromiseRow
    made = [p.workspace_id == filt.workspace_id, in_period(p.made_at, filt),
            p.kind.in_([k.value for k in DESK_OWES]), p.status != "cancelled"]
    if filt.agent_id is not None:
        made.append(p.owner_id == filt.agent_id)

    def sliced(query: Select) -> Select:
        if filt.channel_id is not None or filt.priority is not None or filt.team_id is not None:
            return query.join(TicketRow, TicketRow.id == p.ticket_id).where(
                *ticket_filters(filt))
        return query

    agents = "agents" in figures.parts
    by_status = sliced(select(p.owner_id, p.status, p.resolution, func.count())
                       .where(*made).group_by(p.owner_id, p.status, p.resolution))
    for owner, status, resolution, count in (await uow.session.execute(by_status)).all():
        if status in ("pending", "sending", "paused"):
            category = "open"
        elif status == "kept" and resolution != "late":
            category = "kept"
        else:
            continue  # late or lapsed: counted below, with how late
        figures.promises.add(category, count, None, None, 0)
        if owner is not None and agents:
            _agent(figures, owner).promises.add(category, count, None, None, 0)
    category, late_by = _promise_category(dialect)
    late = sliced(
        select(p.owner_id, category, func.count(), func.sum(late_by), func.max(late_by),
               func.count(late_by))
        .select_from(p).outerjoin(OutboxRow, OutboxRow.id == p.cover_outbox_id)
        .where(*made, (p.status == "missed") | and_(p.status == "kept",
                                                    p.resolution == "late"))
        .group_by(p.owner_id, category))
    for owner, cat, count, late_sum, late_max, known in (await uow.session.execute(late)).all():
        figures.promises.add(cat, count, late_sum, late_max, known)
        if owner is not None and agents:
            _agent(figures, owner).promises.add(cat, count, late_sum, late_max, known)


async def _csat(uow: UnitOfWork, filt: ReportFilter, figures: Figures) -> None:
    """Ratings in the period by value (and by owner), and the newest comments."""
    ev = TicketEventRow
    rows = (await uow.session.execute(
        select(TicketRow.owner_id, ev.body, func.count())
        .select_from(ev).join(TicketRow, TicketRow.id == ev.ticket_id)
        .where(*ticket_slices(filt), text(RATED), in_period(ev.created_at, filt))
        .group_by(TicketRow.owner_id, ev.body))).all()
    csat = figures.csat
    for owner, body, count in rows:
        if not body.isdigit() or not 1 <= int(body) <= 5:
            continue
        rating = int(body)
        csat.distribution[rating] += count
        csat.responses += count
        if owner is not None and "agents" in figures.parts:
            agent = _agent(figures, owner)
            agent.ratings += count
            agent.rating_sum += rating * count
    commented = (select(TicketRow.number, ev.body, ev.created_at).select_from(ev)
                 .join(TicketRow, TicketRow.id == ev.ticket_id)
                 .where(*ticket_slices(filt), text(COMMENTED), in_period(ev.created_at, filt)))
    csat.comments = [(n, body, at) for n, body, at in (await uow.session.execute(
        commented.order_by(ev.created_at.desc()).limit(COMMENTS_SHOWN))).all()]
    csat.comment_count = len(csat.comments) if len(csat.comments) < COMMENTS_SHOWN else (
        await uow.session.execute(select(func.count()).select_from(commented.subquery()))
    ).scalar_one()


async def _backlog(uow: UnitOfWork, filt: ReportFilter, figures: Figures,
                   now: datetime) -> None:
    """Tickets open at ``now`` by age bucket, in one query."""
    whens = [(TicketRow.created_at <= now - lower, literal(label))
             for label, lower in reversed(BACKLOG_BUCKETS[1:])]
    bucket = case(*whens, else_=literal(BACKLOG_BUCKETS[0][0]))
    rows = dict((await uow.session.execute(
        select(bucket, func.count()).where(
            *ticket_slices(filt), TicketRow.status.in_([s.value for s in ACTIVE_STATUSES]))
        .group_by(bucket))).all())
    figures.backlog = [BacklogBucket(label, int(rows.get(label, 0)))
                       for label, _ in BACKLOG_BUCKETS]


async def _opened_per_day(uow: UnitOfWork, filt: ReportFilter, figures: Figures,
                          dialect: str) -> None:
    """Tickets opened per local day: counted per UTC hour in the database, then each
    hour put on the local day it starts in (a zone half an hour off UTC puts the
    half hour around midnight on the day the hour starts)."""
    from zoneinfo import ZoneInfo
    hour = _hour_of(dialect, TicketRow.created_at)
    rows = (await uow.session.execute(
        select(hour, func.count()).where(*ticket_slices(filt), in_period(TicketRow.created_at, filt))
        .group_by(hour))).all()
    if not figures.days:
        figures.days = _day_rows(figures, {}, {})
    by_day = {row.day: row for row in figures.days}
    zone = ZoneInfo(figures.zone)
    for text_hour, count in rows:
        at = datetime.strptime(text_hour, "%Y-%m-%d %H").replace(tzinfo=timezone.utc)
        row = by_day.get(at.astimezone(zone).date())
        if row is not None:
            row.opened += count


def _sliced_by_ticket(filt: ReportFilter) -> bool:
    return any(value is not None for value in (filt.team_id, filt.channel_id, filt.priority,
                                                filt.agent_id))


async def _incidents(uow: UnitOfWork, filt: ReportFilter, figures: Figures,
                     now: datetime) -> None:
    """Incidents of the period and those open at ``now``, with their linked tickets
    (only those in the filter's slice when it has one)."""
    i, link = IncidentRow, IncidentTicketRow
    linked = (select(func.count()).select_from(link)
              .join(TicketRow, TicketRow.id == link.ticket_id)
              .where(link.incident_id == i.id, *ticket_slices(filt)).correlate(i)
              .scalar_subquery())
    mine = [i.workspace_id == filt.workspace_id]
    if _sliced_by_ticket(filt):
        # Its own link and ticket rows: only the incident correlates with the outer query
        # (which may join links and tickets itself).
        own = aliased(IncidentTicketRow)
        one = (select(literal(1)).select_from(own)
               .join(TicketRow, TicketRow.id == own.ticket_id)
               .where(own.incident_id == i.id, *ticket_slices(filt)).correlate(i))
        mine.append(exists(one))

    async def count(*where) -> int:
        return (await uow.session.execute(
            select(func.count()).select_from(i).where(*mine, *where))).scalar_one()

    opened = await count(in_period(i.created_at, filt))
    resolved = await count(in_period(i.resolved_at, filt))
    open_now = await count(i.status == "open", i.created_at <= now)
    tickets = (await uow.session.execute(
        select(func.count()).select_from(link)
        .join(i, i.id == link.incident_id).join(TicketRow, TicketRow.id == link.ticket_id)
        .where(*mine, in_period(i.created_at, filt), *ticket_slices(filt)))).scalar_one()
    rows = (await uow.session.execute(
        select(i.number, i.title, i.created_at, linked)
        .where(*mine, i.status == "open", i.created_at <= now)
        .order_by(i.created_at, i.number).limit(OPEN_INCIDENTS_SHOWN))).all()
    figures.incidents = Incidents(
        opened=opened, resolved=resolved, open_now=open_now, linked_tickets=tickets,
        open=tuple(OpenIncident(n, title, at, count) for n, title, at, count in rows))


async def _name_agents(uow: UnitOfWork, figures: Figures) -> None:
    """Give each agent row its name, and sort the rows by name."""
    ids = [agent.person_id for agent in figures.agents]
    if ids:
        names = dict((await uow.session.execute(
            select(PersonRow.id, func.coalesce(func.nullif(PersonRow.display_name, ""),
                                               PersonRow.external_id))
            .where(PersonRow.id.in_(ids)))).all())
        for agent in figures.agents:
            agent.name = names.get(agent.person_id, "")
    figures.agents.sort(key=lambda a: (a.name.lower(), a.person_id))


def as_dict(figures: Figures) -> dict[str, Any]:
    """The figures as plain JSON-ready values (durations in seconds, dates ISO)."""
    def secs(value: timedelta | None) -> float | None:
        return None if value is None else round(value.total_seconds(), 3)

    def durations(d: Durations) -> dict[str, Any]:
        return {"count": d.count, "median_s": secs(d.median), "p90_s": secs(d.p90)}

    def promises(pf: PromiseFigures) -> dict[str, Any]:
        return {"made": pf.made, "kept": pf.kept, "covered": pf.covered, "late": pf.late,
                "open": pf.open, "kept_late": pf.kept_late, "covered_late": pf.covered_late,
                "undelivered": pf.undelivered, "late_by_average_s": secs(pf.late_by_average),
                "late_by_max_s": secs(pf.late_by_max)}

    f = figures.filter
    return {
        "filter": {"workspace_id": f.workspace_id, "start": f.start.isoformat(),
                   "end": f.end.isoformat(), "agent_id": f.agent_id, "team_id": f.team_id,
                   "channel_id": f.channel_id, "priority": f.priority,
                   "platform": f.platform},
        "now": figures.now.isoformat(), "zone": figures.zone,
        "opened": figures.opened, "resolved": figures.resolved, "closed": figures.closed,
        "reopened": figures.reopened, "reopen_rate": figures.reopen_rate,
        "self_solved": figures.self_solved,
        "first_response": durations(figures.first_response),
        "resolution": durations(figures.resolution),
        "sla": [vars(row) for row in figures.sla],
        "promises": promises(figures.promises),
        "csat": {"responses": figures.csat.responses, "average": figures.csat.average,
                 "response_rate": figures.csat.response_rate,
                 "distribution": {str(k): v for k, v in figures.csat.distribution.items()},
                 "comments": figures.csat.comment_count},
        "incidents": {"opened": figures.incidents.opened,
                      "resolved": figures.incidents.resolved,
                      "open_now": figures.incidents.open_now,
                      "linked_tickets": figures.incidents.linked_tickets,
                      "open": [{"number": o.number, "title": o.title,
                                "created_at": o.created_at.isoformat(),
                                "linked_tickets": o.linked_tickets}
                               for o in figures.incidents.open]},
        "backlog": {b.label: b.count for b in figures.backlog},
        "days": [{"day": d.day.isoformat(), "opened": d.opened, "resolved": d.resolved,
                  "first_responses": d.first_responses,
                  "first_response_median_s": secs(d.first_response_median),
                  "resolution_median_s": secs(d.resolution_median)} for d in figures.days],
        "agents": [{"person_id": a.person_id, "name": a.name,
                    "first_responses": a.first_responses, "resolved": a.resolved,
                    "first_response": durations(a.first_response),
                    "resolution": durations(a.resolution),
                    "promises": promises(a.promises), "ratings": a.ratings,
                    "csat_average": a.csat_average} for a in figures.agents],
    }


@dataclass
class TicketLine:
    """One ticket as a small report lists it, counted as the report's summary counts:
    its first response time (business time, the ticket's own, None before any), what
    became of the promises made on it *in the period*, and the rating given *in the
    period* (None when none was: a rating from before the period is not this one's)."""

    number: int
    subject: str
    first_response: timedelta | None
    promises: PromiseFigures = field(default_factory=PromiseFigures)
    rating: int | None = None


def _promises_made(filt: ReportFilter) -> list[ColumnElement]:
    """The promises the summary counts (see :func:`_promises`), but for the slices on
    their ticket."""
    p = PromiseRow
    made = [p.workspace_id == filt.workspace_id, in_period(p.made_at, filt),
            p.kind.in_([k.value for k in DESK_OWES]), p.status != "cancelled"]
    if filt.agent_id is not None:
        made.append(p.owner_id == filt.agent_id)
    return made


async def ticket_lines(uow: UnitOfWork, filt: ReportFilter, now: datetime,
                       calendar: BusinessCalendar | None = None, limit: int = 5,
                       figures: Figures | None = None) -> list[TicketLine] | None:
    """The tickets the summary of ``filt`` counts, oldest first, when there are at most
    ``limit`` of them; None when there are more (a report then gives figures only).

    A ticket is listed when the summary counts something of it: opened, first answered,
    resolved, closed, reopened or rated in the period, or a promise made on it in the
    period. Each line's promises and rating are those of the period, so the lines add
    up to the summary's promises and ratings (but for an incident's own promises, which
    have no ticket). ``figures`` (the summary's, when the caller has them) spares the
    search when they already show more than ``limit`` tickets opened, resolved or
    closed."""
    calendar = calendar or BusinessCalendar.always_open()
    if figures is not None and max(figures.opened, figures.resolved,
                                   figures.closed) > limit:
        return None
    if not await matches_workspace(uow, filt):
        return []
    t, p, ev = TicketRow, PromiseRow, TicketEventRow
    counted = or_(*(text(f"({condition})") for condition in (
        RESOLVED_EVENT, CLOSED_EVENT, REOPENED, RATED)))
    with_events = select(ev.ticket_id).where(in_period(ev.created_at, filt), counted)
    with_promises = (select(p.ticket_id).join(t, t.id == p.ticket_id)
                     .where(*_promises_made(filt), *ticket_filters(filt)))
    rows = (await uow.session.execute(
        select(t.id, t.number, t.subject, t.created_at, t.first_response_at)
        .where(t.workspace_id == filt.workspace_id,
               and_(*ticket_slices(filt),
                    in_period(t.created_at, filt) | in_period(t.first_response_at, filt)
                    | t.id.in_(with_events))
               | t.id.in_(with_promises))
        .order_by(t.created_at, t.id).limit(limit + 1))).all()
    if len(rows) > limit:
        return None
    if not rows:
        return []
    clock = BusinessClock(calendar, min(r.created_at for r in rows), max(filt.end, now))
    lines = {r.id: TicketLine(r.number, r.subject, None if r.first_response_at is None else
                              timedelta(seconds=clock.between(r.created_at,
                                                              r.first_response_at)))
             for r in rows}
    category, late_by = _promise_category(uow.session.bind.dialect.name)
    for ticket_id, cat, count, late_sum, late_max, known in (await uow.session.execute(
            select(p.ticket_id, category, func.count(), func.sum(late_by), func.max(late_by),
                   func.count(late_by))
            .select_from(p).outerjoin(OutboxRow, OutboxRow.id == p.cover_outbox_id)
            .where(p.ticket_id.in_(list(lines)), *_promises_made(filt))
            .group_by(p.ticket_id, category))).all():
        lines[ticket_id].promises.add(cat, count, late_sum, late_max, known)
    for ticket_id, body in (await uow.session.execute(
            select(ev.ticket_id, ev.body).where(
                ev.ticket_id.in_(list(lines)), text(RATED), in_period(ev.created_at, filt))
            .order_by(ev.id))).all():
        if body.isdigit():
            lines[ticket_id].rating = int(body)  # the last rating given wins
    return list(lines.values())
