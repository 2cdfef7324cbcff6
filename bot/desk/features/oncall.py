"""The lead on duty, set up by admins: ``/helpdesk oncall <team> ...``.

* ``/helpdesk oncall <team>``: who is on duty now, and who is next.
* ``/helpdesk oncall <team> <person> [from <when>] [until <when>]``: a shift.
* ``/helpdesk oncall <team> rota <person> <person> ...``: weekly turns, handing over at
  the team's first opening of each week, starting now with the first person.
* ``/helpdesk oncall <team> end``: the shift running now ends; the rota (or nobody)
  has duty again.

Escalations of the team's tickets reach the lead on duty first (bot/desk/duty.py).
"""

from __future__ import annotations

import re
from datetime import timedelta

from bot.domain.errors import Unreadable
from bot.domain.oncall import Rota, rota_week, week_start
from bot.domain.people import Person, Role
from bot.domain.teams import Team
from bot.domain.when import parse_when
from bot.desk.context import BadInput, Context
from bot.desk.duty import duty_of, team_people
from bot.desk.people_refs import person_refs
from bot.desk.team_refs import named_team, no_team_words

_BOUNDS = re.compile(r"\s+(from|until)\s+", re.I)
ROTA_LIMIT = 12


async def _lead(ctx: Context, ref: str, label: str, team: Team) -> Person:
    """The person ``ref`` names, who must be a lead of ``team`` (or an admin): a team's
    escalations and flags can be private, so another team's lead is refused."""
    assert ctx.workspace is not None
    person = await ctx.uow.people.find(ctx.workspace.id, ref)
    if person is not None and person.role is Role.ADMIN:
        return person
    leads = await team_people(ctx.uow, ctx.workspace, team, Role.LEAD)
    if person is None or person.id not in {p.id for p in leads}:
        # Whether they lead another team or none, the fix is the same: a lead of this
        # one (FINDINGS-20c M5: "a lead of the desk" sent the admin to the wrong team).
        person_name = person.name if person else label
        raise BadInput("admin.not_team_lead" if leads else "admin.not_team_lead_none",
                       name=person_name, team=team.name, leads=ctx.join(p.name for p in leads))
    return person


def _bounds(ctx: Context, text: str) -> tuple[str, dict[str, str]]:
    """``<person> from X until Y`` as the person's words and {"from": X, "until": Y}."""
    parts = _BOUNDS.split(" " + text)
    head, found = parts[0].strip(), {}
    for word, value in zip(parts[1::2], parts[2::2]):
        if word.lower() in found or not value.strip():
            raise BadInput("input.need_oncall", "admin.oncall_usage")
        found[word.lower()] = value.strip()
    return head, found


