"""Reading the team a command names: a trailing ``team <name>``, taken off the command's
words before anything else reads them, so that no parser (of people, channels, hours)
ever takes those two words for one of its own."""

from __future__ import annotations

from bot.domain.errors import Unreadable
from bot.domain.teams import Team, split_team
from bot.desk.context import BadInput, Context


def take_team(ctx: Context, text: str, usage: str | None = None,
              **usage_fields) -> tuple[str, Team]:
    """``text`` without its trailing ``team <name>``, and the team it names (the
    default team when it names none). From here on ``ctx`` works for that team (its
    policy). A name that is no team of the workspace is BadInput listing the teams."""
    assert ctx.workspace is not None
    try:
        rest, name = split_team(text)
    except Unreadable as error:
        raise BadInput.unreadable(error, usage) from None
    team = ctx.workspace.default_team if name is None else ctx.workspace.team_named(name)
    if team is None:
        raise BadInput("input.unknown_team", usage, name=name,
                       teams=ctx.join(t.name for t in ctx.workspace.teams),
                       **usage_fields)
    ctx.use_team(team)
    return rest, team


def named_team(ctx: Context, name: str, usage: str | None = None) -> Team:
    """The team called ``name``, or BadInput listing the workspace's teams."""
    assert ctx.workspace is not None
    team = ctx.workspace.team_named(name.strip()) if name.strip() else None
    if team is None:
        raise BadInput("input.unknown_team", usage, name=name.strip()[:40],
                       teams=ctx.join(t.name for t in ctx.workspace.teams))
    return team


async def teams_first(ctx: Context) -> list[Team]:
    """The workspace's teams in the order ``ctx.person`` reads them: the teams they
    work first (someone in no team works the default one), then the others, each
    group in the workspace's order (the default team first)."""
    assert ctx.workspace is not None and ctx.person is not None
    theirs = set(await ctx.uow.workspaces.teams_of(ctx.person.id))
    if not theirs and ctx.workspace.default_team is not None:
        theirs = {ctx.workspace.default_team.id}
    return sorted(ctx.workspace.teams, key=lambda team: team.id not in theirs)
