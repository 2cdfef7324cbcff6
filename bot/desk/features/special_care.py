"""A lead's care for one ticket: service exceptions and difficult conversations.

* ``/ticket exception <n> first=<dur> update=<dur> resolve=<dur> <reason>`` (leads):
  the ticket's own targets from now (any subset), its open promises re-planned
  (:func:`bot.domain.service_exceptions.replan_for_exception`), the reason and the lead
  on the timeline, and the requester told only of a time that comes sooner.
* ``/ticket flag <n> <reason>`` (agents), or the flag reaction on a requester's
  message: a difficult conversation, told privately to the lead on duty with the
  message and the agent's reason. The requester is never told; it shows on the card
  and the timeline for the staff only.
"""

from __future__ import annotations

import json
from dataclasses import replace

from bot.core import ReactionAdded
from bot.domain.errors import DomainError, Phrase, Unreadable
from bot.domain.people import Role
from bot.domain.promises import UPDATE_KINDS
from bot.domain.service_exceptions import FIELDS, exception_target, replan_for_exception
from bot.domain.sla import out_of_order, parse_duration
from bot.desk.cards import queue_card
from bot.desk.context import BadInput, Context
from bot.desk.features.lookup import NotTheirTeam, load_ticket, may_work, split_number, when_for
from bot.desk.duty import escalation_leads, team_people
from bot.desk.notify import admins_of, to_agents, to_person, to_requester
from bot.desk.quoting import defang, excerpt

REASON_LIMIT = 500


def _read_targets(args: str) -> tuple[dict[str, float], str]:
    """``first=2h resolve=3d the reason`` as {SlaTarget field: seconds} and the reason;
    the targets may come anywhere among the words (Discord sends the reason first)."""
    targets: dict[str, float] = {}
    reason: list[str] = []
    for word in args.split():
        name, equals, value = word.partition("=")
        if not equals or name.lower() not in FIELDS:
            reason.append(word)
            continue
        if FIELDS[name.lower()] in targets:
            raise BadInput("input.exception_twice", "usage.ticket_exception",
                           target=name.lower())
        try:
            targets[FIELDS[name.lower()]] = parse_duration(value).total_seconds()
        except Unreadable as error:
            raise BadInput.unreadable(error, "usage.ticket_exception") from None
    if not targets:
        raise BadInput("input.need_exception", "usage.ticket_exception")
    if not reason:
        # A lead's reason is what the timeline and the reports keep: never optional.
        raise BadInput("input.need_exception_reason", "usage.ticket_exception")
    return targets, " ".join(reason)


async def exception(ctx: Context) -> None:
    """``/ticket exception <n> first=<dur> update=<dur> resolve=<dur> <reason>``"""
    number, rest = split_number(ctx.args, "usage.ticket_exception")
    changed, reason = _read_targets(rest)
    ticket = await load_ticket(ctx, number)  # ctx.policy: the ticket's, as it stands
    assert ctx.workspace is not None and ctx.person is not None and ctx.policy is not None
    assert ctx.team is not None
    leads = await team_people(ctx.uow, ctx.workspace, ctx.team, Role.LEAD)
    if not ctx.role.at_least(Role.ADMIN) and ctx.person.id not in {p.id for p in leads}:
        # A team's targets are its leads' to bend (an agent of the team who leads
        # another is not one of them).
        raise DomainError("work.exception_not_their_lead", ref=ticket.ref,
                          team=ctx.team.name,
                          leads=ctx.join(p.name for p in leads) if leads
                          else Phrase("work.exception_no_leads", team=ctx.team.name))
    ctx.handled = True
    if not ticket.status.is_active:
        await ctx.answer(ctx.t("work.exception_inactive", ref=ticket.ref,
                               status=ctx.policy.status(ticket.status, agent=True)))
        return
    base = ctx.desk.policy(ctx.workspace, ctx.team)
    granted = {**(ticket.sla_exception or {}), **changed}
    target = exception_target(base.sla.target(ticket.priority), granted)
    problem = out_of_order(target)
    if problem == "first_after_update" and ticket.first_response_at is not None:
        # The first reply was given: its target binds nothing now, so a lead tightening
        # the updates alone is not asked to invent one (FINDINGS-20c M6).
        problem = out_of_order(replace(target, first_response=target.update_interval))
    said = {"first": ctx.policy.business_time(target.first_response),
            "update": ctx.policy.business_time(target.update_interval),
            "resolve": ctx.policy.business_time(target.resolution)}
    if problem is not None:
        raise BadInput(f"policy.sla_{problem}", "usage.ticket_exception", **said)
    reason = excerpt(reason, REASON_LIMIT)
    uow, now = ctx.uow, ctx.now
    ticket = await uow.tickets.update(ticket.id, sla_exception=json.dumps(granted, sort_keys=True),
                                      updated_at=now)
    ctx.for_ticket(ticket)
    policy = ctx.policy
    open_promises = await uow.promises.open_for_ticket(ticket.id)
    planned = replan_for_exception(open_promises, now, policy.calendar, target,
                                   policy.sla.warn_at, set(changed))
    await uow.promises.replan(planned)
    await uow.tickets.add_event(ticket.id, "exception", now, author_id=ctx.person.id,
                                body=reason, targets=changed,
                                lead=ctx.person.name)
    sooner = sorted(planned[p.id][0] for p in open_promises
                    if p.id in planned and p.kind in UPDATE_KINDS)
    requester = await uow.people.get(ticket.requester_id)
    if sooner:
        await ctx.post(to_requester(ticket, ctx.t(
            "work.exception_sooner", ref=ticket.ref, due=when_for(ctx, sooner[0], requester))),
            ticket_id=ticket.id)
    note = to_agents(ticket, ctx.t("agent.exception_triage", lead=ctx.person.name,
                                   ref=ticket.ref, reason=defang(reason), **said))
    if note is not None:
        await ctx.post(note, ticket_id=ticket.id)
    await ctx.answer(ctx.t("work.exception_done_told" if sooner else "work.exception_done",
                           ref=ticket.ref, requester=requester.name, **said))
    await queue_card(ctx, ticket)




