"""``/ticket transcript <n> [with-notes]``: the ticket's history as files (an offline
HTML page and Markdown), sent to the person who asked in their direct messages with the
bot, never into a channel.

Built from the desk's own timeline and promise ledger, not the platform's history. A
requester may have only their own tickets' transcripts (anyone else's reads as a ticket
that does not exist) and never internal notes; an agent gets the notes only when they
ask ``with-notes``.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core import OutboundMessage
from bot.desk.context import BadInput, Context
from bot.desk.features.lookup import load_visible_ticket, split_number, ticket_of_button
from bot.desk.features.views import describe_entry
from bot.desk.transcript import (
    MAX_ENTRIES, PromiseLine, Transcript, TranscriptEntry, transcript_files,
)
from bot.domain.people import Role
from bot.domain.promises import PromiseStatus
from bot.domain.tickets import Ticket
from bot.storage.promise_repository import PromiseHistory

# What a requester's transcript may show (as ``/ticket show`` does); agents also see
# the feedback and the staff's own entries, and notes only when they ask for them.
_REQUESTER_KINDS = ("opened", "requester", "reply", "resolution", "status", "owner", "priority",
                    "promise", "bot", "escalated", "self_solved", "transferred")
_AGENT_KINDS = ("feedback", "no_lead")
_NOTE_KINDS = ("note",)
# What anyone sees of their own doing: a requester's rating and comment are theirs.
_OWN_KINDS = ("feedback",)
# Entries that are someone's words: shown whole, under what they did.
_MESSAGE_KINDS = ("requester", "reply", "note", "resolution")
WITH_NOTES = ("with-notes", "with_notes", "notes")


def stamp(moment: datetime, tz: str) -> str:
    """A moment as a file keeps it: a date and time in ``tz``, which stay true whenever
    the file is read (unlike "today at 10:00")."""
    return f"{moment.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M} {tz}"


def outcome(ctx: Context, promise: PromiseHistory, tz: str) -> str:
    """How one promise ended, in words."""
    at = stamp(promise.resolved_at, tz) if promise.resolved_at else ""
    if promise.status is PromiseStatus.KEPT:
        on_time = promise.resolved_at is not None and promise.resolved_at <= promise.due_at
        return ctx.t("transcript.kept_on_time" if on_time else "transcript.kept_late", at=at)
    if promise.status is PromiseStatus.MISSED:
        if promise.resolution == "bot":
            return ctx.t("transcript.covered", at=at)
        return ctx.t("transcript.undelivered")
    if promise.status is PromiseStatus.CANCELLED:
        return ctx.t("transcript.replaced")
    if promise.status is PromiseStatus.PAUSED:
        return ctx.t("transcript.paused")
    return ctx.t("transcript.open")


async def build_transcript(ctx: Context, ticket: Ticket, *, with_notes: bool) -> Transcript:
    """The transcript of ``ticket`` as this person may see it."""
    assert ctx.person is not None and ctx.policy is not None
    is_agent = ctx.role.at_least(Role.AGENT)
    tz = ctx.person.reads_in(ctx.policy.calendar.timezone)
    people = await ctx.uow.people.many({i for i in (ticket.requester_id, ticket.owner_id) if i})
    requester = people.get(ticket.requester_id)
    owner = people.get(ticket.owner_id) if ticket.owner_id else None
    facts = [
        (ctx.t("transcript.requester"), requester.name if requester else ""),
        (ctx.t("transcript.status"), ctx.policy.status(ticket.status, agent=is_agent)),
        (ctx.t("transcript.owner"), owner.name if owner else ctx.t("card.unowned")),
        (ctx.t("transcript.priority"), ctx.policy.priority(ticket.priority)),
        (ctx.t("transcript.opened"), stamp(ticket.created_at, tz)),
    ]
    allowed = _REQUESTER_KINDS + (_AGENT_KINDS if is_agent else ()) \
        + (_NOTE_KINDS if is_agent and with_notes else ())
    timeline = [e for e in await ctx.uow.tickets.timeline(ticket.id)
                if e.kind in allowed or (e.kind in _OWN_KINDS and e.author_id == ctx.person.id)]
    if not is_agent:
        # The desk's own escalation on repeated misses goes to the leads only; the
        # requester was never told, so their copy does not disclose it.
        timeline = [e for e in timeline
                    if not (e.kind == "escalated" and (e.data or {}).get("automatic"))]
    shown = timeline[-MAX_ENTRIES:]
    names = {person.id: person.name for person in people.values()}
    unknown = {e.author_id for e in shown if e.author_id is not None} - set(names)
    if unknown:
        names.update({pid: p.name for pid, p in (await ctx.uow.people.many(unknown)).items()})
    entries = []
    for entry in shown:
        who = names.get(entry.author_id, "") if entry.author_id is not None \
            else ctx.t("view.the_desk")
        if entry.kind == "escalated" and not is_agent:
            # What the requester was told at the time: a lead was asked to look too.
            entries.append(TranscriptEntry(stamp(entry.created_at, tz), who,
                                           ctx.t("transcript.escalated_requester")))
        elif entry.kind in _MESSAGE_KINDS and entry.body:
            entries.append(TranscriptEntry(stamp(entry.created_at, tz), who,
                                           ctx.t(f"view.kind_{entry.kind}"), entry.body,
                                           internal=entry.kind == "note"))
        else:
            entries.append(TranscriptEntry(stamp(entry.created_at, tz), who,
                                           describe_entry(ctx, entry, who, tz, is_agent)))
    promises = [PromiseLine(ctx.t(f"what.{p.kind.value}"), stamp(p.due_at, tz),
                            outcome(ctx, p, tz))
                for p in await ctx.uow.promises.history_of_ticket(ticket.id)]
    return Transcript(ref=ticket.ref, subject=ticket.subject, facts=facts,
                      first_message=ticket.first_message, entries=entries, promises=promises,
                      total_entries=len(timeline), with_notes=is_agent and with_notes,
                      made_at=stamp(ctx.now, tz))


async def transcript(ctx: Context) -> None:
    """Send the transcript to the asker's direct messages; say so where they asked."""
    assert ctx.person is not None and ctx.policy is not None
    number, rest = split_number(ctx.args, "usage.ticket_transcript")
    asked_notes = rest.lower() in WITH_NOTES
    if rest and not asked_notes:
        raise BadInput("input.transcript_option", "usage.ticket_transcript", option=rest[:40])
    ticket = await load_visible_ticket(ctx, number)
    ctx.handled = True
    is_agent = ctx.role.at_least(Role.AGENT)
    built = await build_transcript(ctx, ticket, with_notes=asked_notes)
    text = ctx.t("transcript.sent", ref=ticket.ref)
    if asked_notes and not is_agent:
        text += "\n" + ctx.t("transcript.notes_for_agents")
    await ctx.post(OutboundMessage(
        channel_id="", direct_to=ctx.event.actor.user_id, text=text, audience="person",
        ticket_number=ticket.number, attachments=transcript_files(built, ctx.policy.templates)),
        ticket_id=ticket.id)
    if not getattr(ctx.event, "is_direct", False):
        await ctx.answer(ctx.t("transcript.sent_elsewhere", ref=ticket.ref))


async def send_pressed(ctx: Context) -> None:
    """The "Send me the transcript" button offered on closing (policy switch
    ``[closing] offer_transcript``): the requester's own ticket only, without notes."""
    assert ctx.policy is not None
    ticket = await ticket_of_button(ctx, ctx.args)
    ctx.handled = True
    if ticket is None or ctx.person is None or ticket.requester_id != ctx.person.id:
        await ctx.answer(ctx.t("resolution.not_yours",
                               ref=ticket.ref if ticket else ctx.t("transcript.this_ticket")))
        return
    built = await build_transcript(ctx, ticket, with_notes=False)
    await ctx.post(OutboundMessage(
        channel_id="", direct_to=ctx.event.actor.user_id,
        text=ctx.t("transcript.sent", ref=ticket.ref), audience="person",
        ticket_number=ticket.number, attachments=transcript_files(built, ctx.policy.templates)),
        ticket_id=ticket.id)


def register(router) -> None:
    """Wire ``/ticket transcript`` (anyone: the rules are inside) and the closing offer's
    button into the router."""
    router.on_command("ticket", "transcript", transcript,
                      description="commands.ticket_transcript")
    router.on_button("transcript.send", send_pressed)
