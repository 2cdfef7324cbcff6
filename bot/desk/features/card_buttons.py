"""Buttons on the ticket card do what the matching commands do, for agents only."""

from __future__ import annotations

from bot.domain.people import Role
from bot.desk.features import resolution, triage, working
from bot.desk.context import Context
from bot.desk.features.lookup import UnknownButtonTicket, ticket_of_button

# action -> (command handler, how to turn the form into the command's arguments)
_BUTTONS = {
    "card.claim": (working.claim, lambda form: ""),
    "card.reply": (working.reply, lambda form: form.get("text", "")),
    "card.followup": (working.followup,
                      lambda form: f"{form.get('when', '')} {form.get('text', '')}".strip()),
    "card.priority": (triage.priority, lambda form: form.get("priority", "")),
    "card.escalate": (triage.escalate, lambda form: form.get("reason", "")),
    "card.resolve": (resolution.resolve, lambda form: form.get("summary", "")),
    "card.reopen": (resolution.reopen, lambda form: ""),
}


def _button_handler(action: str):
    handler, to_args = _BUTTONS[action]

    async def pressed(ctx: Context) -> None:
        ticket = await ticket_of_button(ctx, ctx.args)
        if ticket is None:
            raise UnknownButtonTicket()
        form = getattr(ctx.event, "form", {}) or {}
        ctx.args = f"{ticket.number} {to_args(form)}".strip()
        await handler(ctx)

    pressed.__doc__ = f"The card's {action.split('.')[1]} button."
    return pressed


def register(router) -> None:
    """Wire the card buttons into the router."""
    for action in _BUTTONS:
        router.on_button(action, _button_handler(action), role=Role.AGENT)
