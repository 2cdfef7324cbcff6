"""The figures against a hand-built history with known answers, on both databases.

The desk opens Monday to Friday, 09:00-17:00 UTC. The period is Monday 30 November and
Tuesday 1 December 2026; ``now`` is Wednesday noon. Every expected figure below is
worked out by hand in the comments, not by the code under test.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import insert, text

from bot.domain.calendar import BusinessCalendar
from bot.domain.sla import SlaPolicy
from bot.reports import ReportFilter, compute_figures
from bot.reports.figures import BusinessClock, Durations, as_dict
from bot.storage.tables import (
    OutboxRow, PersonRow, PromiseRow, TicketEventRow, TicketRow, WorkspaceRow,
    report_outcomes_from_timeline,
)
from bot.storage.uow import Database

UTC = timezone.utc
CALENDAR = BusinessCalendar.weekdays(time(9), time(17), "UTC")
START = datetime(2026, 11, 30, tzinfo=UTC)      # Monday
END = datetime(2026, 12, 2, tzinfo=UTC)         # Wednesday 00:00
NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
H = 3600


def at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 12) -> datetime:
    """A UTC instant: ``at(1, 9)`` is Tuesday 1 December at 09:00; November days
    (27 Friday, 28 Saturday, 30 Monday) are given as ``month=11``."""
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def nov(day: int, hour: int, minute: int = 0) -> datetime:
    return at(day, hour, minute, month=11)


async def build_history(db: Database) -> dict[str, int]:
    """Six tickets, their timelines, promises and ratings; returns the people's ids."""
    async with db.unit_of_work() as uow:
        s = uow.session
        ws = (await s.execute(insert(WorkspaceRow).values(
            platform="slack", external_id="T1", name="Acme", settings_json="{}",
            next_ticket_number=7, created_at=nov(1, 9)).returning(WorkspaceRow.id))).scalar_one()
        other = (await s.execute(insert(WorkspaceRow).values(
            platform="slack", external_id="T2", name="Other", settings_json="{}",
            next_ticket_number=2, created_at=nov(1, 9)).returning(WorkspaceRow.id))).scalar_one()
        people = {}
        for name, role, where in (("sam", "agent", ws), ("ann", "agent", ws),
                                  ("rita", "requester", ws), ("zed", "requester", other)):
            people[name] = (await s.execute(insert(PersonRow).values(
                workspace_id=where, external_id=f"U{name}", display_name=name.title(),
                role=role, created_at=nov(1, 9)).returning(PersonRow.id))).scalar_one()
        sam, ann, rita = people["sam"], people["ann"], people["rita"]

        async def ticket(number, priority, owner, status, created, first=None, resolved=None,
                         closed=None, workspace=ws, requester=rita, channel="C-intake"):
            return (await s.execute(insert(TicketRow).values(
                workspace_id=workspace, number=number, requester_id=requester,
                owner_id=owner, status=status, priority=priority, subject=f"t{number}",
                first_message="help", channel_id=channel, created_at=created,
                updated_at=created, first_response_at=first, resolved_at=resolved,
                closed_at=closed).returning(TicketRow.id))).scalar_one()

        # T1: opened Friday 16:00, answered Monday 10:00 (1 h Friday + 1 h Monday = 2 h),
        # resolved Monday 15:00 (1 h + 6 h = 7 h), confirmed closed by the requester.
        t1 = await ticket(1, "P3", sam, "closed", nov(27, 16), nov(30, 10), nov(30, 15),
                          nov(30, 16))
        # T2: P1 opened Monday 09:00, answered 09:30 (30 min), resolved Tuesday 11:00,
        # reopened at 12:00, resolved again 14:00: 8 h Monday + 5 h Tuesday = 13 h.
        t2 = await ticket(2, "P1", sam, "resolved", nov(30, 9), nov(30, 9, 30), at(1, 14))
        # T3: opened Saturday noon, answered Monday 09:45: the weekend counts nothing, 45 min.
        await ticket(3, "P2", ann, "in_progress", nov(28, 12), nov(30, 9, 45))
        # T4: opened Tuesday 10:00, never answered, still open.
        t4 = await ticket(4, "P3", None, "open", at(1, 10))
        # T5: opened Monday 11:00, answered 12:00 (1 h), resolved 13:00 (2 h), closed 14:00.
        t5 = await ticket(5, "P3", ann, "closed", nov(30, 11), nov(30, 12), nov(30, 13),
                          nov(30, 14))
        # T6: opened Tuesday 09:00, the requester solved it with an article at 09:30.
        t6 = await ticket(6, "P3", None, "closed", at(1, 9), closed=at(1, 9, 30))
        # Another workspace's ticket, in the period: never counted.
        t9 = await ticket(1, "P1", None, "open", nov(30, 10), nov(30, 10, 5), workspace=other,
                          requester=people["zed"])

        def event(ticket_id, kind, when, body="", author=None, **data):
            return dict(ticket_id=ticket_id, kind=kind, author_id=author, body=body,
                        data_json=json.dumps(data), created_at=when)

        await s.execute(insert(TicketEventRow), [
            event(t1, "status", nov(30, 15), "resolved", sam, previous="in_progress"),
            event(t1, "status", nov(30, 16), "closed", rita, previous="resolved"),
            event(t1, "feedback", nov(30, 16, 5), "5", rita, rating=5, owner_id=sam),
            event(t2, "status", at(1, 11), "resolved", sam, previous="in_progress"),
            event(t2, "status", at(1, 12), "in_progress", rita, previous="resolved"),
            event(t2, "status", at(1, 14), "resolved", sam, previous="in_progress"),
            event(t5, "status", nov(30, 13), "resolved", ann, previous="in_progress"),
            event(t5, "status", nov(30, 14), "closed", rita, previous="resolved"),
            event(t5, "feedback", nov(30, 14, 5), "4", rita, rating=4, owner_id=ann),
            event(t5, "feedback", nov(30, 14, 6), "Quick, thanks", rita,
                  comment="Quick, thanks", owner_id=ann),
            event(t6, "self_solved", at(1, 9, 30), "", rita, article=1),
            event(t6, "status", at(1, 9, 30), "closed", rita, previous="open"),
            event(t9, "status", nov(30, 11), "resolved", None, previous="open"),
            event(t9, "feedback", nov(30, 12), "1", people["zed"], rating=1),
        ])
        # The report outcomes of those status lines, as the desk's timeline writes them
        # with each line (here all at once, as migration 0015 fills them).
        await s.execute(text(report_outcomes_from_timeline()))

        async def outbox(status, sent):
            return (await s.execute(insert(OutboxRow).values(
                workspace_id=ws, ticket_id=t4, platform="slack", payload_json="{}",
                status=status, due_at=sent or at(1, 15), created_at=at(1, 9), sent_at=sent)
                .returning(OutboxRow.id))).scalar_one()

        on_time = await outbox("sent", at(1, 11, 0, 30))    # 30 s after due: covered
        ten_late = await outbox("sent", at(1, 13, 10))      # 10 min after due: late
        dead = await outbox("dead", None)

        def promise(ticket_id, kind, owner, made, due, status, resolution=None,
                    resolved=None, cover=None, workspace=ws):
            return dict(workspace_id=workspace, ticket_id=ticket_id, kind=kind,
                        owner_id=owner, text="", made_at=made, due_at=due, status=status,
                        resolution=resolution, resolved_at=resolved, cover_outbox_id=cover,
                        misses_in_row=0, step=0, attempts=0)

        await s.execute(insert(PromiseRow), [
            # kept on time by Sam
            promise(t2, "first_response", sam, nov(30, 9), nov(30, 10), "kept", "person",
                    nov(30, 9, 30)),
            # kept 30 minutes late by Ann
            promise(t5, "first_response", ann, nov(30, 11), nov(30, 11, 30), "kept", "late",
                    nov(30, 12)),
            # lapsed; the bot's update went out 30 s after: covered on time
            promise(t4, "first_response", None, at(1, 10), at(1, 11), "missed", "bot",
                    at(1, 11), on_time),
            # lapsed; the bot's update went out 10 minutes late
            promise(t4, "follow_up", None, at(1, 11), at(1, 13), "missed", "bot",
                    at(1, 13), ten_late),
            # lapsed; the bot's update could not be delivered
            promise(t4, "follow_up", None, at(1, 13, 10), at(1, 15), "missed", "failed",
                    at(1, 15), dead),
            # not due yet
            promise(t4, "status_update", None, at(1, 15), at(2, 15), "pending"),
            # superseded: not counted
            promise(t2, "status_update", sam, nov(30, 10), nov(30, 12), "cancelled",
                    resolved=nov(30, 11)),
            # the desk waits on the requester: not a promise the desk can miss
            promise(t5, "awaiting_confirmation", ann, nov(30, 13), nov(30, 17), "kept",
                    "person", nov(30, 14)),
            # made before the period
            promise(t1, "first_response", sam, nov(27, 16), nov(30, 9), "kept", "late",
                    nov(30, 10)),
        ])
    return {**people, "ws": ws, "other": other}


