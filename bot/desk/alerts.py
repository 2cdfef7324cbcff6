"""When the bot itself fails to deliver something, the admins hear about it."""

from __future__ import annotations

import logging

from bot.desk.policy import Desk
from bot.domain.people import Role
from bot.desk.notify import to_person
from bot.desk.quoting import excerpt

logger = logging.getLogger(__name__)


def dead_letter_alerter(desk: Desk):
    """An ``on_dead`` hook for the dispatcher that DMs every admin of the workspace."""

    async def alert(uow, row, error) -> None:
        workspace = await uow.workspaces.get(row.workspace_id)
        templates = desk.policy(workspace).templates
        ref = "a ticket"
        if row.ticket_id is not None:
            ref = (await uow.tickets.get(row.ticket_id)).ref
        where = (f"a direct message to <@{row.message.direct_to}>" if row.message.direct_to
                 else f"<#{row.message.channel_id}>")
        text = templates.render("lapse.dead_alert", ref=ref, where=where,
                                attempts=row.attempts, error=excerpt(str(error), 200))
        admins = {p.external_id: p for p in await uow.people.with_role(workspace.id, Role.ADMIN)}
        for admin_id in sorted(set(admins) | set(desk.admins)):
            person = admins.get(admin_id) or await uow.people.ensure(
                workspace.id, admin_id, admin_id, uow.clock.now())
            await uow.outbox.add(workspace.id, workspace.platform, to_person(person, text),
                                 uow.clock.now(), ticket_id=row.ticket_id, kind="alert")
        if not admins and not desk.admins:
            logger.error("no admins to tell that outbox row %d is dead", row.id)

    return alert
