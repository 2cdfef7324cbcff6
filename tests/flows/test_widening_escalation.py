"""A run of misses that goes on after a lead was asked widens the circle once: the
second escalation of the run also reaches the team's other leads (else the admins),
privately, and the triage thread says who was told; every escalation after reaches
the lead on duty alone again, so a P1 lapsing every hour never floods anyone."""

from __future__ import annotations

from datetime import timedelta

from tests.flows.story import FlowDesk

OUTAGE = "The whole office is offline"


def _escalations(sent, user: str) -> list[str]:
    return [s.text for s in sent if s.message.direct_to == user
            and s.text.startswith("Escalation:")]


async def _p1_on_duty(desk: FlowDesk, leads=("kim", "lee")) -> None:
    """Ann's P1 outage (#1), claimed by Sam, with Lee the lead on duty of team it."""
    await desk.staffed(leads=leads)
    await desk.command("boss", "helpdesk oncall it <@lee|Lee>")
    await desk.dm("ann", OUTAGE)
    await desk.command("sam", "ticket priority 1 P1")
    await desk.command("sam", "ticket claim 1")


async def test_a_p1_lapsing_every_hour_tells_the_other_leads_once(db_url):
    async with FlowDesk(db_url) as desk:
        await _p1_on_duty(desk)
        heard = []
        # The P1's hourly updates lapse three times in a row (its 4h resolution target
        # is a promise of its own, left out here).
        for _ in range(3):
            mark = len(desk.adapter.sent)
            await desk.advance(timedelta(hours=1, minutes=1))
            heard.append(desk.since(mark))
        # The lead on duty hears of every miss.
        assert [len(_escalations(h, "lee")) for h in heard] == [1, 1, 1], \
            desk.adapter.transcript()
        # Kim, the team's other lead, hears once: at the second escalation.
        assert [len(_escalations(h, "kim")) for h in heard] == [0, 1, 0]
        (to_kim,) = _escalations(heard[1], "kim")
        assert to_kim.startswith("Escalation: #1 from Ann has missed its status update 2 "
                                 "times in a row (priority P1, owner Sam), and it lapsed "
                                 "again after a lead was asked. I've asked Lee to look at it")
        assert "you'll hear of this run of misses only this once" in to_kim
        # The team sees who was told, under the card.
        notes = [s.text for s in heard[1] if s in desk.triage_thread(1)
                 and s.text.startswith("I've asked")]
        assert len(notes) == 1 and notes[0].startswith(
            "I've asked Lee to look at #1 from Ann again, and told Kim too, as it keeps "
            "lapsing")
        # The requester is never told who was asked.
        assert not any("Kim" in s.text or "Lee" in s.text for s in desk.requester_thread(1))
        timeline = [e for e in await desk.timeline(1) if e.kind == "escalated"]
        assert [bool((e.data or {}).get("widened_to")) for e in timeline] == \
            [False, True, False]
        assert timeline[1].body == "status update missed 2 times in a row; Kim told too"


async def test_with_the_only_lead_on_duty_the_admins_hear_once(db_url):
    async with FlowDesk(db_url) as desk:
        await _p1_on_duty(desk, leads=("lee",))
        await desk.command("boss", "helpdesk show")  # the admin is someone the desk knows
        mark = len(desk.adapter.sent)
        for _ in range(3):
            await desk.advance(timedelta(hours=1, minutes=1))
        heard = desk.since(mark)
        assert len(_escalations(heard, "lee")) == 3
        (to_boss,) = _escalations(heard, "boss")
        assert "I've asked Lee to look at it" in to_boss


async def test_a_p3_widens_at_its_third_miss_in_a_row(db_url):
    """A P3 first escalates at its second miss; the third widens, once."""
    async with FlowDesk(db_url) as desk:
        await desk.staffed(leads=("kim", "lee"))
        await desk.command("boss", "helpdesk oncall it <@lee|Lee>")
        await desk.dm("ann", "The printer on floor 2 is jammed")
        await desk.command("sam", "ticket claim 1")
        told = []
        for _ in range(4):  # the 8h update lapses: one working day each
            mark = len(desk.adapter.sent)
            await desk.advance(timedelta(days=1))
            told.append((len(_escalations(desk.since(mark), "lee")),
                         len(_escalations(desk.since(mark), "kim"))))
        assert told == [(0, 0), (1, 0), (1, 1), (1, 0)], desk.adapter.transcript()


async def test_a_team_with_no_lead_tells_the_admins_never_another_teams_leads(db_url):
    """A team with no lead sends its escalations to the admins, at the widening round
    too: IT's leads never hear of an HR ticket (its matters can be private), and the
    admin and the owner are told that team hr has no lead, not that the desk has none."""
    async with FlowDesk(db_url) as desk:
        await desk.staffed(leads=("kim", "lee"))
        for command in ("helpdesk team add hr", "helpdesk agents add <@hana|Hana> team hr",
                        "helpdesk triage <#C-hr-triage|hr-triage> team hr",
                        "helpdesk intake <#C-hr|ask-hr> team hr"):
            await desk.command("boss", command)
        await desk.channel_message("ann", "C-hr", "A question about my contract")
        await desk.command("hana", "ticket claim 1")
        mark = len(desk.adapter.sent)
        for _ in range(4):  # the 8h update lapses: one working day each, past the widening
            await desk.advance(timedelta(days=1))
        heard = desk.since(mark)
        assert not [s for s in heard if s.message.direct_to in ("kim", "lee")], \
            desk.adapter.transcript()
        to_boss = [s.text for s in heard if s.message.direct_to == "boss"]
        assert len(to_boss) == 1, to_boss
        assert to_boss[0].startswith("#1 from Ann has missed its status update 2 times in a "
                                     "row (priority P3, owner Hana), so I'd have asked a lead")
        assert ("team hr has no lead, so I'm telling you instead. Add one with "
                "`/helpdesk leads add <person> team hr`.") in to_boss[0]
        to_hana = [s.text for s in heard if s.message.direct_to == "hana"
                   and "no lead" in s.text]
        assert len(to_hana) == 1 and "but team hr has no lead. I've told the admins" \
            in to_hana[0]
        assert not [s for s in heard if "the desk has no leads" in s.text]
        assert not any("lead" in s.text for s in desk.requester_thread(1))