async def figures_for(db, filt, **kwargs):
    async with db.reading() as uow:
        return await compute_figures(uow, filt, NOW, calendar=CALENDAR,
                                     sla=SlaPolicy.default(), **kwargs)


async def test_ticket_counts_and_business_time_across_a_weekend(history):
    db, ids = history
    f = await figures_for(db, ReportFilter(ids["ws"], START, END))
    # Resolved: T1, T5 and T2 (once, at its last resolution); closed: T1, T5, T6;
    # reopened: T2's "no, not yet".
    assert (f.opened, f.resolved, f.closed, f.reopened, f.self_solved) == (4, 3, 3, 1, 1)
    assert f.reopen_rate == 1 / 3
    # 30 min, 45 min (across the weekend), 1 h, 2 h (Friday 16:00 to Monday 10:00)
    assert f.first_response == Durations(4, timedelta(minutes=52, seconds=30),
                                         timedelta(hours=2))
    # 2 h, 7 h (across the weekend), 13 h (across a night)
    assert f.resolution == Durations(3, timedelta(hours=7), timedelta(hours=13))


async def test_sla_targets_met_per_priority(history):
    db, ids = history
    f = await figures_for(db, ReportFilter(ids["ws"], START, END))
    rows = {row.priority: (row.first_met, row.first_total, row.resolve_met, row.resolve_total)
            for row in f.sla}
    # P1: answered in 30 min of 1 h; resolved in 13 h of 4 h. P2: 45 min of 4 h.
    assert rows == {"P1": (1, 1, 0, 1), "P2": (1, 1, 0, 0), "P3": (2, 2, 2, 2),
                    "P4": (0, 0, 0, 0)}


