"""Admin commands for the desk's policy: business hours, holidays and SLA targets.

Changes are stored in a team's own settings (the default team's unless the command
ends with ``team <name>``) and apply to promises made from then on; promises already
made keep the times the desk stated.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bot.domain.calendar import BusinessCalendar, parse_day
from bot.domain.errors import Unreadable
from bot.domain.people import Role
from bot.domain.priority import Priority
from bot.domain.sla import (
    SlaTarget, out_of_order, parse_duration,
)
from bot.desk.features.admin import describe_hours
from bot.desk.context import BadInput, Context
from bot.desk.team_refs import take_team


async def _save(ctx: Context, key: str, value) -> None:
    assert ctx.team is not None
    settings = dict(ctx.team.settings)
    settings[key] = value
    await ctx.uow.workspaces.save_team_settings(ctx.team.id, settings)


def _done(ctx: Context, key: str, **fields) -> str:
    """A confirmation that names the team when the workspace has several."""
    assert ctx.workspace is not None and ctx.team is not None
    several = len(ctx.workspace.teams) > 1
    return ctx.t(f"{key}_team" if several else key, team=ctx.team.name, **fields)


async def hours(ctx: Context) -> None:
    """``/helpdesk hours mon-fri 09:00-17:00 Europe/London``"""
    args, _ = await take_team(ctx, ctx.args, "policy.hours_usage")
    assert ctx.policy is not None
    parts = args.split()
    if len(parts) != 3:
        raise BadInput("input.need_hours", "policy.hours_usage")
    try:
        calendar = BusinessCalendar.from_spec(parts[0], parts[1], parts[2],
                                              holidays=ctx.policy.calendar.holidays)
    except Unreadable as error:
        raise BadInput.unreadable(error, "policy.hours_usage") from None
    await _save(ctx, "calendar", calendar.to_dict())
    await ctx.answer(_done(ctx, "policy.hours_set",
                           hours=describe_hours(calendar, ctx.policy.templates)))
    ctx.handled = True


async def holiday(ctx: Context) -> None:
    """``/helpdesk holiday add 2026-12-25`` or ``/helpdesk holiday remove 2026-12-25``."""
    args, _ = await take_team(ctx, ctx.args, "policy.holiday_usage")
    assert ctx.policy is not None
    verb, _, when = args.strip().partition(" ")
    verb = verb.lower()
    if verb not in ("add", "remove"):
        raise BadInput("input.add_or_remove_holiday", "policy.holiday_usage")
    try:
        day = parse_day(when)
    except Unreadable as error:
        raise BadInput.unreadable(error, "policy.holiday_usage") from None
    calendar = ctx.policy.calendar
    ctx.handled = True
    today = ctx.now.astimezone(calendar.zone).date()
    if (day in calendar.holidays) == (verb == "add"):
        key = "policy.holiday_already" if verb == "add" else "policy.holiday_not_set"
        await ctx.answer(ctx.t(key, date=day.isoformat()))
        return
    if verb == "add" and day < today:
        # Refused rather than stored: it would read as done while changing no promise.
        await ctx.answer(ctx.t("policy.holiday_past", date=day.isoformat(),
                               today=today.isoformat(), next_year=_next_year(day, today)))
        return
    if verb == "add":
        calendar, key = calendar.with_holiday(day), "policy.holiday_added"
    else:
        calendar = replace(calendar, holidays=calendar.holidays - {day})
        key = "policy.holiday_removed" if day >= today else "policy.holiday_removed_past"
    await _save(ctx, "calendar", calendar.to_dict())
    await ctx.answer(_done(ctx, key, date=day.isoformat()))


def _next_year(day: date, today: date) -> str:
    """The same day in the first year where it is not past (29 February: the next leap
    year's), as ``YYYY-MM-DD``."""
    year = today.year
    while True:
        try:
            candidate = day.replace(year=year)
        except ValueError:  # 29 February in a common year
            year += 1
            continue
        if candidate >= today:
            return candidate.isoformat()
        year += 1


async def sla(ctx: Context) -> None:
    """``/helpdesk sla P2 first=4h update=4h resolve=24h`` (any subset of the three)."""
    args, _ = await take_team(ctx, ctx.args, "policy.sla_usage")
    assert ctx.policy is not None
    parts = args.split()
    try:
        priority = Priority.parse(parts[0]) if parts else None
        current = ctx.policy.sla.target(priority) if priority else None
        pairs = [part.partition("=") for part in parts[1:]]
        values = {name: value for name, equals, value in pairs if equals}
        if priority is None or current is None or not values or len(values) < len(pairs) \
                or set(values) - {"first", "update", "resolve"}:
            raise BadInput("input.need_sla", "policy.sla_usage")
        target = SlaTarget(
            parse_duration(values["first"]) if "first" in values else current.first_response,
            parse_duration(values["update"]) if "update" in values else current.update_interval,
            parse_duration(values["resolve"]) if "resolve" in values else current.resolution)
    except Unreadable as error:
        raise BadInput.unreadable(error, "policy.sla_usage") from None
    problem = out_of_order(target)
    # A refusal compares the three plainly; the confirmation also gives working days.
    said = {name: ctx.policy.business_time(span, working_days=problem is None)
            for name, span in (("first", target.first_response),
                               ("update", target.update_interval),
                               ("resolve", target.resolution))}
    if problem is not None:
        raise BadInput(f"policy.sla_{problem}", "policy.sla_usage", **said)
    policy = ctx.policy.sla.with_target(priority, target)
    await _save(ctx, "sla", policy.to_dict())
    await ctx.answer(_done(ctx, "policy.sla_set", priority=priority.value, **said))
    ctx.handled = True


def register(router) -> None:
    """Wire the policy commands into the router."""
    for word, handler in (
        ("hours", hours),
        ("holiday", holiday),
        ("sla", sla),
    ):
        router.on_command("helpdesk", word, handler, role=Role.ADMIN,
                          description=f"commands.helpdesk_{word}")
