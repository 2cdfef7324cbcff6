"""Looking at tickets: ``show``, ``mine`` and ``help``.

Requesters see only their own tickets and never internal notes; agents see everything.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.people import Role
from bot.domain.tickets import TicketStatus
from bot.desk.context import Context
from bot.desk.quoting import defang, excerpt
from bot.desk.features.lookup import load_visible_ticket, split_number

_REQUESTER_KINDS = ("opened", "requester", "reply", "resolution", "status", "owner", "priority",
                    "promise", "bot", "escalated", "self_solved", "incident_linked",
                    "incident_unlinked", "incident_update", "incident_cover", "incident_declined",
                    "transferred")
# Staff matters: a lead's exception, and above all a flag of a difficult conversation,
# which the requester must never see. (A transfer shows to the requester as the move
# alone, never its reason: describe_entry.)
_AGENT_ONLY = ("note", "no_lead", "feedback", "held", "exception", "flag", "handed_back")
TIMELINE_LIMIT = 30
DETAIL_LIMIT = 300


async def show(ctx: Context) -> None:
    """``/ticket show <n>``: status, owner, priority, the first message and the timeline."""
    number, _ = split_number(ctx.args, "usage.ticket_show")
    # Someone else's ticket is answered as one that does not exist.
    ticket = await load_visible_ticket(ctx, number)
    assert ctx.person is not None and ctx.policy is not None
    is_agent = ctx.role.at_least(Role.AGENT)
    tz = ctx.person.reads_in(ctx.policy.calendar.timezone)
    owner = await ctx.uow.people.get(ticket.owner_id) if ticket.owner_id else None
    lines = [ctx.t("view.header", ref=ticket.ref, subject=defang(ticket.subject),
                   status=ctx.policy.status(ticket.status, agent=is_agent),
                   owner=owner.name if owner else ctx.t("card.unowned"),
                   priority=ctx.policy.priority(ticket.priority),
                   opened=ctx.policy.when(ticket.created_at, ctx.now, tz)),
             ctx.t("view.first_message", text=defang(excerpt(ticket.first_message, 1500))),
             ctx.t("view.timeline")]
    incident_id = (await ctx.uow.incidents.links_of([ticket.id])).get(ticket.id)
    if incident_id is not None:
        incident = await ctx.uow.incidents.get(incident_id)
        lines.insert(1, ctx.t("view.incident", incident=incident.ref,
                              title=defang(incident.title)))
    allowed = _REQUESTER_KINDS + (_AGENT_ONLY if is_agent else ())
    names: dict[int, str] = {}
    timeline = await ctx.uow.tickets.timeline(ticket.id)
    # A held message shows until the requester answers; then it is on this ticket as
    # their words, or on the new ticket it became.
    answered = {(e.data or {}).get("message_id") for e in timeline if e.kind == "held_answered"}
    entries = [e for e in timeline if e.kind in allowed
               and not (e.kind == "held" and (e.data or {}).get("message_id") in answered)]
    for entry in entries[-TIMELINE_LIMIT:]:
        who = ctx.t("view.the_desk")
        if entry.author_id is not None:
            if entry.author_id not in names:
                names[entry.author_id] = (await ctx.uow.people.get(entry.author_id)).name
            who = names[entry.author_id]
        lines.append(ctx.t("view.line", when=ctx.policy.when(entry.created_at, ctx.now, tz), who=who,
                           what=describe_entry(ctx, entry, who, tz, is_agent)))
    await ctx.answer("\n".join(lines))
    ctx.handled = True


def describe_entry(ctx: Context, entry, who: str, tz: str, is_agent: bool) -> str:
    """What happened in one timeline entry, in the words of its ``view.kind_*`` template:
    the plain form, or the ``_detail`` form when there is something to quote."""
    data = entry.data or {}
    detail = defang(excerpt(entry.body or "", DETAIL_LIMIT))
    key, fields = f"view.kind_{entry.kind}", {}
    if entry.kind == "status":
        status = TicketStatus(entry.body)
        fields["detail"] = ctx.policy.status(status, agent=is_agent)
    elif entry.kind == "priority":
        fields["detail"] = entry.body
    elif entry.kind == "owner":
        if entry.body and entry.body != who:
            key, fields = "view.kind_owner_for", {"detail": entry.body}
    elif entry.kind == "promise":
        due = data.get("due_at")
        fields["due"] = ctx.policy.when(datetime.fromisoformat(due), ctx.now, tz) if due else ""
        if due and data.get("moved_from"):
            fields["due"] = ctx.t("view.promise_moved", due=fields["due"], old=ctx.policy.when(
                datetime.fromisoformat(data["moved_from"]), ctx.now, tz))
        if entry.body:
            key, fields["detail"] = "view.kind_promise_detail", detail
    elif entry.kind == "feedback":
        if data.get("comment") is not None:
            key, fields["detail"] = "view.kind_comment", detail
        else:
            fields["detail"] = entry.body
    elif entry.kind == "transferred":
        fields["team"] = data.get("to_team") or ""
        if not is_agent:
            # Where it went, in the desk's voice; the reason is the staff's.
            key = "view.kind_transferred_requester"
        elif detail:
            key, fields["detail"] = "view.kind_transferred_detail", detail
    elif entry.kind == "handed_back":
        fields["detail"], fields["team"] = entry.body or "", data.get("team") or ""
    elif entry.kind in ("opened", "bot"):
        pass
    elif entry.kind.startswith("incident_"):
        fields["incident"] = data.get("incident", "")
        if entry.kind == "incident_update" and detail:
            key, fields["detail"] = "view.kind_incident_update_detail", detail
    elif entry.kind == "escalated" and not is_agent:
        pass  # the reason is for the staff
    elif entry.kind == "no_lead" and data.get("automatic"):
        key, fields["detail"] = "view.kind_no_lead_automatic", detail
    elif detail:
        key, fields["detail"] = f"view.kind_{entry.kind}_detail", detail
    return ctx.t(key, **fields)


async def mine(ctx: Context) -> None:
    """``/ticket mine``: tickets you asked for (and, for agents, the ones you own)."""
    assert ctx.workspace is not None and ctx.person is not None
    asked = await ctx.uow.tickets.list(ctx.workspace.id, requester_id=ctx.person.id, limit=20)
    owned = []
    if ctx.role.at_least(Role.AGENT):
        owned = [t for t in await ctx.uow.tickets.list(ctx.workspace.id, owner_id=ctx.person.id,
                                                        limit=20) if t.status.is_active]
    if not asked and not owned:
        await ctx.answer(ctx.t("view.mine_empty"))
        ctx.handled = True
        return
    lines = []
    for title, tickets in (("view.mine_header", asked), ("view.mine_owned", owned)):
        if tickets:
            lines.append(ctx.t(title))
            lines.extend(ctx.t("view.mine_line", ref=t.ref, subject=defang(t.subject),
                               status=ctx.policy.status(t.status,
                                                        agent=title == "view.mine_owned"))
                         for t in tickets)
    await ctx.answer("\n".join(lines))
    ctx.handled = True


async def help_(ctx: Context) -> None:
    """``/ticket help``: what this person can do."""
    text = ctx.t("help.requester")
    if ctx.role.at_least(Role.AGENT):
        text += "\n" + ctx.t("help.agent")
    if ctx.role.at_least(Role.ADMIN):
        text += "\n" + ctx.t("help.admin")
    await ctx.answer(text)
    ctx.handled = True


def register(router) -> None:
    """Wire the viewing commands into the router."""
    router.on_command("ticket", "show", show, description="commands.ticket_show")
    router.on_command("ticket", "mine", mine, description="commands.ticket_mine")
    router.on_command("ticket", "help", help_, description="commands.help")
    router.on_command("helpdesk", "help", help_, description="commands.help")