async def oncall(ctx: Context) -> None:
    """``/helpdesk oncall <team> [rota <person...> | <person> [from ..] [until ..]]``"""
    assert ctx.workspace is not None and ctx.person is not None
    name, _, rest = ctx.args.strip().partition(" ")
    if not name:
        raise BadInput("input.need_oncall", "admin.oncall_usage")
    # "oncall hana": a lead where the team goes (the team comes first).
    team = await named_team(ctx, name, "admin.oncall_usage", person="input.oncall_team_first",
                            team=ctx.workspace.default_team.name)
    ctx.use_team(team)
    rest = rest.strip()
    ctx.handled = True
    if not rest:
        await _show(ctx, team)
        return
    word, _, people = rest.partition(" ")
    if word.lower() == "end" and not people.strip():
        # The running shift ends now: the rota (or nobody) has duty again.
        ended = await ctx.uow.workspaces.end_shifts(team.id, ctx.now)
        await _show(ctx, team, ctx.t("admin.oncall_ended" if ended
                                     else "admin.oncall_no_shift", team=team.name))
        return
    if word.lower() == "rota":
        refs = person_refs(people)
        if not refs or len(refs) > ROTA_LIMIT:
            raise BadInput("input.need_rota", "admin.oncall_usage", limit=ROTA_LIMIT)
        await no_team_words(ctx, refs, "admin.oncall_usage")
        leads = [await _lead(ctx, ref, label, team) for ref, label, _ in refs]
        calendar = ctx.policy.calendar
        rota = Rota(tuple(p.id for p in leads), rota_week(calendar, ctx.now))
        settings = dict(team.settings)
        settings["rota"] = rota.to_dict()
        await ctx.uow.workspaces.save_team_settings(team.id, settings)
        # A rota is someone else put on duty: an open-ended shift ("until someone else
        # is put on duty") ends here, or it would outlive every turn (FINDINGS-20c H6).
        await ctx.uow.workspaces.end_shifts(team.id, ctx.now, open_ended_only=True)
        # A shift with an end still running wins over the rota until then: say so,
        # rather than name the rota's first person as on duty when they are not.
        workspace = await ctx.uow.workspaces.get(ctx.workspace.id)
        running = [shift for shift in (await ctx.uow.workspaces.shifts({team.id}))[team.id]
                   if shift.covers(ctx.now)]
        now = (await duty_of(ctx.uow, ctx.desk, workspace, workspace.team(team.id),
                             ctx.now)).now
        tz = ctx.person.reads_in(calendar.timezone)
        wins = ("" if now is None or now.id == leads[0].id or not running
                else " " + ctx.t("admin.rota_shift_wins", lead=now.name, ends=ctx.policy.when(
                    max(s.ends_at for s in running if s.ends_at), ctx.now, tz),
                    team=team.name))
        if len(leads) == 1:
            await ctx.answer(ctx.t("admin.rota_set_one", team=team.name, first=leads[0].name)
                             + wins)
            return
        # The first turn runs to the next week's opening, which may be days away or (set
        # on a weekend) only the closed days: say when, rather than "this week".
        handover = week_start(calendar, rota.anchor + timedelta(days=7))
        await ctx.answer(ctx.t("admin.rota_set", team=team.name,
                               people=ctx.join(p.name for p in leads), first=leads[0].name,
                               next=leads[1].name,
                               until=ctx.policy.when(handover, ctx.now, tz))
                         + wins)
        return
    head, bounds = _bounds(ctx, rest)
    refs = person_refs(head)
    if len(refs) != 1:
        raise BadInput("input.need_oncall", "admin.oncall_usage")
    await no_team_words(ctx, refs, "admin.oncall_usage")
    lead = await _lead(ctx, refs[0].ref, refs[0].label, team)
    tz = ctx.person.reads_in(ctx.policy.calendar.timezone)
    try:
        starts = parse_when(bounds["from"], ctx.now, tz) if "from" in bounds else ctx.now
        ends = parse_when(bounds["until"], ctx.now, tz) if "until" in bounds else None
    except Unreadable as error:
        raise BadInput.unreadable(error, "admin.oncall_usage") from None
    if ends is not None and ends <= starts:
        raise BadInput("input.oncall_ends_first", "admin.oncall_usage")
    # Someone put on duty from now on ends an open-ended shift running then (it lasts
    # "until someone else is put on duty"): once this one ends, the rota or nobody has
    # duty, never the old shift again (FINDINGS-20c H6). A shift planned for later
    # (a weekend's cover) leaves it to resume afterwards.
    if starts <= ctx.now:
        await ctx.uow.workspaces.end_shifts(team.id, ctx.now, open_ended_only=True)
    await ctx.uow.workspaces.add_shift(team.id, lead.id, starts, ends, ctx.now)
    key = "admin.oncall_set" + ("_until" if ends else "")
    said = ctx.t(key, team=team.name, lead=lead.name,
                 starts=ctx.policy.when(starts, ctx.now, tz),
                 ends=ctx.policy.when(ends, ctx.now, tz) if ends else "")
    # Who has duty after it: the next handover, as `/helpdesk oncall <team>` says it.
    duty = await duty_of(ctx.uow, ctx.desk, ctx.workspace, team, ctx.now)
    if ends is not None and duty.next is not None and starts <= ctx.now:
        said += " " + _next(ctx, duty, tz)
    await ctx.answer(said)


def _next(ctx: Context, duty, tz) -> str:
    """The next change of duty in words ("Next: Lena, from Monday at 08:00 CET.")."""
    person, moment = duty.next
    return (ctx.t("admin.oncall_next", lead=person.name,
                  when=ctx.policy.when(moment, ctx.now, tz)) if person
            else ctx.t("admin.oncall_next_nobody", when=ctx.policy.when(moment, ctx.now, tz)))


async def _show(ctx: Context, team, before: str = "") -> None:
    """Who is on duty for ``team`` now and next (after ``before``, a change just made)."""
    assert ctx.workspace is not None and ctx.person is not None
    duty = await duty_of(ctx.uow, ctx.desk, ctx.workspace, team, ctx.now)
    tz = ctx.person.reads_in(ctx.policy.calendar.timezone)
    now = (ctx.t("admin.oncall_now", team=team.name, lead=duty.now.name) if duty.now
           else ctx.t("admin.oncall_nobody", team=team.name)
           if await team_people(ctx.uow, ctx.workspace, team, Role.LEAD)
           else ctx.t("admin.oncall_no_leads", team=team.name))
    lines = [before, now] if before else [now]
    if duty.next is not None:
        lines.append(_next(ctx, duty, tz))
    await ctx.answer(" ".join(lines))


def register(router) -> None:
    """Wire the on-duty command into the router."""
    router.on_command("helpdesk", "oncall", oncall, role=Role.ADMIN,
                      description="commands.helpdesk_oncall")
