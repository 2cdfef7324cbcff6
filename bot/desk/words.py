"""The domain's structured values in the workspace's words: times and business
durations, rendered from ``[when]`` and ``[durations]`` in ``config/messages.toml``.

The domain says which day, which clock time, how many hours; the words (weekday and
month names, "today", "business hours") are data a workspace can reword.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.calendar import BusinessCalendar
from bot.domain.sla import business_duration
from bot.domain.timefmt import local_moment
from bot.templates import Templates


def when(templates: Templates, moment: datetime, now: datetime, tz: str | None = None) -> str:
    """``today at 14:30 UTC``, ``tomorrow at 09:00 CET``, ``Friday at 09:00 UTC`` (within
    the week) or ``Monday 24 Nov at 09:00 GMT``: always with the zone."""
    local = local_moment(moment, now, tz)
    fields = dict(clock=local.clock, zone=local.zone,
                  weekday=templates.raw("when.weekdays")[local.weekday],
                  day=str(local.day), month=templates.raw("when.months")[local.month - 1])
    if local.days_ahead == 0:
        return templates.render("when.today", **fields)
    if local.days_ahead == 1:
        return templates.render("when.tomorrow", **fields)
    if 1 < local.days_ahead < 7:
        return templates.render("when.this_week", **fields)
    return templates.render("when.later", **fields)


def business_time(templates: Templates, value: timedelta, calendar: BusinessCalendar, *,
                  working_days: bool = True) -> str:
    """An SLA target as people read it: "1 business hour", "2 hours 30 minutes of
    business time", "24 business hours (3 working days of 8 hours)" (see
    :func:`bot.domain.sla.business_duration`)."""
    said = business_duration(value, calendar, working_days=working_days)
    if len(said.parts) == 1:
        [(count, unit)] = said.parts
        text = templates.render(f"durations.business_{unit}", count=count)
    else:
        text = templates.render("durations.business_time", parts=_parts(templates, said.parts))
    if said.working_days is None:
        return text
    days = said.working_days
    if days == int(days):
        counted = templates.render("durations.working_days", count=int(days))
    else:
        counted = templates.render("durations.working_days_part", count=f"{days:g}")
    return templates.render("durations.with_working_days", text=text, days=counted,
                            length=_parts(templates, said.day_parts))


def _parts(templates: Templates, parts) -> str:
    joiner = str(templates.raw("durations.joiner"))
    return joiner.join(templates.render(f"durations.{unit}", count=count)
                       for count, unit in parts)
