"""Clocks: the only place the bot reads the time, so tests and the console can move it.

Domain code takes ``now`` as an argument; services take a :class:`Clock`. Time is never
frozen under asyncio (it would hang ``asyncio.sleep``); the console and tests instead
shift an offset, and rows with past due times stand in for time having passed.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    """Something that says what time it is, in UTC."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(timezone.utc)


class OffsetClock:
    """Real time plus an offset that only grows: ``advance`` lets time pass at once.

    The console's ``/wait 2h`` and the tests use it; the clock keeps ticking in real
    time as well, so sleeps and timeouts behave normally.
    """

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        """The real time plus the offset."""
        return datetime.now(timezone.utc) + self.offset

    def advance(self, delta: timedelta) -> None:
        """Let ``delta`` pass at once."""
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        self.offset += delta
