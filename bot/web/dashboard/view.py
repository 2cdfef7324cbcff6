"""What the dashboard shows for one workspace and one set of filters: a plain view
model the templates and the CSV downloads read.

The filters come from the page's query string and are checked here (an unknown period,
priority or channel reads as "all", never as an error page). The workspace never comes
from the request: it is the signed session's.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Mapping

from sqlalchemy import select

from bot.domain.tickets import ACTIVE_STATUSES
from bot.storage.reports import promise_report
from bot.storage.tables import PersonRow, TicketEventRow, TicketRow
from bot.storage.uow import UnitOfWork

PERIODS = {"today": 0, "7d": 7, "30d": 30, "90d": 90}
DEFAULT_PERIOD = "30d"
PRIORITIES = ("P1", "P2", "P3", "P4")
# Open tickets by how long they have been open; the labels are template keys (web.age_N).
BACKLOG_BUCKETS = (("age_1", timedelta(days=1)), ("age_2", timedelta(days=3)),
                   ("age_3", timedelta(days=7)), ("age_4", None))


@dataclass(frozen=True)
class DashboardFilter:
    """The dashboard's filters, as the person chose them (validated)."""

    period: str = DEFAULT_PERIOD
    team: str = "all"
    channel: str = ""
    priority: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> "DashboardFilter":
        """Filters from a query string; anything unknown falls back to its default."""
        period = query.get("period", DEFAULT_PERIOD)
        priority = query.get("priority", "").upper()
        channel = query.get("channel", "")
        return cls(period=period if period in PERIODS else DEFAULT_PERIOD,
                   team="all",  # teams do not exist yet
                   channel=channel if 0 < len(channel) <= 64 and channel.isprintable() else "",
                   priority=priority if priority in PRIORITIES else "")

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        """[start, end) in UTC: "today" from midnight UTC, "7d" the last seven days."""
        days = PERIODS[self.period]
        midnight = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0,
                                                        microsecond=0)
        return (midnight if days == 0 else now - timedelta(days=days)), now

    def query(self) -> dict[str, str]:
        """These filters as query parameters (for links and downloads)."""
        found = {"period": self.period}
        if self.channel:
            found["channel"] = self.channel
        if self.priority:
            found["priority"] = self.priority
        return found


@dataclass
class AgentRow:
    """One agent's line in the per-agent table."""

    name: str
    owned: int = 0
    resolved: int = 0
    first_response_median_min: float | None = None
    promises_made: int = 0
    promises_kept: int = 0
    promises_late: int = 0


@dataclass
class DashboardView:
    """Everything one dashboard page shows."""

    filters: DashboardFilter
    start: datetime
    end: datetime
    tickets: int = 0
    resolved: int = 0
    days: list[str] = field(default_factory=list)
    opened_per_day: list[int] = field(default_factory=list)
    resolved_per_day: list[int] = field(default_factory=list)
    first_response_per_day: list[float | None] = field(default_factory=list)
    resolution_per_day: list[float | None] = field(default_factory=list)
    first_response_median_min: float | None = None
    resolution_median_h: float | None = None
    promises_kept: int = 0
    promises_covered: int = 0
    promises_late: int = 0
    promises_made: int = 0
    csat: list[int] = field(default_factory=lambda: [0] * 5)  # ratings 1..5
    agents: list[AgentRow] = field(default_factory=list)
    backlog: list[tuple[str, int]] = field(default_factory=list)
    incidents: list[dict] = field(default_factory=list)  # until incidents exist
    channels: list[str] = field(default_factory=list)

    @property
    def csat_average(self) -> float | None:
        """The average rating, None before the first."""
        count = sum(self.csat)
        return sum((n + 1) * c for n, c in enumerate(self.csat)) / count if count else None

    def chart_data(self) -> dict:
        """What the charts draw, as JSON for the page's script."""
        return {"days": self.days, "opened": self.opened_per_day,
                "resolved": self.resolved_per_day,
                "firstResponse": self.first_response_per_day,
                "resolution": self.resolution_per_day,
                "promises": [self.promises_kept, self.promises_covered, self.promises_late],
                "csat": self.csat,
                "backlog": [count for _, count in self.backlog],
                "backlogLabels": [label for label, _ in self.backlog]}


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


