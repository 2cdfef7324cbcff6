"""The promise ledger, end to end in-process: no promise passes silently, none is covered twice.

Every test drives the whole desk (router, handlers, sweeper, outbox) through
:class:`DeskHarness` and reads what the requester, the owner and the lead were told.
The clock is pinned to a known instant (a Monday 10:00 UTC unless a test says
otherwise) so business hours, weekday names and lateness are the same on every run;
it still ticks in real time, so instants are compared with a small tolerance where
the code under test reads the clock itself. A promise is due at the minute the desk
stated (rounded up), so due times are compared as those minutes (``stated``), the way
a person reads them. Expected instants are worked out by hand in the tests, never with
the calendar code under test.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Self

import pytest
from sqlalchemy import select

from bot.domain.calendar import BusinessCalendar
from bot.domain.promises import PromiseKind
from bot.domain.sla import SlaPolicy, SlaTarget
from bot.storage.tables import PromiseRow, TicketRow, WorkspaceRow
from tests.support.harness import WORKSPACE, DeskHarness, stated
from tests.support.recording import Sent


def minute_of(moment: datetime) -> datetime:
    """The minute ``moment`` happened in: a cover counts its next time from there."""
    return moment.replace(second=0, microsecond=0)

# A Monday, inside the default desk hours (Mon-Fri 09:00-17:00 UTC).
MONDAY_10 = datetime(2027, 1, 4, 10, 0, tzinfo=UTC)


def pin(desk: DeskHarness, moment: datetime) -> None:
    """Set the desk's clock so that it reads ``moment`` now (it keeps ticking from there)."""
    desk.clock.offset = moment - datetime.now(UTC)


class RestartedDesk(DeskHarness):
    """The same desk started again on the same database after being down.

    Unlike :class:`DeskHarness` it keeps the schema and every row, and its clock starts
    at ``offset`` (the old clock's offset plus however long the process was down).
    Its event ids start high so they never collide with the first run's recorded ids.
    """

    def __init__(self, url: str, *, offset: timedelta, **kw) -> None:
        super().__init__(url, **kw)
        self.clock.offset = offset
        self._ids = itertools.count(10_000)

    async def __aenter__(self) -> Self:
        await self.adapter.start(self.router)
        return self


async def open_claimed_ticket(desk: DeskHarness, *, lead: bool = True) -> str:
    """Alex (an agent) claims ticket #1 that Ann opened by DM; Lee is a lead when
    ``lead``. Returns the requester's thread id."""
    await desk.command("boss", "helpdesk agents add alex")
    if lead:
        await desk.command("boss", "helpdesk leads add lee")
    opened = await desk.dm("ann", "My VPN drops every few minutes")
    await desk.command("alex", "ticket claim 1")
    return opened.message_id


def in_thread(desk: DeskHarness, thread: str, since: int = 0) -> list[Sent]:
    """Messages the desk posted in the requester's thread, from index ``since`` on."""
    return [s for s in desk.adapter.sent[since:]
            if s.message.thread_id == thread and s.message.ephemeral_to is None]


def dms(desk: DeskHarness, user: str, since: int = 0) -> list[Sent]:
    """Direct messages the desk sent to ``user`` (reminders, warnings, escalations)."""
    return [s for s in desk.adapter.sent[since:] if s.message.direct_to == user]


def lapse_updates(messages: list[Sent]) -> list[Sent]:
    """The bot's own updates covering a lapsed promise (as opposed to relayed replies)."""
    return [s for s in messages
            if s.text.startswith(("An update on", "Another update on", "Sorry", "A quick update",
                                  "Sorry for the"))]


async def promises(desk: DeskHarness, kind: PromiseKind | None = None) -> list[PromiseRow]:
    """Promise rows, oldest first, optionally of one kind."""
    query = select(PromiseRow).order_by(PromiseRow.id)
    if kind is not None:
        query = query.where(PromiseRow.kind == kind.value)
    async with desk.db.unit_of_work() as uow:
        return list((await uow.session.execute(query)).scalars())


async def workspace_id(desk: DeskHarness) -> int:
    """The id of the harness's workspace (created by the first event)."""
    async with desk.db.unit_of_work() as uow:
        return (await uow.session.execute(
            select(WorkspaceRow.id).where(WorkspaceRow.external_id == WORKSPACE))).scalar_one()


