"""The weekly digest as people see it: switched on by an admin in the middle of a
week, posted once to the triage channel at Monday's opening after a quiet weekend,
promised again for the next Monday in the ledger, and switched off so nothing more
is said. With several teams, each team's digest goes to its own triage channel on its
own calendar. On both databases.

The desk opens Mon-Fri 09:00-17:00 UTC. Wednesday 5 June 2030 10:00 is when the admin
switches the digest on; Monday 10 June is the first digest.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from bot.storage.tables import PromiseRow
from tests.flows.story import TRIAGE, FlowDesk, live

UTC = timezone.utc
WEDNESDAY = datetime(2030, 6, 5, 10, 0, tzinfo=UTC)
MONDAY_0900 = datetime(2030, 6, 10, 9, 0, tzinfo=UTC)
HR_TRIAGE = "C-hr-triage"


async def digest_promises(desk: FlowDesk) -> list[tuple[str, datetime, str, str | None]]:
    """Every digest promise: (team text, due, status, resolution), oldest first."""
    async with desk.db.reading() as uow:
        rows = (await uow.session.execute(
            select(PromiseRow.text, PromiseRow.due_at, PromiseRow.status, PromiseRow.resolution)
            .where(PromiseRow.kind == "weekly_digest").order_by(PromiseRow.id))).all()
    return [tuple(row) for row in rows]


def digests(heard) -> list[tuple[datetime, str, str]]:
    return [(when, sent.message.channel_id, sent.text) for when, sent in heard
            if "did last week" in sent.text]


async def a_week_of_work(desk: FlowDesk) -> None:
    """One ticket opened Wednesday, answered and resolved the same day, confirmed."""
    await desk.dm("ann", "The VPN drops every few minutes")
    await desk.advance(timedelta(minutes=20))
    await desk.command("sam", "ticket claim 1")
    await desk.command("sam", "ticket reply 1 Try the new profile, please")
    await desk.advance(timedelta(hours=1))
    await desk.command("sam", "ticket resolve 1 New VPN profile")


async def test_the_digest_goes_to_triage_at_mondays_opening_and_stops_when_switched_off(db_url):
    async with FlowDesk(db_url, start=WEDNESDAY) as desk:
        await desk.staffed(leads=("lee",))
        await desk.command("boss", "helpdesk digest")
        assert desk.last().text == (
            "The weekly digest is off. `/helpdesk digest on` posts last week's figures to the "
            "triage channel every Monday at opening.")
        await desk.command("lee", "helpdesk digest on")
        assert desk.last().text != "" and "Done" not in desk.last().text  # leads may not
        await desk.command("boss", "helpdesk digest on")
        assert desk.last().text == (
            "Done: the weekly digest is on. The first one goes to <#C-triage> Monday at "
            "09:00 UTC, with last week's figures.")
        assert desk.last().message.ephemeral_to == "boss"
        # Switching it on twice promises it once.
        await desk.command("boss", "helpdesk digest on")
        assert [p[1:3] for p in await digest_promises(desk)] == [(MONDAY_0900, "pending")]

        await a_week_of_work(desk)
        # Through Friday, the weekend and Monday's opening: the digest, once, at 09:00.
        heard = await live(desk, MONDAY_0900, timedelta(hours=1))
        heard += await live(desk, MONDAY_0900 + timedelta(hours=1), timedelta(hours=1))
        posted = digests(heard)
        assert len(posted) == 1, posted
        when, channel, text = posted[0]
        assert (when, channel) == (MONDAY_0900, TRIAGE)
        # (Figures about the week it was switched on in, Monday 3 to Sunday 9 June.)
        assert text.splitlines()[:2] == [
            "Here's how the desk did last week, Monday 3 Jun to Sunday 9 Jun:",
            "• Tickets: 1 opened, 1 resolved, 0 closed, 0 reopened."]
        # Its first response, its resolution and the promises made on the way, all kept.
        assert "• First response: 20 business minutes (1 ticket)." in text
        assert "• Promises: 4 made; 4 kept on time, 0 covered on time" in text
        assert "What moved since the 7 days before: tickets opened 0 → 1." in text
        assert text.splitlines()[-1].startswith("Leads and admins get the per-agent figures")
        # Nothing else went to the triage channel over the weekend.
        weekend = [s.text for w, s in heard
                   if s.message.channel_id == TRIAGE and w.weekday() >= 5]
        assert weekend == []
        # The ledger kept it and promised the next one, a week later.
        found = await digest_promises(desk)
        assert [p[1:] for p in found] == [
            (MONDAY_0900, "kept", "bot"),
            (MONDAY_0900 + timedelta(days=7), "pending", None)]
        assert found[0][0] == found[1][0]  # the same team

        await desk.command("boss", "helpdesk digest")
        assert desk.last().text == (
            "The weekly digest is on: the next one goes to <#C-triage> Monday 17 Jun at "
            "09:00 UTC. `/helpdesk digest off` stops it.")
        await desk.command("boss", "helpdesk digest off")
        assert desk.last().text == ("Done: the weekly digest is off; the one due Monday "
                                    "17 Jun at 09:00 UTC won't be posted.")
        await desk.command("boss", "helpdesk digest off")
        assert desk.last().text == "The weekly digest was already off; nothing changed."
        await desk.command("boss", "helpdesk digest weekly")
        assert "isn't one I know: say on or off" in desk.last().text
        heard = await live(desk, MONDAY_0900 + timedelta(days=7, hours=1), timedelta(hours=4))
        assert digests(heard) == []
        assert [p[2] for p in await digest_promises(desk)] == ["kept", "cancelled"]


async def test_each_team_gets_its_own_digest_in_its_own_triage_channel_on_its_own_hours(db_url):
    async with FlowDesk(db_url, start=WEDNESDAY) as desk:
        await desk.staffed(leads=("lee",))
        for command in ("helpdesk team add hr",
                        f"helpdesk triage <#{HR_TRIAGE}|hr-triage> team hr",
                        # (a team takes transfers only when someone works it)
                        "helpdesk agents add <@hana|Hana> team hr",
                        "helpdesk hours mon-fri 08:00-16:00 Europe/London team hr",
                        "helpdesk digest on team hr"):
            await desk.command("boss", command)
        # 08:00 in London in June (07:00 UTC), said in the team's zone.
        assert desk.last().text == (
            "Done: team hr's weekly digest is on. The first one goes to <#C-hr-triage> "
            "Monday at 08:00 BST, with last week's figures.")
        await desk.command("boss", "helpdesk digest on")
        assert desk.last().text.startswith("Done: team it's weekly digest is on. The first "
                                           "one goes to <#C-triage> Monday at 09:00 UTC")
        await a_week_of_work(desk)
        await desk.dm("bob", "My payslip is wrong")
        await desk.command("sam", "ticket transfer 2 hr this is about payroll")
        heard = await live(desk, MONDAY_0900 - timedelta(hours=2), timedelta(hours=1))
        heard += await live(desk, MONDAY_0900, timedelta(hours=1))
        posted = digests(heard)
        assert [(when, channel, text.splitlines()[:2]) for when, channel, text in posted] == [
            (MONDAY_0900 - timedelta(hours=2), HR_TRIAGE,
             ["Here's how team hr did last week, Monday 3 Jun to Sunday 9 Jun:",
              "• Tickets: 1 opened, 0 resolved, 0 closed, 0 reopened."]),
            (MONDAY_0900, TRIAGE,
             ["Here's how team it did last week, Monday 3 Jun to Sunday 9 Jun:",
              "• Tickets: 1 opened, 1 resolved, 0 closed, 0 reopened."]),
        ]
        # The HR ticket is still open: its backlog says so; IT's is empty.
        assert "• Open now: 1, 0 of them older than a week." in posted[0][2]
        assert "• Open now: none." in posted[1][2]


async def test_a_team_without_a_triage_channel_is_told_how_and_hears_nothing(sqlite_url):
    async with FlowDesk(sqlite_url, start=WEDNESDAY) as desk:
        await desk.staffed(triage=None)
        await desk.command("boss", "helpdesk digest on")
        assert desk.last().text == (
            "Done: the weekly digest is on, from Monday at 09:00 UTC. It needs a triage "
            "channel to go to: set one with `/helpdesk triage <channel>`.")
        heard = await live(desk, MONDAY_0900 + timedelta(hours=1), timedelta(hours=6))
        assert digests(heard) == []
        # Nothing was posted, so nothing was kept: that one is cancelled, the next is due.
        assert [p[1:3] for p in await digest_promises(desk)] == [
            (MONDAY_0900, "cancelled"), (MONDAY_0900 + timedelta(days=7), "pending")]


async def test_with_the_digest_on_by_default_a_triage_channel_brings_the_first_one(sqlite_url):
    async with FlowDesk(sqlite_url, start=WEDNESDAY) as desk:
        desk.desk.defaults = replace(desk.desk.defaults, weekly_digest=True)
        await desk.staffed(triage=None)
        assert await digest_promises(desk) == []
        await desk.command("boss", f"helpdesk triage <#{TRIAGE}|triage>")
        assert [p[1:3] for p in await digest_promises(desk)] == [(MONDAY_0900, "pending")]
        await desk.command("boss", "helpdesk digest")
        assert desk.last().text.startswith("The weekly digest is on: the next one goes to "
                                           "<#C-triage> Monday at 09:00 UTC.")
        heard = await live(desk, MONDAY_0900, timedelta(hours=6))
        assert [channel for _, channel, _ in digests(heard)] == [TRIAGE]