async def build_view(uow: UnitOfWork, workspace_id: int, filters: DashboardFilter,
                     now: datetime) -> DashboardView:
    """The dashboard's figures for ``workspace_id`` under ``filters`` at ``now``."""
    start, end = filters.window(now)
    view = DashboardView(filters, start, end)
    scope = [TicketRow.workspace_id == workspace_id]
    if filters.channel:
        scope.append(TicketRow.channel_id == filters.channel)
    if filters.priority:
        scope.append(TicketRow.priority == filters.priority)
    rows = (await uow.session.execute(
        select(TicketRow.id, TicketRow.owner_id, TicketRow.created_at,
               TicketRow.first_response_at, TicketRow.resolved_at)
        .where(*scope, TicketRow.created_at >= start, TicketRow.created_at < end))).all()
    first_day = start.date()
    day_list = [first_day + timedelta(days=n) for n in range((end.date() - first_day).days + 1)]
    view.days = [d.isoformat() for d in day_list]
    opened, resolved = Counter(), Counter()
    first_by_day: dict[date, list[float]] = defaultdict(list)
    resolution_by_day: dict[date, list[float]] = defaultdict(list)
    by_owner: dict[int, AgentRow] = {}
    owner_first: dict[int, list[float]] = defaultdict(list)
    all_first, all_resolution = [], []
    for _, owner_id, created, first, done in rows:
        day = created.date()
        opened[day] += 1
        if first is not None:
            minutes = (first - created).total_seconds() / 60
            first_by_day[day].append(minutes)
            all_first.append(minutes)
            if owner_id is not None:
                owner_first[owner_id].append(minutes)
        if done is not None:
            resolved[done.date()] += 1
            hours = (done - created).total_seconds() / 3600
            resolution_by_day[day].append(hours)
            all_resolution.append(hours)
        if owner_id is not None:
            agent = by_owner.setdefault(owner_id, AgentRow(""))
            agent.owned += 1
            agent.resolved += done is not None
    view.tickets = len(rows)
    view.resolved = sum(1 for row in rows if row.resolved_at is not None)
    view.opened_per_day = [opened[d] for d in day_list]
    view.resolved_per_day = [resolved[d] for d in day_list]
    view.first_response_per_day = [_median(first_by_day[d]) for d in day_list]
    view.resolution_per_day = [_median(resolution_by_day[d]) for d in day_list]
    view.first_response_median_min = _median(all_first)
    view.resolution_median_h = _median(all_resolution)

    ratings = (await uow.session.execute(
        select(TicketEventRow.data_json).join(TicketRow, TicketRow.id == TicketEventRow.ticket_id)
        .where(*scope, TicketEventRow.kind == "feedback",
               TicketEventRow.created_at >= start, TicketEventRow.created_at < end))).scalars()
    for data in ratings:
        rating = json.loads(data or "{}").get("rating")
        if isinstance(rating, int) and 1 <= rating <= 5:
            view.csat[rating - 1] += 1

    tallies = await promise_report(uow, workspace_id, since=start)
    names = {}
    if by_owner:
        for person_id, name, external in (await uow.session.execute(
                select(PersonRow.id, PersonRow.display_name, PersonRow.external_id)
                .where(PersonRow.id.in_(by_owner)))).all():
            names[person_id] = name or external
    for person_id, agent in by_owner.items():
        agent.name = names.get(person_id, "?")
        agent.first_response_median_min = _median(owner_first[person_id])
    agents = {agent.name: agent for agent in by_owner.values()}
    for tally in tallies:
        if tally.owner == "all":
            view.promises_made = tally.made
            view.promises_kept = tally.kept
            view.promises_covered = tally.covered
            view.promises_late = tally.late + tally.missed - tally.covered
        elif tally.owner is not None:
            agent = agents.setdefault(tally.owner, AgentRow(tally.owner))
            agent.promises_made, agent.promises_kept = tally.made, tally.kept
            agent.promises_late = tally.late + tally.missed
    view.agents = sorted(agents.values(), key=lambda a: a.name.lower())

    open_rows = (await uow.session.execute(
        select(TicketRow.created_at).where(
            *scope, TicketRow.status.in_([s.value for s in ACTIVE_STATUSES])))).scalars()
    buckets = Counter()
    for created in open_rows:
        age = now - created
        for label, limit in BACKLOG_BUCKETS:
            if limit is None or age < limit:
                buckets[label] += 1
                break
    view.backlog = [(label, buckets[label]) for label, _ in BACKLOG_BUCKETS]
    view.channels = sorted(c for c in (await uow.session.execute(
        select(TicketRow.channel_id).where(TicketRow.workspace_id == workspace_id,
                                           TicketRow.channel_id.is_not(None))
        .distinct())).scalars() if c)[:200]
    return view
