"""The console plays a week, and every time it shows a requester is business time.

Friday 14:00 UTC, on the default desk (Mon-Fri 09:00-17:00 UTC). Alex's laptop won't
boot: Sam claims it, makes it P1 and promises a follow-up in 30 minutes that nobody
keeps. Jo's shared drive keeps asking for a password: Sam asks Jo a question and the
ticket waits on Jo over the weekend. ``/wait 4d`` lives through every due moment in
order; Jo answers on Tuesday; Sam sends Alex a long reply.

What the requesters read must hold: every time falls in open hours (a time exactly at
the opening or the closing counts), nothing is apologised for while the desk waits on
Jo, and the long reply arrives whole, in order.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

from bot.domain.calendar import BusinessCalendar
from tests.flows.test_console_story import play

FRIDAY_1400 = datetime(2030, 6, 7, 14, 0, tzinfo=timezone.utc)
DESK = BusinessCalendar.weekdays(time(9), time(17), "UTC")
STEPS = [f"Step {n}: " + "Here is what we found and what to do next. " * 12 for n in range(1, 12)]
LONG_REPLY = " ".join(STEPS) + "THE-END"

WEEK = f"""\
My laptop won't boot and I have a client demo on Monday
/as requester Jo
The shared drive asks for my password again and again
/as agent Sam
/ticket claim 1
/ticket priority 1 P1
/ticket followup 1 30m checking whether the disk is the problem
/ticket claim 2
/ticket wait 2 requester Which drive letter is it, and does it happen on Wi-Fi too?
/wait 4d
/as requester Jo
/thread 2 It's the S: drive, and only on Wi-Fi.
/as agent Sam
/ticket reply 1 {LONG_REPLY}
/wait 1h
"""

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
STATED = re.compile(r"\b(today|tomorrow|" + "|".join(DAYS) + r") at (\d\d):(\d\d) UTC")
CLOCK = re.compile(r"^\(console\) (" + "|".join(DAYS) + r") (\d+) (\w{3}), (\d\d):(\d\d) UTC$")


def blocks(printed: str):
    """(moment, heading, text) for every message the console printed, the moment being
    the console's clock when it was shown (from its step lines)."""
    now, heading, lines = FRIDAY_1400, None, []
    for line in printed.splitlines() + ["(console) end"]:
        if line.startswith("[") or line.startswith("(console)") or line.endswith("> "):
            if heading is not None:
                yield now, heading, "\n".join(lines)
            heading, lines = (line if line.startswith("[") else None), []
            if (step := CLOCK.match(line)) is not None:
                day, hour, minute = int(step[2]), int(step[4]), int(step[5])
                now = datetime(2030, 6, day, hour, minute, tzinfo=timezone.utc)
        elif heading is not None:
            lines.append(line.strip())


def resolve(word: str, hour: int, minute: int, now: datetime) -> datetime:
    """The moment a stated "<day> at HH:MM UTC" names, read on ``now``'s day."""
    today: date = now.date()
    if word == "today":
        day = today
    elif word == "tomorrow":
        day = today + timedelta(days=1)
    else:  # a weekday name: the next one after today
        ahead = (DAYS.index(word) - today.weekday()) % 7 or 7
        day = today + timedelta(days=ahead)
    return datetime.combine(day, time(hour, minute), timezone.utc)


def in_open_hours(moment: datetime) -> bool:
    """Open at ``moment``, or exactly at an opening or a closing."""
    return DESK.is_open(moment) or DESK.is_open(moment - timedelta(minutes=1)) \
        or DESK.is_open(moment + timedelta(minutes=1))


async def test_a_week_in_the_console_tells_requesters_only_business_times(sqlite_url):
    printed = await play(sqlite_url, WEEK, start=FRIDAY_1400)
    to_requesters = [(now, heading, text) for now, heading, text in blocks(printed)
                     if heading.startswith(("[DM with Alex", "[DM with Jo"))]
    assert len(to_requesters) > 10, printed
    stated = []
    for now, heading, text in to_requesters:
        # Every time in a requester's message is one this test can read.
        assert text.count(" UTC") == len(STATED.findall(text)), text
        stated += [(now, resolve(word, int(h), int(m), now), text)
                   for word, h, m in STATED.findall(text)]
    assert stated
    outside = [(f"{now:%a %H:%M}", f"{moment:%a %d %H:%M}", text)
               for now, moment, text in stated if not in_open_hours(moment)]
    assert outside == []

    # While the desk waits on Jo, it owes Jo nothing: no apology, no "late", only the
    # nudge that says when the ticket would close.
    jo = [(now, text) for now, heading, text in to_requesters if heading.startswith("[DM with Jo")]
    waiting = [text for now, text in jo if "needs a little more from you" in text]
    assert len(waiting) == 1
    while_waiting = [text for now, text in jo
                     if now <= datetime(2030, 6, 11, 14, 0, tzinfo=timezone.utc)
                     and "needs a little more" not in text and "opened ticket" not in text
                     and "looking after" not in text]
    assert all("Sorry" not in text and "late" not in text for text in while_waiting), jo
    assert [text for text in while_waiting if text.startswith("Just checking in on #2")], jo

    # The long reply arrives whole and in order.
    alex = "\n".join(text for _, heading, text in to_requesters
                     if heading.startswith("[DM with Alex"))
    at = alex.find("Sam: Step 1: ")
    assert at >= 0, alex
    for mark in [step.split(": ")[0] + ": " for step in STEPS] + ["THE-END"]:
        found = alex.find(mark, at)
        assert found >= 0, mark
        at = found
    assert alex.count("Here is what we found") == 11 * 12
