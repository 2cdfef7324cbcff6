"""Admin commands that shape the desk: who works it and where it listens.

Only admins reach these handlers (the permissions middleware refuses everyone else
before anything changes).
"""

from __future__ import annotations

import re

from bot.domain.errors import DomainError
from bot.domain.tickets import ACTIVE_STATUSES, TicketStatus
from bot.domain.people import Role
from bot.desk import duty, words
from bot.desk.cards import queue_card
from bot.desk.context import BadInput, Context
from bot.desk.notify import to_agents, to_requester
from bot.desk.people_refs import channel_ref, person_refs
from bot.desk.quoting import defang, excerpt
from bot.desk.features.digest import arrange_digest
from bot.desk.features.lookup import works_for
from bot.desk.team_refs import no_team_words, take_team, teams_first

_GROUPS = {"agents": Role.AGENT, "leads": Role.LEAD}
# How many of the latest service exceptions and flags the promise report names.
REPORT_LATEST = 10


async def _change_roles(ctx: Context, group: str) -> None:
    """Add people to, or remove them from, the agents or the leads, and say for each
    what is true: done, already so, not one of them, or held by a platform role."""
    assert ctx.workspace is not None
    verb, _, rest = ctx.args.partition(" ")
    # ``team hr`` at the end names the team, never two more people.
    rest, team = await take_team(ctx, rest, "admin.role_usage", group=group)
    refs = person_refs(rest)
    if verb not in ("add", "remove") or not refs:
        raise BadInput("input.need_role_change", "admin.role_usage", group=group)
    await no_team_words(ctx, refs, "admin.role_usage", group=group)
    role = _GROUPS[group]
    several = len(ctx.workspace.teams) > 1
    workspaces = ctx.uow.workspaces
    changed: list[str] = []
    unchanged: list[str] = []
    still_own: list[str] = []
    off_duty: list[str] = []
    for ref, label, bare_mention in refs:
        # A mention with no name (Discord's <@id>) names nobody yet: the platform shows
        # the mention by the person's name, and their first message fills it in.
        known_name = "" if bare_mention else label
        person = await ctx.uow.people.find(ctx.workspace.id, ref)
        as_written = person.name if person else known_name or f"<@{ref}>"
        platform_role, _ = await ctx.uow.people.platform_grant(person.id) if person \
            else (None, None)
        teams = await workspaces.teams_of(person.id) if person else {}
        # Which teams someone works: someone with the role and no team yet (a Discord
        # role, or a desk from before teams) works the default team.
        member = teams.get(team.id) or (person.role.value if person and not teams
                                        and team.is_default else None)
        in_team = member is not None and Role(member).at_least(role)
        if verb == "add":
            # A role held through the platform's roles is not yet the desk's own grant:
            # adding records the grant, which outlives the platform role.
            if person is not None and platform_role is None and person.role.at_least(role) \
                    and in_team:
                if person.role is role:
                    unchanged.append(ctx.t("admin.role_already", name=as_written,
                                           role=ctx.t(f"roles.{role.value}")))
                else:
                    unchanged.append(ctx.t("admin.role_includes", name=as_written,
                                           their=ctx.t(f"roles.{person.role.value}"),
                                           role=ctx.t(f"roles.{role.value}")))
                continue
            if person is None:
                person = await ctx.uow.people.ensure(ctx.workspace.id, ref, known_name, ctx.now)
            if platform_role is not None or not person.role.at_least(role):
                # The desk's own grant: it outlives any Discord role the person loses later.
                await ctx.uow.people.record_role(person.id, role)
            default = ctx.workspace.default_team
            if (not teams and not team.is_default and default is not None
                    and person.role in (Role.AGENT, Role.LEAD)):
                # They worked the default team without being placed in it (a Discord
                # role): joining another team must not take them off it.
                await workspaces.set_member(default.id, person.id, person.role.value, ctx.now)
            await workspaces.set_member(team.id, person.id, role.value, ctx.now)
        else:
            if person is None or person.role is not role or member != role.value:
                unchanged.append(ctx.t(
                    "admin.role_not_member_team" if several else "admin.role_not_member",
                    name=as_written, group=ctx.t(f"roles.{group}"), team=team.name))
                continue
            if platform_role is role:
                unchanged.append(ctx.t("admin.role_from_platform", name=as_written,
                                       role=ctx.t(f"roles.{role.value}")))
                continue
            await workspaces.set_member(team.id, person.id, None, ctx.now)
            still = any(r == role.value for t, r in teams.items() if t != team.id)
            if role is Role.LEAD:
                # Only a team's leads are on duty for it: their shifts and rota turns
                # end with the role, and the admin hears who is on duty now.
                off = {team.id} if still else {t.id for t in ctx.workspace.teams}
                off_duty.extend(await _end_duty(ctx, person, off))
            if not still:
                await ctx.uow.people.record_role(person.id, Role.REQUESTER)
            # Someone who can no longer act on a ticket no longer owns it: its requester
            # would keep hearing it is with them (RECHECK-20 N1). It goes back to its
            # team's queue, as a transfer to a team they don't work does.
            handed = await _hand_back(ctx, person, desk_wide=not still)
            if handed:
                key = "admin.handed_back_one" if len(handed) == 1 else "admin.handed_back"
                still_own.append(ctx.t(key, name=person.name, refs=ctx.join(
                    ctx.t("admin.handed_back_ref", ref=t.ref,
                          team=ctx.workspace.team(t.team_id).name) if several else t.ref
                    for t in handed)))
        changed.append(person.name)
    lines = []
    left = await _left_behind(ctx, team, changed) if verb == "remove" and changed else []
    if changed:
        key = "admin.role_added" if verb == "add" else "admin.role_removed"
        key += "_team" if several else ""
        lines.append(ctx.t(key, names=ctx.join(changed), team=team.name,
                           role=ctx.t(f"roles.{role.value}" if len(changed) == 1
                                      else f"roles.{group}")))
    await ctx.answer("\n".join(lines + still_own + off_duty + left + unchanged))
    ctx.handled = True


