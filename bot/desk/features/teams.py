"""Teams behind one front door: setting them up, and moving a ticket between them.

``/helpdesk team add|remove|rename`` (admins) shapes the workspace's teams;
``/ticket transfer <n> <team> [reason]`` (agents) moves a ticket to another team: its
card goes to the new team's triage channel, the old card is edited in place to say
where it went (without its buttons) and its thread says so too, its open promises are
re-planned on the new team's calendar and targets from now (never sooner than a time
the requester holds: :func:`bot.domain.teams.replan_for_transfer`), and the requester
hears in one sentence who has it now. The ticket keeps its number.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.domain.errors import Unreadable
from bot.domain.people import Role
from bot.domain.promises import UPDATE_KINDS
from bot.domain.teams import replan_for_transfer, team_name
from bot.domain.tickets import ACTIVE_STATUSES, TicketStatus
from bot.desk import duty
from bot.desk.cards import queue_card, render_moved_card, render_moved_on_card
from bot.desk.context import BadInput, Context
from bot.desk.features.lookup import load_ticket, split_number, when_for, works_for
from bot.desk.notify import to_agents, to_requester
from bot.desk.quoting import defang, excerpt
from bot.desk.team_refs import named_team, shown

logger = logging.getLogger(__name__)

REASON_LIMIT = 300


async def _name(ctx: Context, text: str) -> str:
    """``text`` as a new team's name: one the commands can never read as anything
    else, so neither a word they already read (``team``, ``rota``), nor a mention or a
    pronoun (``@hana``, ``me``), nor what the desk calls someone it knows (``hana``:
    ``agents add hana`` and ``team hana`` would each read two ways)."""
    assert ctx.workspace is not None
    try:
        name = team_name(text)
    except Unreadable as error:
        raise BadInput.unreadable(shown(error), "admin.team_usage") from None
    person = await ctx.uow.people.find(ctx.workspace.id, name)
    if person is not None:
        raise BadInput("input.team_name_person", "admin.team_usage", name=name,
                       person=person.name)
    return name


async def team(ctx: Context) -> None:
    """``/helpdesk team add|remove <name>`` or ``/helpdesk team rename <name> <new>``."""
    assert ctx.workspace is not None
    words = ctx.args.split()
    verb = words[0].lower() if words else ""
    wanted = 3 if verb == "rename" else 2
    if verb == "rename" and len(words) == 2:
        raise BadInput("input.need_new_team_name", "admin.team_usage", team=excerpt(words[1], 40))
    if verb not in ("add", "remove", "rename") or len(words) < wanted:
        raise BadInput("input.need_team_change", "admin.team_usage")
    if len(words) > wanted:
        # "team add hr team": say which word is one too many, not that one is missing.
        extra = excerpt(ctx.args.split(None, wanted)[wanted], 40)
        raise BadInput("input.team_name_one_word", "admin.team_usage", extra=extra)
    workspaces, workspace = ctx.uow.workspaces, ctx.workspace
    ctx.handled = True
    if verb == "add":
        name = await _name(ctx, words[1])
        added = await workspaces.add_team(workspace.id, name, ctx.now)
        await ctx.answer(ctx.t("admin.team_added" if added else "admin.team_exists", team=name))
        return
    current = await named_team(ctx, words[1], "admin.team_usage")
    if verb == "rename":
        name = await _name(ctx, words[2])
        if workspace.team_named(name) is not None:
            await ctx.answer(ctx.t("admin.team_exists", team=name))
            return
        await workspaces.rename_team(current.id, name)
        await ctx.answer(ctx.t("admin.team_renamed", old=current.name, team=name))
        return
    if current.is_default:
        await ctx.answer(ctx.t("admin.team_remove_default", team=current.name))
        return
    busy = await ctx.uow.tickets.list(workspace.id, statuses=ACTIVE_STATUSES,
                                      team_id=current.id)
    if busy:
        await ctx.answer(ctx.t("admin.team_remove_busy", team=current.name,
                               refs=ctx.join(t.ref for t in reversed(busy))))
        return
    # Someone who worked only this team works the default one once it is gone (a person
    # in no team does): the admin hears who, rather than finding them there later.
    members = {person_id for role in ("agent", "lead")
               for person_id in await workspaces.team_members(current.id, role)}
    only_here = [person_id for person_id in members
                 if set(await workspaces.teams_of(person_id)) == {current.id}]
    intake = (await workspaces.team_channels(workspace, "intake")).get(current.id, [])
    await workspaces.remove_team(current.id, workspace.default_team.id)
    default = workspace.default_team.name
    if not only_here:
        said = ctx.t("admin.team_removed", team=current.name)
    else:
        names = [(await ctx.uow.people.get(person_id)).name for person_id in only_here]
        said = ctx.t("admin.team_removed_moved", team=current.name,
                     names=ctx.join(sorted(names)), default=default)
    if intake:
        # Its intake channels stay intake channels, for the default team: people keep
        # writing there, and nobody's request may be dropped without a word.
        said += " " + ctx.t("admin.team_removed_intake", team=current.name, default=default,
                            channels=ctx.join(f"<#{c}>" for c in intake))
    await ctx.answer(said)


async def transfer(ctx: Context) -> None:
    """``/ticket transfer <n> <team> [reason]``: move a ticket to another team."""
    assert ctx.workspace is not None and ctx.person is not None
    number, rest = split_number(ctx.args, "usage.ticket_transfer")
    word, _, reason = rest.partition(" ")
    if word.lower() == "team" and reason.strip():
        # "transfer 5 team hr": the word people say before a team's name (no team is
        # called "team").
        word, _, reason = reason.strip().partition(" ")
    if not word:
        raise BadInput("input.need_team", "usage.ticket_transfer")
    ticket = await load_ticket(ctx, number)  # ctx works for the ticket's team now
    old_team = ctx.team
    # "transfer 5 @hana" or "transfer 5 me" means a person: that is /ticket assign.
    new_team = await named_team(ctx, word, "usage.ticket_transfer",
                                person="input.transfer_to_person",
                                number=ticket.number)
    reason = excerpt(reason.strip(), REASON_LIMIT)
    ctx.handled = True
    if old_team is not None and new_team.id == old_team.id:
        await ctx.answer(ctx.t("work.transfer_same", ref=ticket.ref, team=new_team.name))
        return
    if not ticket.status.is_active:
        await ctx.answer(ctx.t("work.transfer_inactive", ref=ticket.ref, team=new_team.name,
                               status=ctx.policy.status(ticket.status, agent=True)))
        return
    uow, now = ctx.uow, ctx.now
    # A team with no triage channel would never see the ticket or the requester's next
    # words, while the requester was told it has it: nothing moves until it has one.
    # Nor does a team nobody works: its card would sit where, as far as the desk knows,
    # nobody looks.
    gap = await duty.staffing_gap(uow, ctx.workspace, new_team)
    if gap is not None:
        await ctx.answer(ctx.t("work.transfer_no_" + gap, ref=ticket.ref, team=new_team.name,
                               old_team=old_team.name if old_team else ""))
        return
    # The old card's thread says where the ticket went, while it is still that card's.
    said = ctx.t("agent.transferred_out_reason" if reason else "agent.transferred_out",
                 ref=ticket.ref, team=new_team.name, agent=ctx.person.name,
                 reason=defang(reason))
    old_thread = to_agents(ticket, said)
    if old_thread is not None:
        await ctx.post(old_thread, ticket_id=ticket.id)
    # And the old card itself, edited in place, says where it went and loses its
    # buttons: a plain post (not a card row), so the new team's first card, queued for
    # the same ticket below, does not supersede it.
    requester_person = await uow.people.get(ticket.requester_id)
    for channel_id, message_id in await uow.tickets.moved_cards(ticket.id):
        # Cards left by earlier moves say where the ticket is now, not where it went then.
        await ctx.post(render_moved_on_card(ctx.policy, ticket, channel_id=channel_id,
                                            message_id=message_id, requester=requester_person,
                                            team=new_team.name), ticket_id=ticket.id)
    if ticket.triage_channel_id and ticket.triage_message_id:
        # People keep writing under the old card: its thread must still reach the ticket.
        await uow.tickets.remember_moved_card(ticket.id, ticket.triage_channel_id,
                                              ticket.triage_message_id, ctx.now)
        await ctx.post(render_moved_card(
            ctx.policy, ticket, requester=await uow.people.get(ticket.requester_id),
            team=new_team.name, agent=ctx.person.name, reason=defang(reason)),
            ticket_id=ticket.id)
    # The requester keeps reading times in the zone they were told them in (the old
    # team's, for someone the desk kept none for yet), never switched to the new team's.
    requester = await uow.people.keep_zone(await uow.people.get(ticket.requester_id),
                                           ctx.policy.calendar.timezone)
    # The owner stays only if they work the new team; otherwise it waits for one there.
    owner = await uow.people.get(ticket.owner_id) if ticket.owner_id else None
    dropped = None
    if owner is not None and not await works_for(ctx, owner.id, new_team):
        owner, dropped = None, owner
    # The time the requester held before the ticket's first transfer, and whether a
    # transfer already apologised for a later time: a misroute is planned from that
    # time and is sorry once, however many hops it takes (FINDINGS-20c M3).
    earlier = [e.data or {} for e in await uow.tickets.timeline(ticket.id)
               if e.kind == "transferred"]
    held_first = next((datetime.fromisoformat(d["held"]) for d in earlier if d.get("held")),
                      None)
    sorry_before = any(d.get("later") for d in earlier)
    values = {"team_id": new_team.id, "triage_channel_id": None, "triage_message_id": None,
              "updated_at": now}
    if owner is None and ticket.owner_id is not None:
        values["owner_id"] = None
        if ticket.status is TicketStatus.IN_PROGRESS:
            values["status"] = TicketStatus.OPEN.value
        await uow.promises.hand_to(ticket.id, None)
    ticket = await uow.tickets.update(ticket.id, **values)
    # From here on, the new team's calendar and targets.
    ctx.for_ticket(ticket)
    policy = ctx.policy
    open_promises = await uow.promises.open_for_ticket(ticket.id)
    planned = replan_for_transfer(open_promises, now, policy.calendar,
                                  policy.sla.target(ticket.priority), policy.sla.warn_at,
                                  held_first)
    await uow.promises.replan(planned)
    held_before = sorted(p.due_at for p in open_promises
                         if p.id in planned and p.kind in UPDATE_KINDS)
    held = sorted(planned[p.id][0] for p in open_promises
                  if p.id in planned and p.kind in UPDATE_KINDS)
    later = bool(held) and held[0] > held_before[0]
    await uow.tickets.add_event(ticket.id, "transferred", now, author_id=ctx.person.id,
                                body=reason, from_team=old_team.name if old_team else None,
                                to_team=new_team.name,
                                held=held_before[0].isoformat() if held_before else None,
                                later=later)
    key = "work.transferred" + ("_owner" if owner else "") + ("" if held else "_no_time")
    said = ctx.t(key, ref=ticket.ref, team=new_team.name, owner=owner.name if owner else "",
                 due=when_for(ctx, held[0], requester) if held else "")
    if later and not sorry_before:
        # The new team cannot answer by the time the requester was given: say so, and
        # be sorry for it, rather than let a later time pass as if nothing moved (once
        # per misroute: a further hop states its time without a second apology).
        said += " " + ctx.t("work.transferred_later",
                            before=when_for(ctx, held_before[0], requester))
    if dropped is not None:
        # They were told who was looking after it: say that it is no longer them.
        said += " " + ctx.t("work.transferred_handed", owner=dropped.name)
    await ctx.post(to_requester(ticket, said), ticket_id=ticket.id)
    await queue_card(ctx, ticket)
    answer = ctx.t("work.transfer_done", ref=ticket.ref, team=new_team.name,
                   requester=requester.name)
    if dropped is not None:
        you = dropped.id == ctx.person.id
        answer += " " + ctx.t("work.transfer_you_dropped" if you
                              else "work.transfer_owner_dropped", ref=ticket.ref,
                              team=new_team.name, owner=dropped.name)
    await ctx.answer(answer)
    logger.info("ticket %d moved to team %d", ticket.id, new_team.id)


def register(router) -> None:
    """Wire the team commands into the router."""
    router.on_command("helpdesk", "team", team, role=Role.ADMIN,
                      description="commands.helpdesk_team")
    router.on_command("ticket", "transfer", transfer, role=Role.AGENT,
                      description="commands.ticket_transfer")
