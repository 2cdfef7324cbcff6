"""When the bot itself fails to deliver something, the admins hear about it."""

from __future__ import annotations

import logging

from bot.desk.policy import Desk
from bot.desk.notify import admins_of, to_person
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
        admins = await admins_of(uow, workspace, desk.admins, uow.clock.now())
        for person in admins:
            await uow.outbox.add(workspace.id, workspace.platform, to_person(person, text),
                                 uow.clock.now(), ticket_id=row.ticket_id, kind="alert")
        if not admins:
            logger.error("no admins to tell that outbox row %d is dead", row.id)

    return alert