async def _flag(ctx: Context, ticket, message: str, reason: str) -> None:
    """Tell the lead on duty (else the team's leads; with none, the admins), privately,
    about a difficult conversation on ``ticket``: the requester's ``message`` and the
    agent's ``reason``. The requester is never told; the agent gets a kind word."""
    assert ctx.workspace is not None and ctx.person is not None and ctx.team is not None
    uow = ctx.uow
    requester = await uow.people.get(ticket.requester_id)
    await uow.tickets.add_event(ticket.id, "flag", ctx.now, author_id=ctx.person.id,
                                body=reason, message=excerpt(message, REASON_LIMIT))
    # A lead flagging their own conversation tells the team's other leads; a team
    # with no (other) lead tells the admins, never another team's leads.
    told, _ = await escalation_leads(uow, ctx.desk, ctx.workspace, ctx.team, ctx.now,
                                     besides=ctx.person.id)
    if not told:
        told = [admin for admin in await admins_of(uow, ctx.workspace, ctx.desk.admins, ctx.now)
                if admin.id != ctx.person.id]
    text = ctx.t("agent.flag_lead_reason" if reason else "agent.flag_lead",
                 agent=ctx.person.name, ref=ticket.ref, requester=requester.name,
                 message=defang(excerpt(message, REASON_LIMIT)), reason=defang(reason),
                 number=ticket.number)
    for lead in told:
        await ctx.post(to_person(lead, text, ticket), ticket_id=ticket.id)
    await ctx.answer(ctx.t("agent.flag_thanks" if told else "agent.flag_thanks_alone",
                           leads=ctx.join(p.name for p in told), requester=requester.name))
    await queue_card(ctx, ticket)


async def _last_words(ctx: Context, ticket) -> str:
    """What the requester last wrote on ``ticket`` (their first message if nothing since)."""
    for entry in reversed(await ctx.uow.tickets.timeline(ticket.id)):
        if entry.kind == "requester" and entry.author_id == ticket.requester_id:
            return entry.body or ""
    return ticket.first_message


async def flag(ctx: Context) -> None:
    """``/ticket flag <n> <reason>``: a difficult conversation, to the lead on duty."""
    number, reason = split_number(ctx.args, "usage.ticket_flag")
    if not reason:
        raise BadInput("input.need_flag_reason", "usage.ticket_flag")
    ticket = await load_ticket(ctx, number)
    ctx.handled = True
    await _flag(ctx, ticket, await _last_words(ctx, ticket), excerpt(reason, REASON_LIMIT))


async def on_flag_reaction(ctx: Context) -> None:
    """The flag reaction by an agent on a requester's message in a ticket's thread."""
    event = ctx.event
    assert isinstance(event, ReactionAdded) and ctx.workspace and ctx.policy
    if event.emoji.strip(":") not in (ctx.policy.flag_emoji, "🚩"):
        return
    if not ctx.role.at_least(Role.AGENT) or event.message_author is None:
        return
    ticket = await ctx.uow.tickets.by_thread(ctx.workspace.id, event.channel_id,
                                             event.thread_id or event.message_id)
    if ticket is None:
        return
    requester = await ctx.uow.people.get(ticket.requester_id)
    # A requester's own message, or the desk's relay of it under the card.
    relayed = event.message_author.is_bot and (
        (event.channel_id == ticket.triage_channel_id
         and event.thread_id == ticket.triage_message_id)
        or (event.thread_id is not None and await ctx.uow.tickets.is_moved_card(
            ticket.id, event.channel_id, event.thread_id)))
    if event.message_author.user_id != requester.external_id and not relayed:
        return  # only a requester's words are flagged
    ctx.for_ticket(ticket)
    ctx.handled = True
    if not await may_work(ctx, ticket):
        # Another team's matter (the reaction's reader may sit in its channels): only
        # its people flag it, as with /ticket flag.
        assert ctx.team is not None
        raise NotTheirTeam(ticket, ctx.team)
    await _flag(ctx, ticket, event.message_text, "")


def register(router) -> None:
    """Wire a lead's ticket care into the router."""
    router.on_command("ticket", "exception", exception, role=Role.LEAD,
                      description="commands.ticket_exception")
    router.on_command("ticket", "flag", flag, role=Role.AGENT,
                      description="commands.ticket_flag")
    router.on_reaction(on_flag_reaction)
