"""A heads-up to the owner before a promise falls due (at ``warn_at`` of the target),
planned as a pure function of the promise and what it is about."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import OutboundMessage
from bot.desk.notify import to_agents
from bot.ledger.notices import Notice, notice
from bot.ledger.plans import CoverInputs


@dataclass(frozen=True)
class WarningPlan:
    """What to say before a breach: a notice for the owner (gathered with the sweep's
    others, bot/ledger/notices.py), or a line in the triage thread when nobody owns the
    ticket. Both None: nothing to say (the ticket is no longer being worked)."""

    notice: Notice | None = None
    post: OutboundMessage | None = None


def plan_warning(inputs: CoverInputs) -> WarningPlan:
    """The heads-up for ``inputs.promise``, whose warning time has come (the inputs
    are loaded as a cover's are, bot/ledger/sets.py)."""
    promise, ticket, policy, now = inputs.promise, inputs.ticket, inputs.policy, inputs.now
    workspace, requester, owner = inputs.workspace, inputs.requester, inputs.owner
    if not ticket.status.is_active:
        return WarningPlan()
    tz = owner.reads_in(policy.calendar.timezone) if owner else policy.calendar.timezone
    fields = dict(ref=ticket.ref, requester=requester.name,
                  what=policy.templates.render(f"what.{promise.kind.value}"),
                  due=policy.when(promise.due_at, now, tz))
    if owner is None:
        return WarningPlan(post=to_agents(ticket, policy.templates.render("lapse.warning",
                                                                          **fields)))
    return WarningPlan(notice=notice(owner, workspace, policy, ticket, "warning", **fields))
