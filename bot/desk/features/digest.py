"""``/helpdesk digest [on|off] [team <name>]``: the weekly digest, switched per team.

When it is on, the team's next digest is a promise in the ledger (kind
``weekly_digest``, no ticket, its team named in its text), due at the week's first
opening on the team's calendar (bot/domain/digest.py). The ledger posts it to the
team's triage channel when it falls due and promises the next one
(bot/ledger/digest.py). Switching it off cancels the promise, so nothing is said.
The choice is stored in the team's settings (``weekly_digest``) and wins over
``[digest] weekly`` in policy.toml.
"""

from __future__ import annotations

from datetime import datetime

from bot.desk.context import BadInput, Context
from bot.desk.policy import DeskPolicy
from bot.desk.team_refs import take_team
from bot.domain.digest import next_digest_at
from bot.domain.people import Role
from bot.domain.teams import Team

USAGE = "usage.helpdesk_digest"


async def arrange_digest(uow, workspace_id: int, team: Team, policy: DeskPolicy,
                         now: datetime) -> datetime | None:
    """Promise ``team``'s next digest when its policy has the digest on and none is
    promised yet; returns when the next one is due (None: the digest is off)."""
    if not policy.weekly_digest:
        return None
    due = await uow.promises.digest_due(workspace_id, team.id)
    if due is None:
        due = next_digest_at(policy.calendar, now)
        await uow.promises.schedule_digest(workspace_id, team.id, due, now)
    return due


async def digest(ctx: Context) -> None:
    """Switch the weekly digest on or off for a team, or say whether it is on."""
    args, team = await take_team(ctx, ctx.args, USAGE)
    assert ctx.workspace is not None and ctx.policy is not None
    word = args.strip().lower()
    if word not in ("", "on", "off"):
        raise BadInput("input.need_on_or_off", USAGE, text=args.strip()[:40])
    suffix = "_team" if len(ctx.workspace.teams) > 1 else ""
    triage = (await ctx.uow.workspaces.team_channels(ctx.workspace, "triage")).get(team.id)
    due = (await ctx.uow.promises.digest_due(ctx.workspace.id, team.id)
           if ctx.policy.weekly_digest else None)
    if word == "":
        if due is None:
            await ctx.answer(ctx.t(f"digest.is_off{suffix}", team=team.name))
        else:
            await ctx.answer(_where(ctx, "digest.is_on", suffix, team, due, triage))
        ctx.handled = True
        return
    settings = dict(team.settings)
    settings["weekly_digest"] = word == "on"
    await ctx.uow.workspaces.save_team_settings(team.id, settings)
    team = Team(team.id, team.workspace_id, team.name, team.is_default, settings)
    ctx.use_team(team)
    assert ctx.policy is not None
    if word == "on":
        due = await arrange_digest(ctx.uow, ctx.workspace.id, team, ctx.policy, ctx.now)
        assert due is not None
        await ctx.answer(_where(ctx, "digest.on", suffix, team, due, triage))
    elif await ctx.uow.promises.cancel_digest(ctx.workspace.id, team.id, ctx.now) and due:
        await ctx.answer(ctx.t(f"digest.off{suffix}", team=team.name, when=_when(ctx, due)))
    else:
        await ctx.answer(ctx.t(f"digest.was_off{suffix}", team=team.name))
    ctx.handled = True


def _when(ctx: Context, due: datetime) -> str:
    assert ctx.policy is not None
    # In the reader's zone when known, else the team's (its opening, as it keeps it).
    zone = (ctx.person.reads_in(ctx.policy.calendar.timezone) if ctx.person
            else ctx.policy.calendar.timezone)
    return ctx.policy.when(due, ctx.now, zone)


def _where(ctx: Context, key: str, suffix: str, team: Team, due: datetime,
           triage: list[str] | None) -> str:
    """The sentence saying when and where the next digest goes (or, when the team has
    no triage channel yet, how to give it one)."""
    nowhere = "" if triage else "_nowhere"
    return ctx.t(f"{key}{nowhere}{suffix}", team=team.name, when=_when(ctx, due),
                 channel=triage[0] if triage else "")


def register(router) -> None:
    """Wire ``/helpdesk digest`` into the router."""
    router.on_command("helpdesk", "digest", digest, role=Role.ADMIN,
                      description="commands.helpdesk_digest")
