"""What a dashboard page shows: the filters a person chose, turned into a
:class:`bot.reports.ReportFilter`, and the figures ``compute_figures`` gives for them.

The filters come from the page's query string and are checked here. An unknown period or
priority reads as its default (the pickers show which). A channel or team the workspace
does not have is *named* as unknown (:attr:`DashboardFilter.unknown`), and the pages show
no figures for it: reading it as "All" showed the whole desk's figures, and passing it on
showed zeros, under a picker saying "All" either way (issue 19, review finding 5). The
workspace never comes from the request: it is the signed session's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping, Protocol

from sqlalchemy import select

from bot.domain.calendar import BusinessCalendar
from bot.domain.sla import SlaPolicy
from bot.reports import Figures, Period, ReportFilter, compute_figures, period_for
from bot.storage.tables import TicketRow
from bot.storage.uow import UnitOfWork

PERIODS = tuple(period.value for period in Period)
DEFAULT_PERIOD = Period.THIRTY_DAYS.value
PRIORITIES = ("P1", "P2", "P3", "P4")
# The figures each page needs (compute_figures does only that work).
PAGE_PARTS = {
    "overview": frozenset({"counts", "durations", "days", "promises", "csat", "incidents"}),
    "promises": frozenset({"promises", "csat"}),
    "agents": frozenset({"agents"}),
    "backlog": frozenset({"backlog", "incidents"}),
}
# The channel picker lists at most this many intake paths.
MAX_CHANNELS = 200


class WorkspacePolicy(Protocol):
    """What the dashboard reads of a workspace's policy (the desk's DeskPolicy)."""

    calendar: BusinessCalendar
    sla: SlaPolicy


@dataclass(frozen=True)
class DashboardFilter:
    """The dashboard's filters, as the person chose them (validated).

    ``team`` is a team's name or "all"; :meth:`with_teams` checks it against the
    workspace's teams and gives ``team_id`` (and ``team_default``, the workspace's
    default team, which also has the tickets from before teams)."""

    period: str = DEFAULT_PERIOD
    team: str = "all"
    channel: str = ""
    priority: str = ""
    team_id: int | None = None
    team_default: bool = False
    # What the person asked for that the workspace does not have: ("channel", text) or
    # ("team", name). With any, a page shows no figures and says which.
    unknown: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> "DashboardFilter":
        """Filters from a query string: an unknown period or priority falls back to its
        default; a channel or team that cannot be one (too long, unprintable) is unknown."""
        period = query.get("period", DEFAULT_PERIOD)
        priority = query.get("priority", "").upper()
        channel = query.get("channel", "")
        team = query.get("team", "all").strip().lower() or "all"
        unknown = []
        if channel and not (len(channel) <= 64 and channel.isprintable()):
            unknown.append(("channel", _shown(channel)))
            channel = ""
        if not (len(team) <= 40 and team.isprintable()):
            unknown.append(("team", _shown(team)))
            team = "all"
        return cls(period=period if period in PERIODS else DEFAULT_PERIOD, team=team,
                   channel=channel, priority=priority if priority in PRIORITIES else "",
                   unknown=tuple(unknown))

    def with_teams(self, teams: Iterable[Any]) -> "DashboardFilter":
        """These filters with the team resolved among the workspace's ``teams``; a name
        that is none of them (another workspace's team included) is unknown."""
        if self.team == "all":
            return replace(self, team_id=None, team_default=False)
        team = next((t for t in teams if t.name == self.team), None)
        if team is None:
            return replace(self, team="all", team_id=None, team_default=False,
                           unknown=(*self.unknown, ("team", self.team)))
        return replace(self, team_id=team.id, team_default=bool(team.is_default))

    async def with_channel_checked(self, uow: UnitOfWork,
                                   workspace_id: int) -> "DashboardFilter":
        """These filters with the channel checked: one no ticket of ``workspace_id``
        came in through is unknown (one indexed probe)."""
        if not self.channel:
            return self
        found = (await uow.session.execute(
            select(TicketRow.id).where(TicketRow.workspace_id == workspace_id,
                                       TicketRow.channel_id == self.channel).limit(1)
        )).first()
        if found is not None:
            return self
        return replace(self, channel="", unknown=(*self.unknown, ("channel", self.channel)))

    def report_filter(self, workspace_id: int, now: datetime, zone: str) -> ReportFilter:
        """The reports' filter for these choices in ``workspace_id`` (days counted in the
        desk's time zone ``zone``). The team counts only once resolved by
        :meth:`with_teams`."""
        start, end = period_for(Period(self.period), now, zone)
        return ReportFilter(workspace_id, start, end, channel_id=self.channel or None,
                            priority=self.priority or None, team_id=self.team_id,
                            team_default=self.team_default)

    def query(self) -> dict[str, str]:
        """These filters as query parameters (for links between pages and downloads)."""
        found = {"period": self.period}
        if self.team_id is not None:
            found["team"] = self.team
        if self.channel:
            found["channel"] = self.channel
        if self.priority:
            found["priority"] = self.priority
        return found


def _shown(text: str) -> str:
    """What a page may quote of a value it refuses: printable, at most 64 characters."""
    printable = "".join(c if c.isprintable() else "?" for c in text)
    return printable if len(printable) <= 64 else printable[:63] + "…"


async def page_figures(uow: UnitOfWork, workspace_id: int, policy: WorkspacePolicy,
                       filters: DashboardFilter, now: datetime,
                       parts: frozenset[str]) -> Figures:
    """The figures of ``parts`` for ``workspace_id`` under ``filters`` at ``now``."""
    filt = filters.report_filter(workspace_id, now, policy.calendar.timezone)
    return await compute_figures(uow, filt, now, calendar=policy.calendar, sla=policy.sla,
                                 parts=parts)


async def intake_channels(uow: UnitOfWork, workspace_id: int) -> list[str]:
    """The channels tickets of this workspace were opened in, for the channel filter."""
    found = (await uow.session.execute(
        select(TicketRow.channel_id).where(TicketRow.workspace_id == workspace_id,
                                           TicketRow.channel_id.is_not(None))
        .distinct().limit(MAX_CHANNELS))).scalars()
    return sorted(channel for channel in found if channel)


def _hours(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 2)


def chart_data(figures: Figures) -> dict[str, Any]:
    """What the page's charts draw, as JSON for its script. Both durations per day are
    in hours of business time, so the two lines share one labelled axis (minutes beside
    hours drew a 6-hour resolution as a flat line at 0)."""
    return {
        "days": [row.day.isoformat() for row in figures.days],
        "opened": [row.opened for row in figures.days],
        "resolved": [row.resolved for row in figures.days],
        "firstResponse": [_hours(row.first_response_median) for row in figures.days],
        "resolution": [_hours(row.resolution_median) for row in figures.days],
        "promises": [figures.promises.kept, figures.promises.covered, figures.promises.late],
        "csat": [figures.csat.distribution.get(n, 0) for n in range(1, 6)],
        "backlog": [bucket.count for bucket in figures.backlog],
    }
