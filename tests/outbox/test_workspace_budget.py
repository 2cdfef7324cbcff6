"""A workspace's posting budget books slots in turn, so a broadcast to many channels
goes at the budget's rate instead of one row per hand-back."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.core import Pacing
from bot.outbox.pacing import WORKSPACE_WAIT, Pacer

NOW = datetime(2030, 6, 3, 10, 0, tzinfo=timezone.utc)


def test_rows_for_many_channels_get_consecutive_slots_of_the_workspace_budget():
    pacer, pacing = Pacer(), Pacing(per_channel=1.0, per_workspace=10.0)
    slots = [pacer.book(pacing, "slack", 1, f"D{n}", NOW) for n in range(20)]
    assert slots[0] == (None, None)  # the first goes now
    booked = [send_at for send_at, _ in slots[1:]]
    assert booked == [NOW + timedelta(seconds=n / 10) for n in range(1, 20)]
    # Past the wait, a row is handed back instead of holding its lane.
    later = [pacer.book(pacing, "slack", 1, f"E{n}", NOW) for n in range(5)]
    assert later[0] == (NOW + WORKSPACE_WAIT, None)  # the last slot within the wait
    # ... back while its slot is still a wait away, to book it then.
    assert all(send_at is None and back == NOW + timedelta(seconds=0.1)
               for send_at, back in later[1:])


def test_a_channel_still_waits_its_own_second_by_hand_back():
    pacer, pacing = Pacer(), Pacing(per_channel=1.0, per_workspace=10.0)
    assert pacer.book(pacing, "slack", 1, "C1", NOW) == (None, None)
    assert pacer.book(pacing, "slack", 1, "C1", NOW) == (None, NOW + timedelta(seconds=1))


def test_without_a_workspace_budget_nothing_changes():
    pacer, pacing = Pacer(), Pacing(per_channel=1.0)
    assert pacer.book(pacing, "slack", 1, "C1", NOW) == (None, None)
    assert pacer.book(pacing, "slack", 1, "C2", NOW) == (None, None)
    assert pacer.book(pacing, "slack", 1, "C1", NOW) == (None, NOW + timedelta(seconds=1))
    assert pacer.book(None, "slack", 1, "C1", NOW) == (None, None)
