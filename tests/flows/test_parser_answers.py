"""An agent's odd times and priorities are answered with what was wrong with them,
and change nothing."""

from __future__ import annotations

import pytest

from tests.flows.story import FlowDesk

FOLLOWUP = "Usage: `/ticket followup <n> <when> [text]`, e.g. `/ticket followup 4 2h`."
PRIORITY = ("Usage: `/ticket priority <n> <P1-P4>` or `/ticket priority <n> <impact> "
            "<urgency>` (high, medium or low).")
ANSWERS = [
    ("ticket followup 1 tomorrow 25:00", "“tomorrow 25:00” isn't a time of day."),
    ("ticket followup 1 tomorrow 25:00 call them back", "“tomorrow 25:00” isn't a time of day."),
    ("ticket followup 1 0s", "“0s” is no time at all: a duration must be more than zero. "
     + FOLLOWUP),
    ("ticket followup 1 -5m", "“-5m” is negative: write how long, like 5m. " + FOLLOWUP),
    ("ticket followup 1 99999d", "“99999d” is too long: the longest is 365 days. " + FOLLOWUP),
    ("ticket followup 1 tomorrow", "“tomorrow” needs a time of day too, like tomorrow 9am. "
     + FOLLOWUP),
    ("ticket followup 1 " + "9" * 5000 + "h", "“99999999"),
    ("ticket priority 1 P2 extra", "“extra” is more than I need: write just the priority (P2), "
     "or an impact and an urgency. " + PRIORITY),
    ("ticket priority 1 high", "“high” is an impact or an urgency: give both, like high "
     "medium, or a priority from P1 to P4. " + PRIORITY),
    ("ticket priority 1 high low please", "“please” is more than I need: write an impact and "
     "an urgency, like high medium. " + PRIORITY),
    ("ticket priority 1 high soon", "“soon” isn't an urgency I know: use high, medium or low. "
     + PRIORITY),
]


@pytest.fixture
async def desk(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "The VPN drops")
        yield desk


@pytest.mark.parametrize("line, expected", ANSWERS, ids=[a[0][:40] for a in ANSWERS])
async def test_the_answer_names_what_was_wrong(desk, line, expected):
    before = (await desk.ticket(1), await desk.promises(1))
    mark = len(desk.adapter.sent)
    await desk.command("sam", line)
    [answer] = desk.since(mark)
    assert answer.message.ephemeral_to == "sam"
    assert answer.text.startswith(expected), answer.text
    assert len(answer.text) < 600  # what it repeats of the person's words is short
    assert (await desk.ticket(1), await desk.promises(1)) == before


async def test_a_time_with_words_after_it_still_works(desk):
    await desk.command("sam", "ticket followup 1 tomorrow at 9am call them back")
    told = desk.requester_thread(1)[-1].text
    assert told.startswith("Sam will update you on #1 by tomorrow at 09:00 UTC"), told
    assert "call them back" in told
