"""The console plays a major incident, as the issue tells it.

Three requesters report "VPN down"; Sam declares INC-1 from tickets 1-3 and posts an
update; each of the three requesters' threads shows the update once; a fourth
requester's message is answered with INC-1's name and the next update's time.
"""

from __future__ import annotations

from tests.flows.story import MONDAY
from tests.flows.test_console_story import assert_in_order
from tests.support.console import play

STORY = """\
/as requester Ann
VPN down
/as requester Bob
The VPN is down for me
/as requester Cat
VPN down again?
/as agent Sam
/incident declare VPN down from 1-3
/incident update INC-1 The provider is fixing the gateway next 45m
/as requester Dan
my vpn won't connect
"""

UPDATE = "The provider is fixing the gateway"


async def test_the_console_plays_an_incident(sqlite_url):
    printed = await play(sqlite_url, STORY, start=MONDAY)
    assert_in_order(printed, [
        "I've opened ticket #1 for you",
        "I've opened ticket #2 for you",
        "I've opened ticket #3 for you",
        "Declared INC-1 “VPN down”; you lead it.",
        "Linked #1, #2 and #3 to INC-1.",
        "Sent the update on INC-1 to 3 people. The next one is promised by today at 10:45 UTC.",
        "I've opened ticket #4 for you",
        "This looks like a problem we already know about: INC-1, “VPN down”.",
        f"The latest update: “{UPDATE}”",
        "The next update will be by today at 10:45 UTC.",
        "Is this what you're seeing?",
        "[Yes]  [No, something else]",
    ])
    # Each of the three threads shows the update once.
    for number in (1, 2, 3):
        assert printed.count(f"which your ticket #{number} is part of: {UPDATE}") == 1
