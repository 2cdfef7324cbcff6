"""Forms a command opens at once (Slack and Discord modals), asked for by a platform
before it acknowledges the command: :meth:`bot.desk.router.Router.command_form`.

A provider only reads: it decides whether this person gets a form for these words, and
what the form holds (an article being edited). Everything else stays with the command:
a person who may not use it, or words the form does not fit, get no form, and the
command, handled as usual, answers them (a polite refusal, the usage). Submitting the
form is a button press, routed and permission-checked like any other, so a form opened
by mistake can change nothing it should not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable

from bot.core import Actor, Form
from bot.desk.policy import Desk
from bot.domain.people import Role, Workspace
from bot.storage.uow import Database, UnitOfWork

_PLATFORM_ROLES = {role.value: role for role in (Role.REQUESTER, Role.AGENT, Role.LEAD)}


@dataclass(frozen=True)
class FormRequest:
    """Who asked for which command's form: ``args`` are the words after the sub-command."""

    db: Database
    desk: Desk
    platform: str
    workspace_id: str
    actor: Actor
    args: str


FormProvider = Callable[[FormRequest], Awaitable[Form | None]]


async def known_role(uow: UnitOfWork, request: FormRequest) -> tuple[Workspace | None, Role]:
    """The workspace (None if the desk has never seen it) and the role ``request.actor``
    acts with, read as the identity middleware reads it (the stored role, the
    platform's roles, admins) but writing nothing: someone the desk has never seen is
    a requester."""
    workspace = await uow.workspaces.find(request.platform, request.workspace_id)
    role = Role.REQUESTER
    if workspace is not None:
        person = await uow.people.by_external(workspace.id, request.actor.user_id)
        role = person.role if person is not None else Role.REQUESTER
    platform = _PLATFORM_ROLES.get(request.actor.platform_role or "")
    if platform is not None and platform.rank > role.rank:
        role = platform
    if request.desk.is_admin(request.actor):
        role = Role.ADMIN
    return workspace, role