async def _hand_back(ctx: Context, person, *, desk_wide: bool) -> list:
    """Give back to their teams' queues the open tickets ``person`` owns but may no
    longer act on (every one when ``desk_wide``: they work no team now). Each ticket
    becomes unowned (in progress goes back to open), its promises wait for whoever
    claims it, its triage thread asks the team to claim it, its card is redrawn and its
    requester hears that it is no longer with them; nothing else about it changes. The
    tickets handed back, oldest first."""
    assert ctx.workspace is not None
    workspace = ctx.workspace
    owned = await ctx.uow.tickets.list(workspace.id, owner_id=person.id,
                                       statuses=ACTIVE_STATUSES, limit=500)
    handed = []
    team_before, policy_before = ctx.team, ctx.policy
    for ticket in reversed(owned):
        team = workspace.team(ticket.team_id)
        if not desk_wide and await works_for(ctx, person.id, team):
            continue
        values = {"owner_id": None, "updated_at": ctx.now}
        if ticket.status is TicketStatus.IN_PROGRESS:
            values["status"] = TicketStatus.OPEN.value
        ticket = await ctx.uow.tickets.update(ticket.id, **values)
        await ctx.uow.promises.hand_to(ticket.id, None)
        await ctx.uow.tickets.add_event(ticket.id, "handed_back", ctx.now,
                                        author_id=ctx.person.id if ctx.person else None,
                                        body=person.name, team=team.name)
        ctx.for_ticket(ticket)
        # One team: it is simply "the desk", as everywhere else a team is not named.
        which = "_team" if len(workspace.teams) > 1 else ""
        await ctx.post(to_requester(ticket, ctx.t("work.handed_back" + which, ref=ticket.ref,
                                                  owner=person.name, team=team.name)),
                       ticket_id=ticket.id)
        thread = to_agents(ticket, ctx.t("agent.handed_back" + which, ref=ticket.ref,
                                         owner=person.name, team=team.name))
        if thread is not None:
            await ctx.post(thread, ticket_id=ticket.id)
        await queue_card(ctx, ticket)
        handed.append(ticket)
    ctx.team, ctx.policy = team_before, policy_before
    return handed