async def save_settings(desk: DeskHarness, settings: dict) -> None:
    """Store the workspace's own policy (what the admin commands will write)."""
    ws = await workspace_id(desk)
    async with desk.db.unit_of_work() as uow:
        await uow.workspaces.save_settings(ws, settings)


async def advance_to(desk: DeskHarness, moment: datetime) -> None:
    """Let time pass until the desk's clock reads ``moment``, then settle."""
    await desk.advance(max(moment - desk.clock.now(), timedelta(0)))


# -- promises that fell due while the desk was down ----------------------------------


async def test_promises_due_while_down_are_covered_once_at_start_and_own_the_lateness(db_url):
    async with DeskHarness(db_url) as desk:
        pin(desk, MONDAY_10)
        thread = await open_claimed_ticket(desk)
        await desk.command("alex", "ticket followup 1 30m")
        offset = desk.clock.offset
        assert lapse_updates(in_thread(desk, thread)) == []  # not due before the "crash"

    # The process was down for three hours; the follow-up fell due 2.5 hours ago.
    async with RestartedDesk(db_url, offset=offset + timedelta(hours=3)) as restarted:
        await restarted.settle()
        [update] = in_thread(restarted, thread)
        assert update.text.startswith("Sorry, this update on #1 is late")
        assert "we said we'd update you by today at 10:31 UTC" in update.text
        [reminder] = dms(restarted, "alex")
        assert reminder.text.startswith("Reminder: #1 for Ann had a promised follow-up")
        assert len(restarted.adapter.sent) == 2  # nothing else was owed

        await restarted.settle()
        assert len(restarted.adapter.sent) == 2  # a second sweep delivers nothing new

        [missed, follow_on] = await promises(restarted, PromiseKind.FOLLOW_UP)
        assert (missed.status, missed.resolution) == ("missed", "bot")
        assert missed.cover_outbox_id is not None
        assert follow_on.status == "pending" and follow_on.parent_id == missed.id
        assert update.idempotency_key == f"hd-{missed.cover_outbox_id}"
        restart_offset = restarted.clock.offset

    # And another restart later the same day owes nothing more.
    async with RestartedDesk(db_url, offset=restart_offset + timedelta(minutes=10)) as again:
        await again.settle()
        assert again.adapter.sent == []


# -- one lapse, one update; repeated misses escalate --------------------------------


async def test_a_missed_followup_gives_one_update_until_the_new_time_then_escalates(db_url):
    async with DeskHarness(db_url) as desk:
        pin(desk, MONDAY_10)
        thread = await open_claimed_ticket(desk)
        await desk.command("alex", "ticket followup 1 5m")
        mark = len(desk.adapter.sent)

        for minutes in (6, 12, 18):
            await advance_to(desk, MONDAY_10 + timedelta(minutes=minutes))
            updates = lapse_updates(in_thread(desk, thread, mark))
            assert len(updates) == 1, f"{len(updates)} updates after {minutes} minutes"
        assert updates[0].text.startswith("An update on #1: we said we'd update you by")
        assert "You'll get an update by tomorrow at 10:06 UTC" in updates[0].text
        assert dms(desk, "lee") == []  # one miss of a P3 is not an escalation

        [missed, follow_on] = await promises(desk, PromiseKind.FOLLOW_UP)
        assert missed.status == "missed" and follow_on.status == "pending"
        assert follow_on.misses_in_row == 1
        # 8 business hours (P3 updates) from 10:06 on Monday is 10:06 on Tuesday, far
        # more than the 5 minutes that were missed; counted from the minute the cover ran
        # in, so it keeps the minute (no drift to 10:07 from the cover's seconds).
        assert follow_on.due_at == minute_of(missed.resolved_at) + timedelta(days=1)

        await advance_to(desk, follow_on.due_at - timedelta(minutes=1))
        assert len(lapse_updates(in_thread(desk, thread, mark))) == 1
        await advance_to(desk, follow_on.due_at + timedelta(minutes=1))
        second = lapse_updates(in_thread(desk, thread, mark))
        assert len(second) == 2
        [escalation] = dms(desk, "lee")
        assert escalation.text.startswith("Escalation: #1 from Ann has missed its promised "
                                          "follow-up 2 times in a row (priority P3, owner Alex)")


