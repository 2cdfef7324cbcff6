"""What a handler gets: the event, its unit of work, who acted, and ways to speak.

Handlers never send anything themselves. ``Context.post`` and ``Context.answer`` write
outbox rows inside the handler's transaction; the dispatcher delivers them after commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core import Button, Event, OutboundMessage
from bot.desk.policy import Desk, DeskPolicy
from bot.domain.people import Person, Role, Workspace
from bot.domain.tickets import DomainError
from bot.storage.uow import UnitOfWork


class PermissionDenied(DomainError):
    """The person's role does not allow this action."""

    def __init__(self, action: str, role: Role) -> None:
        super().__init__(f"{action} is for {role.value}s of the desk.", template="errors.permission",
                         action=action, role=role.value)


class BadInput(DomainError):
    """The command's arguments could not be understood; ``usage`` says how to write it."""

    def __init__(self, problem: str, usage: str = "") -> None:
        super().__init__(f"{problem} {usage}".strip(), template="errors.bad_input",
                         problem=problem, usage=usage)


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
    args: str = ""
    handled: bool = False
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def command_prefix(self) -> str:
        """How commands are written on this platform (``/ticket``)."""
        return "/ticket"

    def t(self, key: str, **fields: Any) -> str:
        """Render a template in this workspace's wording."""
        assert self.policy is not None
        fields.setdefault("prefix", self.command_prefix)
        return self.policy.templates.render(key, **fields)

    def error_text(self, error: DomainError) -> str:
        """A domain error in the desk's voice (its template, or its plain message)."""
        if error.template and self.policy is not None:
            fields = dict(error.fields)
            if "number" in fields:
                fields.setdefault("number_ref", f"#{fields['number']}" if fields["number"] else "This ticket")
            try:
                return self.t(error.template, **fields)
            except KeyError:
                pass
        return str(error)

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