async def _left_behind(ctx: Context, team, removed: list[str]) -> list[str]:
    """What the removal of ``removed`` from ``team`` leaves (FINDINGS-20c H3, H4). A team
    other than the default that nobody works any more while it has open tickets is
    refused (DomainError: nothing changes): nobody would see them, nor its requesters'
    messages, while its promises kept coming due. A team left with no lead is said so,
    with where its flags and escalations go until it has one (the admins)."""
    assert ctx.workspace is not None
    if len(ctx.workspace.teams) < 2:
        return []
    if not team.is_default and await duty.staffing_gap(ctx.uow, ctx.workspace, team) == "people":
        open_tickets = await ctx.uow.tickets.list(ctx.workspace.id, team_id=team.id,
                                                  statuses=ACTIVE_STATUSES, limit=20)
        if open_tickets:
            raise DomainError("admin.last_of_team", names=ctx.join(removed), team=team.name,
                              refs=ctx.join(t.ref for t in reversed(open_tickets)),
                              number=open_tickets[-1].number,
                              default=ctx.workspace.default_team.name)
    if not await team_people(ctx, team, Role.LEAD):
        return [ctx.t("admin.team_no_lead", team=team.name)]
    return []


async def _end_duty(ctx: Context, person, team_ids: set[int]) -> list[str]:
    """Take ``person`` off duty for these teams; for each team where they were on duty
    (a shift or a rota turn), a line saying so and who is on duty there now."""
    assert ctx.workspace is not None
    before = {}
    for team in ctx.workspace.teams:
        if team.id in team_ids:
            before[team.id] = await duty.duty_of(ctx.uow, ctx.desk, ctx.workspace, team,
                                                 ctx.now)
    if not await ctx.uow.workspaces.end_duty(team_ids, person.id):
        return []
    workspace = await ctx.uow.workspaces.get(ctx.workspace.id)  # the rotas as they are now
    said = []
    for team in workspace.teams:
        was = before.get(team.id)
        if was is None or was.now is None or was.now.id != person.id:
            continue  # a later turn of theirs just goes, with nothing to say
        now = (await duty.duty_of(ctx.uow, ctx.desk, workspace, team, ctx.now)).now
        key = "admin.duty_ended_now" if now else (
            "admin.duty_ended_nobody" if await duty.team_people(
                ctx.uow, workspace, team, Role.LEAD) else "admin.duty_ended_alone")
        said.append(ctx.t(key, name=person.name, team=team.name,
                          lead=now.name if now else ""))
    return said


async def agents(ctx: Context) -> None:
    """``/helpdesk agents add|remove <person...>``"""
    await _change_roles(ctx, "agents")


async def leads(ctx: Context) -> None:
    """``/helpdesk leads add|remove <person...>``"""
    await _change_roles(ctx, "leads")


async def _set_channel(ctx: Context, purpose: str) -> None:
    assert ctx.workspace is not None
    if purpose == "status":
        # One status channel speaks for the whole desk's incidents, whatever the team:
        # a team named here is refused as such, not taken for a channel.
        args, team = ctx.args, None
        if re.search(r"(?:^|\s)team(?:\s+\S+)?\s*$", args, re.I):
            raise BadInput("input.status_no_team", "admin.status_usage")
    else:
        args, team = await take_team(ctx, ctx.args, "admin.channel_usage", purpose=purpose)
    channel = channel_ref(args) if args.strip() else ctx.event.channel_id
    if not channel:
        usage = "admin.status_usage" if purpose == "status" else "admin.channel_usage"
        raise BadInput("input.unknown_channel", usage, purpose=purpose)
    if getattr(ctx.event, "is_direct", False) and channel == ctx.event.channel_id:
        raise BadInput("input.channel_is_direct", purpose=purpose)
    workspace = ctx.workspace
    target = team or workspace.default_team
    before = await ctx.uow.workspaces.team_channels(workspace, "triage")
    if purpose == "triage":
        await _keep_last_triage(ctx, before, target, channel)
    await ctx.uow.workspaces.set_channel(workspace.id, purpose, channel, ctx.now,
                                         only_one=purpose in ("triage", "status"), team=team)
    if purpose == "triage" and team is not None and ctx.policy is not None:
        # With the digest on by default (policy.toml), a team's first triage channel is
        # where its first digest is promised.
        await arrange_digest(ctx.uow, ctx.workspace.id, team, ctx.policy, ctx.now)
    several = team is not None and len(workspace.teams) > 1
    said = [ctx.t("admin.channel_set_team" if several else "admin.channel_set",
                  channel=channel, purpose=purpose, team=team.name if team is not None else "")]
    if purpose == "triage":
        said += _triage_moved(ctx, before, target, channel)
    elif purpose == "intake" and not target.is_default:
        gap = await duty.staffing_gap(ctx.uow, workspace, target)
        if gap is not None:
            said.append(ctx.t("admin.intake_unstaffed_" + gap, team=target.name,
                              default=workspace.default_team.name))
    await ctx.answer(" ".join(said))
    ctx.handled = True


