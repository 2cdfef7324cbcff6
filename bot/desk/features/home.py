"""The bot's home surface (Slack's App Home): a queue for agents, open tickets for
requesters, each with the next time the desk has promised something. With several
teams, an agent's queue is shown per team, their own teams first."""

from __future__ import annotations

from datetime import timedelta

from bot.core import Button, FormField, OutboundMessage
from bot.domain.people import Role
from bot.domain.tickets import ACTIVE_STATUSES, Ticket
from bot.desk.context import BadInput, Context
from bot.desk.quoting import defang
from bot.desk.team_refs import readable_teams

BREACHING_WITHIN = timedelta(hours=2)


async def home_opened(ctx: Context) -> None:
    """Publish this person's home view."""
    assert ctx.workspace and ctx.person and ctx.policy
    tz = ctx.person.reads_in(ctx.policy.calendar.timezone)
    fields: list[tuple[str, str]] = []
    mine = await ctx.uow.tickets.list(ctx.workspace.id, requester_id=ctx.person.id,
                                      statuses=ACTIVE_STATUSES, limit=20)
    agent = ctx.role.at_least(Role.AGENT)
    owned = unowned = active = []
    if agent:
        owned = await ctx.uow.tickets.list(ctx.workspace.id, owner_id=ctx.person.id,
                                           statuses=ACTIVE_STATUSES, limit=20)
        # With several teams, enough for each team's part of the queue.
        unowned = await ctx.uow.tickets.list(
            ctx.workspace.id, unowned=True, statuses=ACTIVE_STATUSES,
            limit=20 * len(ctx.workspace.teams or (1,)))
        active = await ctx.uow.tickets.list(ctx.workspace.id, statuses=ACTIVE_STATUSES, limit=200)
    # The next promised time of every ticket shown, in one query.
    due_of = await ctx.uow.promises.next_due(
        list({t.id for t in (*mine, *owned, *unowned, *active)}))

    def next_due(ticket: Ticket):
        return due_of.get(ticket.id)

    lines = []
    for ticket in mine:
        due = next_due(ticket)
        lines.append(ctx.t("home.requester_line", ref=ticket.ref, subject=defang(ticket.subject),
                           status=ctx.policy.status(ticket.status),
                           next=ctx.t("home.requester_next", due=ctx.policy.when(due, ctx.now, tz))
                           if due else ""))
    text = ctx.t("home.requester_intro") + "\n" + ("\n".join(lines) or ctx.t("home.requester_none"))
    if agent:
        breaching = [t for t in active if next_due(t) is not None
                     and next_due(t) - ctx.now <= BREACHING_WITHIN]

        def field(title: str, tickets: list[Ticket]) -> tuple[str, str]:
            rows = []
            for ticket in tickets:
                due = next_due(ticket)
                rows.append(ctx.t("home.agent_line", ref=ticket.ref,
                                  priority=ticket.priority.value, subject=defang(ticket.subject),
                                  next=ctx.policy.when(due, ctx.now, tz) if due else "—"))
            return title, "\n".join(rows) or ctx.t("home.agent_none")

        fields.append(field(ctx.t("home.agent_mine"), owned))
        workspace = ctx.workspace
        if len(workspace.teams) > 1:
            # Each team's queue under its name: the agent's own teams (an admin's:
            # every team, another team's part only when it has something in it).
            ordered = await readable_teams(ctx)
            theirs = set(await ctx.uow.workspaces.teams_of(ctx.person.id)) or {
                workspace.default_team.id}
            for team in ordered:
                def of_team(tickets: list[Ticket]) -> list[Ticket]:
                    return [t for t in tickets if workspace.team(t.team_id).id == team.id]

                for key, tickets in (("home.agent_unowned_team", of_team(unowned)),
                                     ("home.agent_breaching_team", of_team(breaching))):
                    if tickets or team.id in theirs:
                        fields.append(field(ctx.t(key, team=team.name), tickets))
        else:
            fields.append(field(ctx.t("home.agent_unowned"), unowned))
            fields.append(field(ctx.t("home.agent_breaching"), breaching))
    await ctx.post(OutboundMessage(channel_id="", direct_to=ctx.person.external_id,
                                   audience="home",
                                   title=ctx.t("home.title_teams" if len(ctx.workspace.teams) > 1
                                               else "home.title"), text=text,
                                   fields=tuple(fields)), kind="home")
    ctx.handled = True


async def panel(ctx: Context) -> None:
    """``/helpdesk panel``: post a message with an "Open a ticket" button here."""
    assert ctx.workspace is not None
    if ctx.args.strip():
        # A panel's requests go to the team of the channel it is in; a team named here
        # would be ignored, so nothing is posted and the admin hears where to post it.
        words = ctx.args.split()
        name = words[1] if len(words) > 1 and words[0].lower() == "team" else words[0]
        raise BadInput("input.panel_no_team", "admin.panel_usage", team=name[:40],
                       default=ctx.workspace.default_team.name)
    await ctx.post(OutboundMessage(
        channel_id=ctx.event.channel_id, text=ctx.t("panel.text"), audience="requester",
        buttons=(Button(ctx.t("panel.button"), "intake.panel", "", "primary",
                        form=(FormField("text", ctx.t("panel.field"), multiline=True),)),)))
    await ctx.answer(ctx.t("panel.posted"))
    ctx.handled = True


async def panel_pressed(ctx: Context) -> None:
    """The panel's button, with the problem typed into its form: open a ticket in a new
    thread of the panel's channel."""
    from bot.desk.features.intake import open_ticket
    assert ctx.person is not None
    text = (getattr(ctx.event, "form", {}) or {}).get("text", "").strip()
    ctx.handled = True
    if not text:
        # A form sent empty (the console's /press without " | text") is answered, not
        # met with silence.
        await ctx.answer(ctx.t("input.need_subject"))
        return
    await open_ticket(ctx, ctx.person, text, channel_id=ctx.event.channel_id, thread_id="",
                      source_message_id=None)


def register(router) -> None:
    """Wire the home view and the intake panel into the router."""
    router.on_home(home_opened)
    router.on_command("helpdesk", "panel", panel, role=Role.ADMIN,
                      description="commands.helpdesk_panel")
    router.on_button("intake.panel", panel_pressed)
