"""Pacing: keep each channel and each workspace under the platform's posting rate.

Platforms allow about one message per second per channel (Slack) plus a workspace
cap. Rather than sleeping while holding a lease, the dispatcher asks the pacer when a
row may go and re-schedules it for then. Pacing is per process; the platform's 429s,
honoured through ``Retry-After``, remain the backstop across instances.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core import Pacing


# A row held back only by its workspace's budget waits up to this long for its slot in
# the lane (slots are booked in turn), rather than being handed back: every row handed
# back for the same moment would come back together and only one of them would go, so
# a broadcast to many channels would crawl far below the budget. Short, so a lease is
# never at risk.
WORKSPACE_WAIT = timedelta(seconds=2)


class Pacer:
    """Remembers when each channel and workspace may next be posted to."""

    def __init__(self) -> None:
        self._next: dict[tuple, datetime] = {}

    def reserve(self, pacing: Pacing | None, platform: str, workspace_id: int, channel: str,
                now: datetime) -> datetime | None:
        """Take a slot now and return None, or return the earliest time one is free."""
        if pacing is None:
            return None
        keys = []
        if pacing.per_channel > 0:
            keys.append(((platform, "channel", channel), pacing.per_channel))
        if pacing.per_workspace > 0:
            keys.append(((platform, "workspace", workspace_id), pacing.per_workspace))
        ready = max((self._next.get(key, now) for key, _ in keys), default=now)
        if ready > now:
            return ready
        for key, rate in keys:
            self._next[key] = now + timedelta(seconds=1 / rate)
        return None

    def book(self, pacing: Pacing | None, platform: str, workspace_id: int, channel: str,
             now: datetime) -> tuple[datetime | None, datetime | None]:
        """Like :meth:`reserve`, but a row held back only by its workspace's budget, for
        at most ``WORKSPACE_WAIT``, gets the next free slot booked for it. Returns
        ``(send_at, come_back_at)``: send at ``send_at`` (None: now), or hand the row
        back for ``come_back_at``."""
        ready = self.reserve(pacing, platform, workspace_id, channel, now)
        if ready is None:
            return None, None
        assert pacing is not None
        channel_key = (platform, "channel", channel)
        channel_free = pacing.per_channel <= 0 or self._next.get(channel_key, now) <= now
        if not channel_free or pacing.per_workspace <= 0:
            return None, ready
        if ready - now > WORKSPACE_WAIT:
            # Back while its slot is still a wait away, so the lane never runs dry
            # between hand-backs (it books the slot then).
            return None, ready - WORKSPACE_WAIT
        workspace_key = (platform, "workspace", workspace_id)
        self._next[workspace_key] = ready + timedelta(seconds=1 / pacing.per_workspace)
        if pacing.per_channel > 0:
            self._next[channel_key] = ready + timedelta(seconds=1 / pacing.per_channel)
        return ready, None

    def forget_before(self, moment: datetime) -> None:
        """Drop slots that are long past, so the map does not grow without bound."""
        for key in [k for k, v in self._next.items() if v < moment]:
            del self._next[key]
