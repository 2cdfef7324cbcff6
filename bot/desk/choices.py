"""Tickets someone may pick from a list as they type (Discord's autocomplete).

The same rule as ``/ticket show``: a requester sees only the tickets they asked for;
whoever works the desk (an agent or lead) also sees every ticket not closed of the
teams they work (docs/teams.md, "Whose tickets"), an admin every team's. The role is read as the identity middleware reads it (stored role,
the platform's roles, admins), in the same single query that finds the tickets: a
lookup runs on every keystroke and must answer within Discord's 3 seconds.
"""

from __future__ import annotations

from bot.core import Actor
from bot.domain.people import Role
from bot.domain.tickets import TicketStatus
from bot.desk.policy import Desk
from bot.storage.uow import Database

CHOICE_LIMIT = 25
_DESK_ROLES = tuple(role.value for role in Role if role.at_least(Role.AGENT))
_PLATFORM_DESK_ROLES = (Role.AGENT.value, Role.LEAD.value)
_NOT_CLOSED = tuple(status for status in TicketStatus if status is not TicketStatus.CLOSED)


async def ticket_choices(db: Database, desk: Desk, platform: str, workspace_id: str,
                         actor: Actor, typed: str,
                         limit: int = CHOICE_LIMIT) -> list[tuple[int, str]]:
    """``(number, subject)`` of up to ``limit`` tickets ``actor`` may see whose number
    starts with, or whose subject contains, ``typed``; newest first. Nothing is
    written: someone the desk has never seen simply has no tickets."""
    desk_wide = desk.is_admin(actor) or actor.platform_role in _PLATFORM_DESK_ROLES
    async with db.reading() as uow:
        return await uow.tickets.visible_choices(
            platform, workspace_id, actor.user_id, desk_wide=desk_wide, desk_roles=_DESK_ROLES,
            back_to_grant=actor.platform_role is not None, desk_statuses=_NOT_CLOSED,
            typed=typed[:100], limit=min(limit, CHOICE_LIMIT), all_teams=desk.is_admin(actor))
