"""What a handler gets: the event, its unit of work, who acted, and ways to speak.

Handlers never send anything themselves. ``Context.post`` and ``Context.answer`` write
outbox rows inside the handler's transaction; the dispatcher delivers them after commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core import Button, Event, OutboundMessage
from bot.desk.policy import Desk, DeskPolicy, words_for
from bot.domain.teams import Team
from bot.domain.people import Person, Role, Workspace
from bot.domain.errors import DomainError, Phrase, Unreadable
from bot.metrics import Metrics
from bot.storage.uow import UnitOfWork


class PermissionDenied(DomainError):
    """The person's role does not allow this action; ``action`` names the template that
    describes it (a command's description)."""

    def __init__(self, action: str, role: Role) -> None:
        super().__init__("errors.permission", action=Phrase(action), role=role.value)


class BadInput(DomainError):
    """The command's arguments could not be understood. ``problem`` names the message
    saying what was wrong and ``usage`` the one showing how to write the command;
    ``fields`` fill both."""

    def __init__(self, problem: str, usage: str | None = None, **fields: Any) -> None:
        super().__init__("errors.bad_input" if usage else problem, **fields)
        if usage:
            self.fields.update(problem=Phrase(problem, **fields), usage=Phrase(usage, **fields))

    @classmethod
    def unreadable(cls, error: Unreadable, usage: str | None = None) -> "BadInput":
        """What the domain could not read in the person's words, with the usage."""
        return cls(error.template, usage, **error.fields)


@dataclass
class Context:
    """One event being handled, inside one unit of work."""

    event: Event
    uow: UnitOfWork
    desk: Desk
    now: datetime
    workspace: Workspace | None = None
    person: Person | None = None
    role: Role = Role.REQUESTER
    policy: DeskPolicy | None = None
    # The team the event is about: the default team until a ticket or a command names
    # another (:meth:`use_team`), and ``policy`` is that team's.
    team: Team | None = None
    args: str = ""
    handled: bool = False
    extras: dict[str, Any] = field(default_factory=dict)
    # The desk's numbers (bot/metrics.py), moved after the unit of work commits.
    metrics: Metrics | None = None

    def use_team(self, team: Team | None) -> None:
        """Work for ``team`` from here on: its policy (calendar, targets, wording)."""
        assert self.workspace is not None
        self.team = team or self.workspace.default_team
        self.policy = self.desk.policy(self.workspace, self.team)

    def for_ticket(self, ticket) -> None:
        """Work for the team that has ``ticket``: the one place a ticket's team is
        resolved for the features (lookup.py and conversation.py call it)."""
        assert self.workspace is not None
        self.use_team(self.workspace.team(ticket.team_id))
        assert self.policy is not None
        self.policy = self.policy.for_ticket(ticket)

    @property
    def command_prefix(self) -> str:
        """How commands are written on this platform (``/ticket``)."""
        return "/ticket"

    def t(self, key: str, **fields: Any) -> str:
        """Render a template in this workspace's wording."""
        assert self.policy is not None
        fields.setdefault("prefix", self.command_prefix)
        return self.policy.templates.render(key, **fields)

    def join(self, items) -> str:
        """People or tickets joined as a sentence lists them ("Sam, Kim and Ana")."""
        assert self.policy is not None
        return self.policy.templates.join(items)

    def error_text(self, error: DomainError) -> str:
        """A domain error in this workspace's words (see :func:`words_for`); a missing
        template or field raises KeyError."""
        assert self.policy is not None
        return words_for(self.policy.templates, error, prefix=self.command_prefix)

    async def post(self, message: OutboundMessage, *, ticket_id: int | None = None,
                   due_at: datetime | None = None, kind: str = "post") -> int:
        """Queue a message for delivery after this unit of work commits."""
        assert self.workspace is not None
        return await self.uow.outbox.add(self.workspace.id, self.workspace.platform, message,
                                         self.now, ticket_id=ticket_id, kind=kind, due_at=due_at)

    async def answer(self, text: str, *, private: bool = True, buttons: tuple[Button, ...] = (),
                     thread_id: str | None = None) -> int:
        """Answer the person who acted, where they acted; ``private`` shows it only to them."""
        thread = thread_id or getattr(self.event, "thread_id", None)
        return await self.post(OutboundMessage(
            channel_id=self.event.channel_id, thread_id=thread, text=text, buttons=buttons,
            ephemeral_to=self.event.actor.user_id if private else None,
            reply_token=self.event.reply_token, audience="person" if private else "requester",
        ))