async def test_promise_outcomes(history):
    db, ids = history
    p = (await figures_for(db, ReportFilter(ids["ws"], START, END))).promises
    assert (p.made, p.kept, p.covered, p.late, p.open) == (6, 1, 1, 3, 1)
    assert (p.kept_late, p.covered_late, p.undelivered) == (1, 1, 1)
    assert p.late_by_average == timedelta(minutes=20)  # 30 min and 10 min
    assert p.late_by_max == timedelta(minutes=30)
    assert p.on_time_share == 2 / 5


async def test_csat_backlog_and_days(history):
    db, ids = history
    f = await figures_for(db, ReportFilter(ids["ws"], START, END))
    assert f.csat.distribution == {1: 0, 2: 0, 3: 0, 4: 1, 5: 1}
    assert (f.csat.average, f.csat.response_rate, f.csat.comment_count) == (4.5, 1.0, 1)
    assert [c[:2] for c in f.csat.comments] == [(5, "Quick, thanks")]
    # At Wednesday noon: T4 is 26 h old, T3 (Saturday noon) four days.
    assert {b.label: b.count for b in f.backlog} == {
        "under_1d": 0, "1_3d": 1, "3_7d": 1, "7_30d": 0, "over_30d": 0}
    days = [(d.day.day, d.opened, d.first_responses, d.resolved) for d in f.days]
    assert days == [(30, 2, 4, 2), (1, 2, 0, 1)]
    assert f.days[0].first_response_median == timedelta(minutes=52, seconds=30)
    assert f.incidents.opened == 0


async def test_per_agent_rows(history):
    db, ids = history
    f = await figures_for(db, ReportFilter(ids["ws"], START, END))
    rows = {a.name: a for a in f.agents}
    assert sorted(rows) == ["Ann", "Sam"]
    sam, ann = rows["Sam"], rows["Ann"]
    assert (sam.first_responses, sam.resolved, sam.ratings, sam.csat_average) == (2, 2, 1, 5.0)
    assert sam.resolution.median == timedelta(hours=10)  # 7 h and 13 h
    assert (sam.promises.made, sam.promises.kept) == (1, 1)
    assert (ann.first_responses, ann.resolved, ann.csat_average) == (2, 1, 4.0)
    assert (ann.promises.made, ann.promises.kept_late) == (1, 1)


async def test_slices(history):
    db, ids = history
    by_sam = await figures_for(db, ReportFilter(ids["ws"], START, END, agent_id=ids["sam"]))
    assert (by_sam.opened, by_sam.resolved, by_sam.promises.made) == (1, 2, 1)
    assert by_sam.csat.responses == 1
    p3 = await figures_for(db, ReportFilter(ids["ws"], START, END, priority="P3"))
    assert (p3.opened, p3.first_response.count, p3.promises.made) == (3, 2, 5)
    elsewhere = await figures_for(db, ReportFilter(ids["ws"], START, END, channel_id="C-x"))
    assert (elsewhere.opened, elsewhere.promises.made, elsewhere.backlog_total) == (0, 0, 0)
    discord = await figures_for(db, ReportFilter(ids["ws"], START, END, platform="discord"))
    assert discord.opened == 0
    slack = await figures_for(db, ReportFilter(ids["ws"], START, END, platform="slack"))
    assert slack.opened == 4
    other = await figures_for(db, ReportFilter(ids["other"], START, END))
    assert (other.opened, other.csat.responses, other.reopened) == (1, 1, 0)


async def test_only_the_parts_asked_for(history):
    db, ids = history
    f = await figures_for(db, ReportFilter(ids["ws"], START, END), parts={"backlog"})
    assert f.backlog_total == 2
    assert (f.opened, f.promises.made, f.first_response.count) == (0, 0, 0)
    with pytest.raises(ValueError):
        await figures_for(db, ReportFilter(ids["ws"], START, END), parts={"nonsense"})
    assert as_dict(f)["backlog"]["3_7d"] == 1


def test_business_clock_matches_the_calendar():
    lo, hi = nov(20, 0), at(10, 0)
    clock = BusinessClock(CALENDAR, lo, hi)
    moments = [nov(27, 16), nov(28, 12), nov(30, 9), nov(30, 17), at(1, 8), at(1, 12, 30),
               at(4, 18), at(7, 9, 1)]
    for a in moments:
        for b in moments:
            expected = CALENDAR.business_time_between(a, b).total_seconds()
            assert clock.between(a, b) == expected, (a, b)
