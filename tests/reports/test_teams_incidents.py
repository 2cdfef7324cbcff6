"""The figures' team slice and incident figures, on the hand-built history of
tests/reports/test_figures.py with teams and incidents added, on both databases.

The workspace has two teams: ``it`` (the default) and ``hr``. T3 and T5 are HR's; T2,
T4 and T6 have team NULL (from before teams), which is the default team's; T1 is IT's
by id. The other workspace has a team ``hr`` of its own.

Incidents: INC-1 declared Monday 10:00 and still open, linked to T2, T4 (IT) and T3
(HR); INC-2 declared Friday 27 November (before the period), resolved Tuesday 16:00,
linked to T1; INC-3 declared Monday in the other workspace. Expected figures are worked
out by hand below.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import delete, insert, text, update

from bot.reports import ReportFilter, compute_figures
from bot.reports.export import figures_csv
from bot.reports.figures import as_dict
from bot.storage.tables import (
    IncidentRow, IncidentTicketRow, ReportOutcomeRow, TeamRow, TicketRow,
    report_outcomes_from_timeline,
)
from tests.reports.test_figures import CALENDAR, END, NOW, START, at, nov

UTC = timezone.utc


async def add_teams_and_incidents(db, ids) -> dict[str, int]:
    """Teams and incidents on top of the history; returns the teams' and tickets' ids."""
    async with db.unit_of_work() as uow:
        s = uow.session

        async def team(workspace, name, default):
            return (await s.execute(insert(TeamRow).values(
                workspace_id=workspace, name=name, is_default=default, settings_json="{}",
                created_at=nov(1, 9)).returning(TeamRow.id))).scalar_one()

        it = await team(ids["ws"], "it", True)
        hr = await team(ids["ws"], "hr", False)
        other_hr = await team(ids["other"], "hr", True)
        tickets = dict((await s.execute(
            TicketRow.__table__.select().with_only_columns(TicketRow.number, TicketRow.id)
            .where(TicketRow.workspace_id == ids["ws"]))).all())
        await s.execute(update(TicketRow).where(TicketRow.id.in_([tickets[3], tickets[5]]))
                        .values(team_id=hr))
        await s.execute(update(TicketRow).where(TicketRow.id == tickets[1]).values(team_id=it))
        other_ticket = (await s.execute(TicketRow.__table__.select()
                        .with_only_columns(TicketRow.id)
                        .where(TicketRow.workspace_id == ids["other"]))).scalar_one()
        await s.execute(update(TicketRow).where(TicketRow.id == other_ticket)
                        .values(team_id=other_hr))
        # The tickets had these teams all along: their report outcomes say so too.
        await s.execute(delete(ReportOutcomeRow))
        await s.execute(text(report_outcomes_from_timeline()))

        async def incident(workspace, number, title, declared, resolved=None):
            return (await s.execute(insert(IncidentRow).values(
                workspace_id=workspace, number=number, title=title, owner_id=ids["sam"],
                status="resolved" if resolved else "open", summary="", created_at=declared,
                updated_at=resolved or declared, resolved_at=resolved)
                .returning(IncidentRow.id))).scalar_one()

        inc1 = await incident(ids["ws"], 1, "VPN down <for everyone>", nov(30, 10))
        inc2 = await incident(ids["ws"], 2, "Printer queue", nov(27, 15), at(1, 16))
        inc3 = await incident(ids["other"], 1, "Mail", nov(30, 10))
        await s.execute(insert(IncidentTicketRow), [
            {"incident_id": inc1, "ticket_id": tickets[2], "linked_at": nov(30, 10)},
            {"incident_id": inc1, "ticket_id": tickets[4], "linked_at": at(1, 10)},
            {"incident_id": inc1, "ticket_id": tickets[3], "linked_at": nov(30, 10)},
            {"incident_id": inc2, "ticket_id": tickets[1], "linked_at": nov(27, 16)},
            {"incident_id": inc3, "ticket_id": other_ticket, "linked_at": nov(30, 10)},
        ])
    return {"it": it, "hr": hr, "other_hr": other_hr}


async def figures_for(db, filt):
    async with db.reading() as uow:
        return await compute_figures(uow, filt, NOW, calendar=CALENDAR)


async def test_the_team_slice_counts_each_teams_tickets(history):
    db, ids = history
    teams = await add_teams_and_incidents(db, ids)
    hr = await figures_for(db, ReportFilter(ids["ws"], START, END, team_id=teams["hr"]))
    # Opened in the period: T5 only (T3 was opened on Saturday, before it).
    assert (hr.opened, hr.resolved, hr.closed) == (1, 1, 1)
    assert hr.first_response.count == 2          # T3 (45 min) and T5 (1 h)
    assert (hr.promises.made, hr.promises.kept_late) == (1, 1)   # Ann's on T5
    assert hr.csat.distribution[4] == 1 and hr.csat.responses == 1
    assert hr.backlog_total == 1                 # T3
    it = await figures_for(db, ReportFilter(ids["ws"], START, END, team_id=teams["it"],
                                            team_default=True))
    # T2, T4, T6 (team NULL: the default team's); T1 was opened before the period.
    assert (it.opened, it.resolved, it.closed, it.reopened, it.self_solved) == (3, 2, 2, 1, 1)
    assert it.promises.made == 5                 # T2's and T4's four
    assert it.backlog_total == 1                 # T4
    # The same team id not marked default leaves out the tickets from before teams.
    it_only = await figures_for(db, ReportFilter(ids["ws"], START, END, team_id=teams["it"]))
    assert (it_only.opened, it_only.resolved, it_only.promises.made) == (0, 1, 0)
    # Another workspace's team matches nothing here.
    stray = await figures_for(db, ReportFilter(ids["ws"], START, END,
                                               team_id=teams["other_hr"]))
    assert (stray.opened, stray.promises.made, stray.backlog_total) == (0, 0, 0)
    assert as_dict(it)["filter"]["team_id"] == teams["it"]


async def test_incident_figures(history):
    db, ids = history
    teams = await add_teams_and_incidents(db, ids)
    everyone = (await figures_for(db, ReportFilter(ids["ws"], START, END))).incidents
    # Declared in the period: INC-1 (with T2, T4, T3); resolved in it: INC-2; open: INC-1.
    assert (everyone.opened, everyone.resolved, everyone.open_now,
            everyone.linked_tickets) == (1, 1, 1, 3)
    assert [(o.number, o.title, o.linked_tickets) for o in everyone.open] == [
        (1, "VPN down <for everyone>", 3)]
    assert everyone.open[0].created_at == nov(30, 10)
    hr = (await figures_for(db, ReportFilter(ids["ws"], START, END,
                                             team_id=teams["hr"]))).incidents
    assert (hr.opened, hr.resolved, hr.open_now, hr.linked_tickets) == (1, 0, 1, 1)
    assert [o.linked_tickets for o in hr.open] == [1]
    it = (await figures_for(db, ReportFilter(ids["ws"], START, END, team_id=teams["it"],
                                             team_default=True))).incidents
    assert (it.opened, it.resolved, it.open_now, it.linked_tickets) == (1, 1, 1, 2)
    p1 = (await figures_for(db, ReportFilter(ids["ws"], START, END, priority="P1"))).incidents
    assert (p1.opened, p1.linked_tickets, p1.resolved) == (1, 1, 0)  # T2 only
    other = (await figures_for(db, ReportFilter(ids["other"], START, END))).incidents
    assert (other.opened, other.open_now, other.linked_tickets) == (1, 1, 1)
    # The week before: INC-2 was declared in it, with T1.
    earlier = (await figures_for(db, ReportFilter(ids["ws"], nov(23, 0), nov(28, 0))))
    assert (earlier.incidents.opened, earlier.incidents.linked_tickets) == (1, 1)


async def test_incidents_in_the_figures_csv(history):
    db, ids = history
    await add_teams_and_incidents(db, ids)
    text = figures_csv(await figures_for(db, ReportFilter(ids["ws"], START, END)))
    assert "incidents,all,opened,1" in text
    assert "incident,INC-1,linked_tickets,3" in text


def test_a_filter_needs_aware_times():
    # (guards the new fields did not loosen the checks)
    try:
        ReportFilter(1, datetime(2026, 1, 1), datetime(2026, 1, 2, tzinfo=UTC), team_id=1)
    except ValueError:
        return
    raise AssertionError("a naive start was accepted")
