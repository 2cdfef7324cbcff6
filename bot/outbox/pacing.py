"""Pacing: keep each channel and each workspace under the platform's posting rate.

Platforms allow about one message per second per channel (Slack) plus a workspace
cap. Rather than sleeping while holding a lease, the dispatcher asks the pacer when a
row may go and re-schedules it for then. Pacing is per process; the platform's 429s,
honoured through ``Retry-After``, remain the backstop across instances.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core import Pacing


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

    def forget_before(self, moment: datetime) -> None:
        """Drop slots that are long past, so the map does not grow without bound."""
        for key in [k for k, v in self._next.items() if v < moment]:
            del self._next[key]
