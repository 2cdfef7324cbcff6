"""Reminders and escalations from one sweep: one message per person and kind, every
ticket named, and a lone notice worded exactly as before."""

from __future__ import annotations

from datetime import datetime, timezone

from bot.clock import SystemClock
from bot.desk.policy import Desk
from bot.domain.people import Person, Role, Workspace
from bot.domain.priority import Priority
from bot.domain.tickets import Ticket, TicketStatus
from bot.ledger.notices import MAX_LINES, gather, notice
from bot.settings import Settings

WORKSPACE = Workspace(1, "console", "T1", "Acme", {})
ALEX = Person(10, 1, "alex", "Alex", Role.AGENT)
LEE = Person(11, 1, "lee", "Lee", Role.LEAD)
POLICY = Desk.from_settings(Settings(database_url="sqlite://"), SystemClock()).policy(WORKSPACE)


def ticket(number: int) -> Ticket:
    return Ticket(100 + number, 1, number, 20 + number, TicketStatus.IN_PROGRESS, Priority.P3,
                  "VPN", "VPN drops", datetime(2026, 11, 23, tzinfo=timezone.utc), owner_id=10)


def reminder(person: Person, number: int):
    return notice(person, WORKSPACE, POLICY, ticket(number), "owner_reminder",
                  ref=f"#{number}", requester=f"User{number}", what="promised follow-up",
                  due="today at 10:00 UTC", next="today at 11:00 UTC")


def escalation(person: Person, number: int):
    return notice(person, WORKSPACE, POLICY, ticket(number), "escalation", ref=f"#{number}",
                  requester=f"User{number}", what="first response", misses=2, priority="P1",
                  owner="Alex", due="today at 10:00 UTC", next="today at 10:30 UTC")


def test_a_lone_notice_is_the_message_it_always_was():
    alone = reminder(ALEX, 7)
    [post] = gather([alone])
    message = post.message
    assert message == alone.alone and post.workspace_id == WORKSPACE.id and post.ticket_id == 107
    assert message.text == (
        "Reminder: #7 for User7 had a promised follow-up due today at 10:00 UTC, and it passed "
        "without one. I've told them they'll hear from you by today at 11:00 UTC; please reply "
        "in their thread before then.")
    assert message.direct_to == "alex" and message.ticket_number == 7


def test_many_notices_become_one_message_per_person_and_kind_naming_every_ticket():
    count = MAX_LINES + 5
    notices = ([reminder(ALEX, n) for n in range(1, count + 1)]
               + [escalation(LEE, 1), escalation(LEE, 2), reminder(LEE, 3)])
    messages = [(p.workspace_id, p.message, p.ticket_id) for p in gather(notices)]
    assert [(m.direct_to, ticket_id) for _, m, ticket_id in messages] == [
        ("alex", None), ("alex", None), ("lee", None), ("lee", 103)]

    first, second = (messages[0][1].text.splitlines(), messages[1][1].text.splitlines())
    assert first[0].startswith(f"Reminder: {MAX_LINES} of your tickets had a promised time")
    assert second[0].startswith("Reminder: 5 of your tickets")
    named = [line.split(":")[0] for line in first[1:] + second[1:]]
    assert named == [f"• #{n} for User{n}" for n in range(1, count + 1)]
    assert all(m.ticket_number is None and m.audience == "person" for _, m, t in messages[:3])

    heading, *lines = messages[2][1].text.splitlines()
    assert heading == "Escalation: 2 tickets have missed a promised time again, or are urgent."
    assert lines[1] == ("• #2 from User2: first response missed 2 times in a row "
                        "(priority P1, owner Alex); next promised today at 10:30 UTC")
    assert messages[3][1].text.startswith("Reminder: #3 for User3 had a promised")
