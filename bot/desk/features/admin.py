"""Admin commands that shape the desk: who works it and where it listens.

Only admins reach these handlers (the permissions middleware refuses everyone else
before anything changes).
"""

from __future__ import annotations

from bot.domain.people import Role
from bot.desk.context import BadInput, Context
from bot.desk.people_refs import channel_ref, person_refs

_GROUPS = {"agents": Role.AGENT, "leads": Role.LEAD}


async def _change_roles(ctx: Context, group: str) -> None:
    assert ctx.workspace is not None
    verb, _, rest = ctx.args.partition(" ")
    refs = person_refs(rest)
    if verb not in ("add", "remove") or not refs:
        raise BadInput("input.need_role_change", "admin.role_usage", group=group)
    role = _GROUPS[group]
    names = []
    for ref, label in refs:
        person = await ctx.uow.people.find(ctx.workspace.id, ref)
        if person is None:
            person = await ctx.uow.people.ensure(ctx.workspace.id, ref, label, ctx.now)
        # The desk's own grant: it outlives any Discord role the person loses later.
        await ctx.uow.people.record_role(person.id, role if verb == "add" else Role.REQUESTER)
        names.append(person.name)
    joined = ", ".join(names)
    phrase = (("an " if role is Role.AGENT else "a ") + role.value) if len(names) == 1 \
        else role.value + "s"
    key = "admin.role_added" if verb == "add" else "admin.role_removed"
    await ctx.answer(ctx.t(key, names=joined, role=phrase))
    ctx.handled = True


async def agents(ctx: Context) -> None:
    """``/helpdesk agents add|remove <person...>``"""
    await _change_roles(ctx, "agents")


async def leads(ctx: Context) -> None:
    """``/helpdesk leads add|remove <person...>``"""
    await _change_roles(ctx, "leads")


async def _set_channel(ctx: Context, purpose: str) -> None:
    assert ctx.workspace is not None
    channel = channel_ref(ctx.args) if ctx.args.strip() else ctx.event.channel_id
    if not channel:
        raise BadInput("input.unknown_channel", "admin.channel_usage", purpose=purpose)
    await ctx.uow.workspaces.set_channel(ctx.workspace.id, purpose, channel, ctx.now,
                                         only_one=purpose == "triage")
    await ctx.answer(ctx.t("admin.channel_set", channel=channel, purpose=purpose))
    ctx.handled = True


async def intake(ctx: Context) -> None:
    """``/helpdesk intake <channel>``: messages there open tickets."""
    await _set_channel(ctx, "intake")


async def triage(ctx: Context) -> None:
    """``/helpdesk triage <channel>``: ticket cards go there."""
    await _set_channel(ctx, "triage")


async def show(ctx: Context) -> None:
    """``/helpdesk show``: the desk's configuration in one message."""
    assert ctx.workspace is not None and ctx.policy is not None
    uow, ws = ctx.uow, ctx.workspace.id

    def names(people) -> str:
        return ", ".join(p.name for p in people) or ctx.t("admin.nobody")

    def channels(ids) -> str:
        return ", ".join(f"<#{c}>" for c in ids) or ctx.t("admin.none")

    calendar, sla = ctx.policy.calendar, ctx.policy.sla
    await ctx.answer(ctx.t(
        "admin.show", intake=channels(await uow.workspaces.channels(ws, "intake")),
        triage=channels(await uow.workspaces.channels(ws, "triage")),
        agents=names(await uow.people.with_role(ws, Role.AGENT)),
        leads=names(await uow.people.with_role(ws, Role.LEAD)),
        hours=describe_hours(calendar), sla=describe_sla(ctx, sla, calendar),
    ))
    ctx.handled = True


def describe_hours(calendar) -> str:
    """``Mon-Fri 09:00-17:00 (Europe/London), 2 holiday(s)``: runs of days with the
    same hours are grouped."""
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

    def span(hours) -> str:
        close = "24:00" if hours[1].hour == 0 and hours[1].minute == 0 else f"{hours[1]:%H:%M}"
        return f"{hours[0]:%H:%M}-{close}"

    groups: list[list] = []  # [first day, last day, hours]
    for index, hours in enumerate(calendar.hours):
        if hours and groups and groups[-1][1] == index - 1 and groups[-1][2] == hours:
            groups[-1][1] = index
        elif hours:
            groups.append([index, index, hours])
    text = ", ".join(
        (days[a] if a == b else f"{days[a]}-{days[b]}") + " " + span(h) for a, b, h in groups
    ) or "closed every day"
    holidays = len(calendar.holidays)
    return f"{text} ({calendar.timezone})" + (f", {holidays} holiday(s)" if holidays else "")


def describe_sla(ctx: Context, sla, calendar) -> str:
    """Each priority's targets in business time as people read it (business hours and
    the working days they make on ``calendar``)."""
    from bot.domain.sla import format_business_duration as business
    return "; ".join(
        ctx.t("policy.sla_line", priority=p.value,
              first=business(t.first_response, calendar),
              update=business(t.update_interval, calendar),
              resolve=business(t.resolution, calendar))
        for p, t in sorted(sla.targets.items(), key=lambda item: item[0].value))


async def promises(ctx: Context) -> None:
    """``/helpdesk promises``: how the desk keeps its word, per agent and in total."""
    from bot.storage.reports import promise_report
    assert ctx.workspace is not None
    tallies = await promise_report(ctx.uow, ctx.workspace.id)
    if tallies[-1].made == 0:
        await ctx.answer(ctx.t("report.empty"))
        ctx.handled = True
        return
    lines = [ctx.t("report.header", since="")]
    for tally in tallies:
        owner = {None: ctx.t("report.unowned"), "all": ctx.t("report.total")}.get(
            tally.owner, tally.owner)
        share = tally.on_time_share
        lines.append(ctx.t("report.row", owner=owner, made=tally.made, kept=tally.kept,
                           missed=tally.missed, covered=tally.covered, late=tally.late,
                           dead=tally.dead, open=tally.open,
                           share="n/a" if share is None else f"{share:.0%}"))
    await ctx.answer("\n".join(lines))
    ctx.handled = True


def register(router) -> None:
    """Wire the admin commands into the router."""
    for word, handler in (
        ("agents", agents),
        ("leads", leads),
        ("intake", intake),
        ("triage", triage),
        ("show", show),
        ("promises", promises),
    ):
        router.on_command("helpdesk", word, handler, role=Role.ADMIN,
                          description=f"commands.helpdesk_{word}")