async def _keep_last_triage(ctx: Context, before: dict[int, list[str]], target,
                            channel: str) -> None:
    """Refuse (DomainError: nothing changes) to give ``target`` the only triage channel
    of a team that would be left promising times nobody sees (RECHECK-20 N3): the
    default team, which direct messages and mentions always reach, or a team with open
    tickets, whose cards and requesters' messages would land in another team's channel.
    Another team with nothing open may lose it: its intake goes to the default team
    until it has one again (the answer says so)."""
    assert ctx.workspace is not None
    for other in ctx.workspace.teams:
        if other.id == target.id or before.get(other.id) != [channel]:
            continue
        if other.is_default:
            raise DomainError("admin.triage_last_default", channel=channel, team=other.name,
                              target=target.name)
        open_tickets = await ctx.uow.tickets.list(ctx.workspace.id, team_id=other.id,
                                                  statuses=ACTIVE_STATUSES, limit=20)
        if open_tickets:
            raise DomainError("admin.triage_last_open", channel=channel, team=other.name,
                              target=target.name,
                              refs=ctx.join(t.ref for t in reversed(open_tickets)))


def _triage_moved(ctx: Context, before: dict[int, list[str]], target, channel: str) -> list[str]:
    """What else a new triage channel changed, said to the admin who set it: the channel
    it replaced, and the team it was taken from (which now has none, so nobody would see
    that team's cards)."""
    assert ctx.workspace is not None
    said = [ctx.t("admin.triage_replaced", old=old)
            for old in before.get(target.id, []) if old != channel]
    for other in ctx.workspace.teams:
        if other.id != target.id and channel in before.get(other.id, []):
            key = "admin.triage_taken_default" if other.is_default else "admin.triage_taken"
            said.append(ctx.t(key, team=other.name, default=ctx.workspace.default_team.name))
    return said


async def intake(ctx: Context) -> None:
    """``/helpdesk intake <channel>``: messages there open tickets."""
    await _set_channel(ctx, "intake")


async def triage(ctx: Context) -> None:
    """``/helpdesk triage <channel>``: ticket cards go there."""
    await _set_channel(ctx, "triage")


async def status(ctx: Context) -> None:
    """``/helpdesk status <channel>``: incidents' updates go there too."""
    await _set_channel(ctx, "status")


async def show(ctx: Context) -> None:
    """``/helpdesk show``: the desk's configuration in one message, team by team."""
    assert ctx.workspace is not None and ctx.policy is not None
    workspace, uow = ctx.workspace, ctx.uow

    def names(people) -> str:
        return ctx.join(p.name for p in people) or ctx.t("admin.nobody")

    def channels(ids) -> str:
        return ctx.join(f"<#{c}>" for c in ids) or ctx.t("admin.none")

    intake = await uow.workspaces.team_channels(workspace, "intake")
    triage = await uow.workspaces.team_channels(workspace, "triage")
    blocks = []
    for team in workspace.teams:
        policy = ctx.desk.policy(workspace, team)
        calendar, sla = policy.calendar, policy.sla
        blocks.append(ctx.t(
            "admin.show_team", team=team.name,
            default=ctx.t("admin.show_default" if team.is_default else "admin.show_other"),
            intake=channels(intake.get(team.id, ())), triage=channels(triage.get(team.id, ())),
            agents=names(await team_people(ctx, team, Role.AGENT)),
            leads=names(await team_people(ctx, team, Role.LEAD)),
            hours=describe_hours(calendar, policy.templates),
            sla=describe_sla(sla, policy.templates, calendar)))
    await ctx.answer(ctx.t("admin.show", teams="\n".join(blocks)))
    ctx.handled = True


