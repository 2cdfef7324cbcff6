"""Where the desk speaks about a ticket: the requester's thread, a person, the agents."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from bot.core import Button, OutboundMessage
from bot.domain.people import Person, Role, Workspace
from bot.domain.tickets import Ticket

if TYPE_CHECKING:  # the context posts through these helpers' messages, not the reverse
    from bot.desk.context import Context


def to_requester(ticket: Ticket, text: str, buttons: tuple[Button, ...] = ()) -> OutboundMessage:
    """A message in the requester's thread: the one place they look."""
    return OutboundMessage(channel_id=ticket.channel_id or "", thread_id=ticket.thread_id,
                           text=text, buttons=buttons, ticket_number=ticket.number,
                           audience="requester")


def to_person(person: Person, text: str, ticket: Ticket | None = None) -> OutboundMessage:
    """A direct message to one person (an owner's reminder, a lead's escalation)."""
    return OutboundMessage(channel_id="", direct_to=person.external_id, text=text,
                           ticket_number=ticket.number if ticket else None, audience="person")


def to_agents(ticket: Ticket, text: str) -> OutboundMessage | None:
    """A message in the ticket card's thread in the triage channel, if it has a card."""
    if not ticket.triage_channel_id:
        return None
    return OutboundMessage(channel_id=ticket.triage_channel_id, thread_id=ticket.triage_message_id,
                           text=text, ticket_number=ticket.number, audience="agents")


async def tell_staff(ctx: Context, ticket: Ticket, owner: Person | None, text: str) -> str:
    """Post ``text`` about ``ticket`` to its owner, else to the agents' thread, else to
    nobody (it stays on the timeline). Returns which, as the suffix the callers' template
    keys use for it: ``""`` (the owner), ``"_team"`` (the agents) or ``"_kept"`` (nobody)."""
    staff = to_person(owner, text, ticket) if owner is not None else to_agents(ticket, text)
    if staff is None:
        return "_kept"
    await ctx.post(staff, ticket_id=ticket.id)
    return "" if owner is not None else "_team"


def confirmation_buttons(ticket: Ticket, yes: str, no: str) -> tuple[Button, ...]:
    """The requester's "Has this solved your problem?" answer buttons."""
    return (Button(yes, "resolution.yes", str(ticket.id), "primary", once=True),
            Button(no, "resolution.no", str(ticket.id), "danger", once=True))


async def admins_of(uow, workspace: Workspace, configured: Iterable[str],
                    now: datetime) -> list[Person]:
    """Everyone who administers ``workspace``: the people stored as admins and the
    platform ids named in ``HELPDESK_ADMINS`` (``configured``), each once."""
    stored = {p.external_id: p for p in await uow.people.with_role(workspace.id, Role.ADMIN)}
    admins = []
    for external_id in sorted(set(stored) | set(configured)):
        admins.append(stored.get(external_id)
                      or await uow.people.ensure(workspace.id, external_id, "", now))
    return admins