async def test_the_new_time_is_never_sooner_than_the_missed_promises_length(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        pin(desk, MONDAY_10)
        await desk.command("boss", "helpdesk agents add alex")
        # A desk whose P3 update interval is one minute: only the length rule stops a
        # missed 30-minute promise from turning into an update every minute.
        sla = SlaPolicy.default().with_target(
            "P3", SlaTarget(timedelta(hours=8), timedelta(minutes=1), timedelta(hours=48)))
        await save_settings(desk, {"sla": sla.to_dict()})
        opened = await desk.dm("ann", "Outlook will not start")
        await desk.command("alex", "ticket claim 1")
        await desk.command("alex", "ticket followup 1 30m")
        mark = len(desk.adapter.sent)

        await advance_to(desk, MONDAY_10 + timedelta(minutes=31))
        [missed, follow_on] = await promises(desk, PromiseKind.FOLLOW_UP)
        # As long as the missed promise ran (made just after 10:00, due at the stated
        # 10:31), from the moment it lapsed.
        assert missed.due_at == MONDAY_10 + timedelta(minutes=31)
        ran = missed.due_at - missed.made_at
        assert timedelta(minutes=30) < ran < timedelta(minutes=31)
        # (To the whole minute, from the minute the cover ran in.)
        assert follow_on.due_at == minute_of(missed.resolved_at) + timedelta(minutes=30)
        for minutes in (33, 40, 55):
            await advance_to(desk, MONDAY_10 + timedelta(minutes=minutes))
            assert len(lapse_updates(in_thread(desk, opened.message_id, mark))) == 1
        await advance_to(desk, follow_on.due_at + timedelta(seconds=30))
        assert len(lapse_updates(in_thread(desk, opened.message_id, mark))) == 2


async def test_a_p1_ticket_escalates_at_the_first_miss(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        pin(desk, MONDAY_10)
        thread = await open_claimed_ticket(desk)
        async with desk.db.unit_of_work() as uow:
            ticket = (await uow.session.execute(select(TicketRow))).scalar_one()
            await uow.tickets.update(ticket.id, priority="P1")
        await desk.command("alex", "ticket followup 1 5m")

        await advance_to(desk, MONDAY_10 + timedelta(minutes=6))
        assert len(lapse_updates(in_thread(desk, thread))) == 1
        [escalation] = dms(desk, "lee")
        assert "missed its promised follow-up once (priority P1" in escalation.text
        [missed, follow_on] = await promises(desk, PromiseKind.FOLLOW_UP)
        # P1 updates are hourly (business time, and Monday 10:06 is inside hours).
        assert follow_on.due_at == minute_of(missed.resolved_at) + timedelta(hours=1)


async def test_nothing_is_said_before_the_minute_the_desk_stated(db_url):
    # A follow-up asked for at 10:00:20 is exactly due at 10:05:20, and the desk says
    # "by 10:06": neither the apology nor the owner's reminder may come before 10:06,
    # and the heads-up comes before it.
    async with DeskHarness(db_url) as desk:
        pin(desk, MONDAY_10)
        thread = await open_claimed_ticket(desk)
        pin(desk, MONDAY_10 + timedelta(seconds=20))
        await desk.command("alex", "ticket followup 1 5m")
        [said] = in_thread(desk, thread)[-1:]
        assert "today at 10:06 UTC" in said.text
        [followup] = await promises(desk, PromiseKind.FOLLOW_UP)
        assert followup.due_at == MONDAY_10 + timedelta(minutes=6)
        assert followup.warn_at is not None and followup.warn_at <= followup.due_at
        mark = len(desk.adapter.sent)

        await advance_to(desk, MONDAY_10 + timedelta(minutes=5, seconds=40))
        assert lapse_updates(in_thread(desk, thread, mark)) == []
        assert [s for s in dms(desk, "alex", mark) if s.text.startswith("Reminder")] == []
        assert [s for s in dms(desk, "alex", mark) if s.text.startswith("Heads-up")] != []
        await advance_to(desk, MONDAY_10 + timedelta(minutes=6, seconds=1))
        [update] = lapse_updates(in_thread(desk, thread, mark))
        assert "we said we'd update you by today at 10:06 UTC" in update.text


async def test_an_escalation_with_no_leads_tells_the_admins_and_the_owner_once(db_url):
    # A P3 follow-up missed twice calls for a lead; the desk has none. The admin (boss)
    # and the owner (Alex) hear it once, with how to add one; the requester is never
    # told a lead was asked, and the timeline does not say "escalated".
    async with DeskHarness(db_url) as desk:
        pin(desk, MONDAY_10)
        thread = await open_claimed_ticket(desk, lead=False)
        await desk.command("alex", "ticket followup 1 5m")
        mark = len(desk.adapter.sent)

        def no_lead_notes(user: str) -> list[Sent]:
            return [s for s in dms(desk, user, mark) if "the desk has no leads" in s.text]

        await advance_to(desk, MONDAY_10 + timedelta(minutes=7))
        assert no_lead_notes("boss") == [] and no_lead_notes("alex") == []  # one miss
        [_, follow_on] = await promises(desk, PromiseKind.FOLLOW_UP)
        await advance_to(desk, follow_on.due_at + timedelta(minutes=1))
        [to_admin] = no_lead_notes("boss")
        assert to_admin.text == (
            "#1 from Ann has missed its promised follow-up 2 times in a row (priority P3, "
            "owner Alex), so I'd have asked a lead to look at it, but the desk has no leads "
            "and nobody was asked. Add one with `/helpdesk leads add <person>`.")
        [to_owner] = no_lead_notes("alex")
        assert to_owner.text.endswith("but the desk has no leads. I've told the admins; "
                                      "it's still yours.")
        # A third miss in the same run says nothing more to them.
        [*_, third] = await promises(desk, PromiseKind.FOLLOW_UP)
        await advance_to(desk, third.due_at + timedelta(minutes=1))
        assert len(lapse_updates(in_thread(desk, thread, mark))) == 3
        assert len(no_lead_notes("boss")) == 1 and len(no_lead_notes("alex")) == 1
        assert not any("lead" in s.text for s in in_thread(desk, thread))

        shown = len(desk.adapter.sent)
        await desk.command("ann", "ticket show 1")
        assert "escalated" not in desk.adapter.sent[shown].text
        shown = len(desk.adapter.sent)
        await desk.command("alex", "ticket show 1")
        assert "escalated" not in desk.adapter.sent[shown].text
        assert ("the desk would have asked a lead (promised follow-up missed 2 times in a "
                "row), but the desk had none") in desk.adapter.sent[shown].text


async def test_a_p1_miss_with_no_leads_tells_the_admins_at_once(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        pin(desk, MONDAY_10)
        await open_claimed_ticket(desk, lead=False)
        async with desk.db.unit_of_work() as uow:
            ticket = (await uow.session.execute(select(TicketRow))).scalar_one()
            await uow.tickets.update(ticket.id, priority="P1")
        await desk.command("alex", "ticket followup 1 5m")
        await advance_to(desk, MONDAY_10 + timedelta(minutes=7))
        [to_admin] = [s for s in dms(desk, "boss") if "the desk has no leads" in s.text]
        assert to_admin.text.startswith("#1 from Ann has missed its promised follow-up once "
                                        "(priority P1, owner Alex)")


# -- people keeping their word --------------------------------------------------------


async def test_a_promise_kept_in_time_means_no_bot_update(db_url):
    async with DeskHarness(db_url) as desk:
        pin(desk, MONDAY_10)
        thread = await open_claimed_ticket(desk)
        await desk.command("alex", "ticket followup 1 30m")
        await advance_to(desk, MONDAY_10 + timedelta(minutes=10))
        mark = len(desk.adapter.sent)
        await desk.command("alex", "ticket reply 1 Found it: the VPN client needs an update")

        await advance_to(desk, MONDAY_10 + timedelta(minutes=45))
        [reply] = in_thread(desk, thread, mark)
        assert reply.text.startswith("Alex: Found it")
        assert dms(desk, "alex", mark) == []  # no reminder either
        [followup] = await promises(desk, PromiseKind.FOLLOW_UP)
        assert (followup.status, followup.resolution) == ("kept", "person")


async def test_a_promise_kept_after_its_due_time_but_before_the_sweep_is_kept_late(db_url):
    async with DeskHarness(db_url) as desk:
        pin(desk, MONDAY_10)
        thread = await open_claimed_ticket(desk)
        await desk.command("alex", "ticket followup 1 30m")
        mark = len(desk.adapter.sent)
        desk.clock.advance(timedelta(minutes=31))  # due, but no sweep has run yet
        await desk.command("alex", "ticket reply 1 Sorry, took longer: it's fixed now")

        await desk.settle()
        [reply] = in_thread(desk, thread, mark)
        assert reply.text.startswith("Alex: Sorry, took longer")
        assert lapse_updates(in_thread(desk, thread, mark)) == []
        assert dms(desk, "alex", mark) == []
        [followup] = await promises(desk, PromiseKind.FOLLOW_UP)
        assert (followup.status, followup.resolution) == ("kept", "late")
        assert followup.cover_outbox_id is None


async def test_the_owner_is_warned_once_at_three_quarters_of_a_followup(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        pin(desk, MONDAY_10)
        await open_claimed_ticket(desk)
        await desk.command("alex", "ticket followup 1 40m")  # 75% of 40 minutes is 30

        def warnings() -> list[Sent]:
            return [s for s in dms(desk, "alex") if s.text.startswith("Heads-up: #1")]

        await advance_to(desk, MONDAY_10 + timedelta(minutes=29))
        assert warnings() == []
        await advance_to(desk, MONDAY_10 + timedelta(minutes=31))
        [warning] = warnings()
        assert "promised follow-up due today at 10:41 UTC" in warning.text
        for minutes in (33, 36, 39, 42):  # later sweeps, before and after the due time
            await advance_to(desk, MONDAY_10 + timedelta(minutes=minutes))
        assert len(warnings()) == 1
        [followup, _follow_on] = await promises(desk, PromiseKind.FOLLOW_UP)
        assert followup.warned_at is not None and followup.status == "missed"


async def test_an_owners_warnings_due_in_one_sweep_come_as_one_heads_up(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        pin(desk, MONDAY_10)
        await open_claimed_ticket(desk)
        await desk.dm("bob", "The printer on floor 3 jams")
        await desk.dm("cat", "I cannot open the shared drive")
        for number in (2, 3):
            await desk.command("alex", f"ticket claim {number}")
        for number in (1, 2, 3):
            await desk.command("alex", f"ticket followup {number} 40m")
        mark = len(desk.adapter.sent)

        await advance_to(desk, MONDAY_10 + timedelta(minutes=31))  # all three at 75%
        [heads_up] = [s for s in dms(desk, "alex", mark) if s.text.startswith("Heads-up")]
        lines = heads_up.text.splitlines()
        assert lines[0].startswith("Heads-up: 3 of your tickets have a promised time coming up")
        assert sorted(line.split(" for ")[0] for line in lines[1:]) == ["• #1", "• #2", "• #3"]
        assert all("promised follow-up due today at 10:4" in line for line in lines[1:])
        for minutes in (33, 36):  # nothing is warned twice
            await advance_to(desk, MONDAY_10 + timedelta(minutes=minutes))
        assert [s for s in dms(desk, "alex", mark) if s.text.startswith("Heads-up")] == [heads_up]


# -- waiting on the requester ----------------------------------------------------------


@pytest.mark.parametrize(
    "kind, status, close_after, reminder_start, buttons, closed_text",
    [
        # confirmation: closes 16 business hours after the reminder (Mon 10:00 -> Wed 10:00)
        (PromiseKind.AWAITING_CONFIRMATION, "resolved", timedelta(days=2),
         "Has #1 been solved for you?", ("Yes, it's solved", "No, not yet"),
         "We've closed #1 as solved, as we said we would"),
        # waiting on a reply: closes 24 business hours after the nudge (-> Thu 10:00)
        (PromiseKind.AWAITING_REQUESTER, "waiting_requester", timedelta(days=3),
         "Just checking in on #1", (), "We've closed #1 since we haven't heard back."),
    ],
    ids=["awaiting-confirmation", "awaiting-requester"],
)
async def test_a_wait_on_the_requester_reminds_then_closes_at_the_announced_time(
        db_url, kind, status, close_after, reminder_start, buttons, closed_text):
    async with DeskHarness(db_url) as desk:
        pin(desk, MONDAY_10)
        thread = await open_claimed_ticket(desk, lead=False)
        # No command puts a ticket on hold or resolves it yet: do what they will do.
        async with desk.db.unit_of_work() as uow:
            ticket = (await uow.session.execute(select(TicketRow))).scalar_one()
            now = desk.clock.now()
            await uow.tickets.update(ticket.id, status=status, resolved_at=now)
            await uow.promises.cancel(ticket.id, now)
            # Due at the stated 10:00, which has just passed.
            await uow.promises.make(ticket.workspace_id, ticket.id, kind, MONDAY_10,
                                    now - timedelta(hours=8), owner_id=ticket.owner_id)
        mark = len(desk.adapter.sent)

        await desk.settle()
        [reminder] = in_thread(desk, thread, mark)
        assert reminder.text.startswith(reminder_start)
        assert tuple(b.label for b in reminder.message.buttons) == buttons
        [first, close] = await promises(desk, kind)
        assert first.status == "missed" and (close.status, close.step) == ("pending", 1)
        # Due at the minute announced: the close time counted from the reminder.
        assert close.due_at == stated(minute_of(first.resolved_at) + close_after)
        shown = close.due_at
        assert f"we'll close it {shown:%A} at {shown:%H:%M} UTC" in reminder.text

        await advance_to(desk, close.due_at - timedelta(minutes=1))
        assert in_thread(desk, thread, mark) == [reminder]
        await advance_to(desk, close.due_at + timedelta(seconds=1))
        [_, closed] = in_thread(desk, thread, mark)
        assert closed.text.startswith(closed_text)
        async with desk.db.unit_of_work() as uow:
            ticket = (await uow.session.execute(select(TicketRow))).scalar_one()
        assert ticket.status == "closed" and ticket.closed_at is not None
        assert [p.status for p in await promises(desk, kind)] == ["missed", "missed"]
        await desk.settle()
        assert len(in_thread(desk, thread, mark)) == 2


# -- business time across weekends, holidays, time zones and DST -----------------------


@pytest.mark.parametrize(
    "zone, friday_1630_utc, holiday, expected_utc",
    [
        # London changes from GMT (UTC+0) to BST (UTC+1) on Sunday 28 March 2027.
        # Friday 16:30 GMT + 30 min to close + 7.5 h from Monday 09:00 BST = 16:30 BST.
        ("Europe/London", datetime(2027, 3, 26, 16, 30, tzinfo=UTC), None,
         datetime(2027, 3, 29, 15, 30, tzinfo=UTC)),
        # ... and with Monday 29 March a holiday, Tuesday 16:30 BST.
        ("Europe/London", datetime(2027, 3, 26, 16, 30, tzinfo=UTC), date(2027, 3, 29),
         datetime(2027, 3, 30, 15, 30, tzinfo=UTC)),
        # New York changes from EST (UTC-5) to EDT (UTC-4) on Sunday 14 March 2027.
        # Friday 16:30 EST is 21:30 UTC; Monday 16:30 EDT is 20:30 UTC.
        ("America/New_York", datetime(2027, 3, 12, 21, 30, tzinfo=UTC), None,
         datetime(2027, 3, 15, 20, 30, tzinfo=UTC)),
        ("America/New_York", datetime(2027, 3, 12, 21, 30, tzinfo=UTC), date(2027, 3, 15),
         datetime(2027, 3, 16, 20, 30, tzinfo=UTC)),
    ],
    ids=["london-dst", "london-dst-holiday", "new-york-dst", "new-york-dst-holiday"],
)
async def test_an_update_cadence_set_on_friday_afternoon_falls_due_on_the_next_business_day(
        sqlite_url, zone, friday_1630_utc, holiday, expected_utc):
    async with DeskHarness(sqlite_url) as desk:
        pin(desk, friday_1630_utc - timedelta(minutes=1))
        await desk.command("boss", "helpdesk agents add alex")
        calendar = BusinessCalendar.from_spec("mon-fri", "09:00-17:00", zone,
                                              holidays=[holiday] if holiday else [])
        await save_settings(desk, {"calendar": calendar.to_dict()})
        opened = await desk.dm("ann", "Need access to the finance share")
        # Claimed a moment after 16:29:30: due a moment after 16:29:30 on the next
        # business day, which is said (and recorded) as 16:30.
        pin(desk, friday_1630_utc - timedelta(seconds=30))
        await desk.command("alex", "ticket claim 1")  # P3: an update every 8 business hours

        [cadence] = await promises(desk, PromiseKind.STATUS_UPDATE)
        assert cadence.due_at == expected_utc

        await advance_to(desk, expected_utc - timedelta(minutes=1))
        assert lapse_updates(in_thread(desk, opened.message_id)) == []
        await advance_to(desk, expected_utc + timedelta(minutes=1))
        [update] = lapse_updates(in_thread(desk, opened.message_id))
        assert update.text.startswith("A quick update on #1: there's no news yet, and it's still with Alex.")