async def team_people(ctx: Context, team, role: Role) -> list:
    """Who works ``team`` as ``role`` (bot/desk/duty.py)."""
    assert ctx.workspace is not None
    return await duty.team_people(ctx.uow, ctx.workspace, team, role)


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def describe_hours(calendar, templates) -> str:
    """``Mon-Fri 09:00-17:00 (Europe/London), 2 holidays``: runs of days with the same
    hours are grouped; every word comes from ``templates`` (``[days]``, ``admin.*``)."""
    def span(hours) -> str:
        close = "24:00" if hours[1].hour == 0 and hours[1].minute == 0 else f"{hours[1]:%H:%M}"
        return f"{hours[0]:%H:%M}-{close}"

    def day(index: int) -> str:
        return templates.render(f"days.{_DAYS[index]}")

    groups: list[list] = []  # [first day, last day, hours]
    for index, hours in enumerate(calendar.hours):
        if hours and groups and groups[-1][1] == index - 1 and groups[-1][2] == hours:
            groups[-1][1] = index
        elif hours:
            groups.append([index, index, hours])
    spans = [templates.render(
        "admin.hours_span", hours=span(h),
        days=day(a) if a == b else templates.render("admin.day_range", first=day(a),
                                                    last=day(b)))
        for a, b, h in groups]
    # Raw: a joiner's spaces matter, and rendering trims them.
    text = (str(templates.raw("admin.hours_joiner")).join(spans)
            or templates.render("admin.closed_every_day"))
    described = templates.render("admin.hours", spans=text, zone=calendar.timezone)
    holidays = len(calendar.holidays)
    if holidays:
        described = templates.render("admin.hours_and_holidays", hours=described,
                                     holidays=holidays)
    return described


def describe_sla(sla, templates, calendar) -> str:
    """Each priority's targets in business time as people read it (business hours and
    the working days they make on ``calendar``)."""
    def business(span) -> str:
        return words.business_time(templates, span, calendar)

    return str(templates.raw("admin.sla_joiner")).join(
        templates.render("admin.sla_line", priority=p.value,
                         first=business(t.first_response),
                         update=business(t.update_interval),
                         resolve=business(t.resolution))
        for p, t in sorted(sla.targets.items(), key=lambda item: item[0].value))


async def promises(ctx: Context) -> None:
    """``/helpdesk promises``: how the desk keeps its word, per agent and in total;
    with several teams, per team (the asker's teams first) and then for the whole desk."""
    from bot.storage.reports import promise_report, promise_report_by_team
    assert ctx.workspace is not None
    workspace = ctx.workspace
    several = len(workspace.teams) > 1
    if several:
        by_team, total = await promise_report_by_team(
            ctx.uow, workspace.id, lambda team_id: workspace.team(team_id).id)
        sections = [(team, by_team[team.id]) for team in await teams_first(ctx)
                    if team.id in by_team]
        made = total.made
    else:
        tallies = await promise_report(ctx.uow, workspace.id)
        sections, made = [(None, tallies)], tallies[-1].made
    if made == 0:
        await ctx.answer(ctx.t("report.empty"))
        ctx.handled = True
        return

    def row(tally, total_key: str = "report.total") -> str:
        owner = {None: ctx.t("report.unowned"), "all": ctx.t(total_key)}.get(
            tally.owner, tally.owner)
        share = tally.on_time_share
        return ctx.t("report.row", owner=owner, made=tally.made, kept=tally.kept,
                     missed=tally.missed, covered=tally.covered, late=tally.late,
                     dead=tally.dead, open=tally.open,
                     share=ctx.t("report.no_share") if share is None
                     else ctx.t("report.share", percent=f"{share:.0%}"))

    lines = [ctx.t("report.header", since="")]
    for team, tallies in sections:
        if team is not None:
            lines.append(ctx.t("report.team", team=team.name))
        lines.extend(row(tally, "report.team_total" if several else "report.total")
                     for tally in tallies)
    if several:
        lines.append(row(total))
    # A lead's exceptions and the difficult conversations flagged: for the staff only.
    for kind in ("exception", "flag"):
        found = await ctx.uow.tickets.latest_events(ctx.workspace.id, kind, REPORT_LATEST)
        if found:
            lines.append(ctx.t(f"report.{kind}s", items=ctx.join(
                ctx.t("report.care_item", ref=f"#{number}", who=who, reason=defang(excerpt(
                    body, 120))) if body else ctx.t("report.care_item_plain", ref=f"#{number}",
                                                    who=who)
                for number, who, body in found)))
    await ctx.answer("\n".join(lines))
    ctx.handled = True


def register(router) -> None:
    """Wire the admin commands into the router."""
    for word, handler in (
        ("agents", agents),
        ("leads", leads),
        ("intake", intake),
        ("triage", triage),
        ("status", status),
        ("show", show),
        ("promises", promises),
    ):
        router.on_command("helpdesk", word, handler, role=Role.ADMIN,
                          description=f"commands.helpdesk_{word}")
