"""The CONSOLE story of teams: an HR question in the HR intake channel reaches the HR
triage card; a misrouted payroll question that came to IT is transferred to HR by an IT
agent, and the requester is told who has it now."""

from __future__ import annotations

from tests.flows.story import MONDAY
from tests.support.console import play

STORY = """\
/as admin
/helpdesk triage triage
/helpdesk team add hr
/helpdesk triage hr-triage team hr
/helpdesk intake hr-help team hr
/helpdesk agents add Hana team hr
/helpdesk show
/as requester
/in hr-help How many vacation days do I have left?
My payslip shows the wrong tax code
/press Something new
/as agent Sam
/ticket transfer 2 hr it's about payroll
/as agent Hana
/ticket claim 2
"""

KEY_LINES = [
    "Done: team hr is set up.",
    "#hr-triage is now team hr's triage channel.",
    "Done: Hana can now work team hr as an agent.",
    "Team hr, for its intake channels and the tickets transferred to it:",
    "[#hr-help · ticket #1] Help Desk:",
    "Thanks, Alex. I've opened ticket #1 for you",
    "Someone from our hr team will reply by",
    "[triage #hr-triage · ticket #1] Help Desk:",
    "[DM with Alex · ticket #2] Help Desk:",
    "[triage · ticket #2] Help Desk:",
    "#2 has moved to team hr (Sam moved it: it's about payroll); it's no longer this team's.",
    "#2 is now with our hr team, who will get back to you by tomorrow at 10:00 UTC.",
    "[triage #hr-triage · ticket #2] Help Desk:",
    "Done: #2 is now with team hr; its card is in their triage channel, and Alex has been "
    "told who has it.",
    "Good news: Hana from our hr team is now looking after #2.",
]


async def test_the_teams_story_plays_in_the_console(sqlite_url):
    printed = await play(sqlite_url, STORY, start=MONDAY)
    at = 0
    for line in KEY_LINES:
        found = printed.find(line, at)
        assert found >= 0, f"missing, or out of order: {line!r}\n\n{printed}"
        at = found + len(line)


THREAD_AFTER_TRANSFER = """\
/as admin
/helpdesk triage triage
/helpdesk team add hr
/helpdesk triage hr-triage team hr
/helpdesk agents add Sam
/helpdesk agents add Hana team hr
/as requester Bob
Need payroll help
/as agent Sam
/ticket transfer 1 hr
/as agent Hana
/ticket claim 1
/thread 1 Hana in thread of transferred ticket after claim
"""


async def test_in_the_console_a_thread_reply_after_a_transfer_reaches_the_requester(sqlite_url):
    """FINDINGS-20b H1, as the reviewer ran it: `/thread` after a transfer printed
    nothing and Bob heard nothing."""
    printed = await play(sqlite_url, THREAD_AFTER_TRANSFER, start=MONDAY)
    at = printed.find("Hana: Hana in thread of transferred ticket after claim")
    assert at >= 0, printed
    header = printed[printed.rfind("\n[", 0, at):at]
    assert header.startswith("\n[DM with Bob · ticket #1]"), printed  # Bob reads it
