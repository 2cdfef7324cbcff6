"""Service exceptions: a lead tightens or loosens one ticket's targets, with a reason.

The exception is the ticket's own targets from then on (any subset of first reply,
updates and resolution); its open promises are re-planned from now by
:func:`replan_for_exception`. A promise the requester holds ("you'll hear from us by")
only ever comes sooner: the desk keeps its word, and a looser target applies to the
promises it makes afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from bot.domain.calendar import BusinessCalendar
from bot.domain.promises import (
    UPDATE_KINDS, Promise, PromiseKind, PromiseStatus, warn_time_for_span,
)
from bot.domain.sla import SlaTarget

# How a lead writes each target, and the SlaTarget field it sets.
FIELDS = {"first": "first_response", "update": "update_interval", "resolve": "resolution"}
_SPAN_OF = {PromiseKind.FIRST_RESPONSE: "first_response",
            PromiseKind.STATUS_UPDATE: "update_interval",
            PromiseKind.RESOLUTION: "resolution"}


def exception_target(base: SlaTarget, exception: Mapping[str, float] | None) -> SlaTarget:
    """``base`` with the exception's targets (SlaTarget field -> seconds) in place."""
    if not exception:
        return base
    return replace(base, **{name: timedelta(seconds=seconds)
                            for name, seconds in exception.items() if name in FIELDS.values()})


def replan_for_exception(promises: Iterable[Promise], now: datetime,
                         calendar: BusinessCalendar, target: SlaTarget, warn_share: float,
                         changed: set[str]) -> dict[int, tuple[datetime, datetime | None]]:
    """New due times and heads-ups for the open promises whose target the exception
    ``changed`` (SlaTarget field names), planned from ``now`` on ``calendar``. A promise
    the requester holds moves only when the new time is sooner; the resolution target,
    which is the desk's own, moves either way."""
    planned: dict[int, tuple[datetime, datetime | None]] = {}
    for promise in promises:
        span_name = _SPAN_OF.get(promise.kind)
        if promise.status is not PromiseStatus.PENDING or span_name not in changed:
            continue
        span = getattr(target, span_name)
        due = calendar.add_business_time(now, span)
        if promise.kind in UPDATE_KINDS and due >= promise.due_at:
            continue
        if due == promise.due_at:
            continue
        planned[promise.id] = (due, warn_time_for_span(now, span, warn_share, calendar))
    return planned
