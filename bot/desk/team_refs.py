"""Reading the team a command names: a trailing ``team <name>``, taken off the command's
words before anything else reads them, so that no parser (of people, channels, hours)
ever takes those two words for one of its own."""

from __future__ import annotations

from bot.domain.errors import Unreadable
from bot.domain.people import Person, Role
from bot.desk.people_refs import PersonRef, person_refs
from bot.desk.quoting import excerpt
from bot.domain.teams import Team, is_person_word, split_team
from bot.desk.context import BadInput, Context


async def take_team(ctx: Context, text: str, usage: str | None = None,
                    **usage_fields) -> tuple[str, Team]:
    """``text`` without its trailing ``team <name>``, and the team it names (the
    default team when it names none). From here on ``ctx`` works for that team (its
    policy). A name that is no team of the workspace is BadInput listing the teams."""
    assert ctx.workspace is not None
    try:
        rest, name = split_team(text)
    except Unreadable as error:
        word = str(error.fields.get("name", ""))
        if is_person_word(word):
            # "team @hana", "team me": a person where the team's name goes.
            raise BadInput("input.person_not_team", usage, name=excerpt(word, 40),
                           teams=ctx.join(t.name for t in ctx.workspace.teams),
                           **usage_fields) from None
        raise BadInput.unreadable(shown(error), usage) from None
    if name is None and rest.split()[-1:] and rest.split()[-1].lower() == "team":
        # "team" with no name after it: say so, rather than blame the channel, the date
        # or the hours that came before it.
        raise BadInput("input.team_name_missing", usage,
                       teams=ctx.join(t.name for t in ctx.workspace.teams), **usage_fields)
    team = ctx.workspace.default_team if name is None else ctx.workspace.team_named(name)
    if team is None and await person_named(ctx, name) is not None:
        raise BadInput("input.person_not_team", usage, name=name,
                       teams=ctx.join(t.name for t in ctx.workspace.teams), **usage_fields)
    if team is None:
        raise BadInput("input.unknown_team", usage, name=name,
                       teams=ctx.join(t.name for t in ctx.workspace.teams),
                       **usage_fields)
    ctx.use_team(team)
    return rest, team


def shown(error: Unreadable) -> Unreadable:
    """``error`` with the name it quotes cut to a readable length, saying so when cut
    (a 500-character name is not echoed whole, nor cut silently)."""
    if isinstance(error.fields.get("name"), str):
        error.fields["name"] = excerpt(error.fields["name"], 40)
    return error


async def no_team_words(ctx: Context, refs: list[PersonRef], usage: str | None = None,
                        **usage_fields) -> None:
    """Refuse, before anything changes, people who are really team words: ``team`` left
    over (``agents add Hana team``, or ``... team hr team it``, where only the last
    ``team it`` names the team), or a team's name typed where a person goes
    (``agents add hr``) by someone the desk does not know yet. Either would make a
    phantom person, who could even be put on duty."""
    assert ctx.workspace is not None
    for ref in refs:
        words = {ref.ref.lower(), ref.label.strip().lstrip("@").lower()}
        if "team" in words:
            raise BadInput("input.team_word_left", usage, **usage_fields)
        named = next((t for t in ctx.workspace.teams if t.name in words), None)
        if named is not None and await ctx.uow.people.find(ctx.workspace.id, ref.ref) is None:
            raise BadInput("input.team_as_person", usage, name=named.name, **usage_fields)


async def person_named(ctx: Context, word: str) -> Person | str | None:
    """Who ``word`` names when it names a person rather than a team: the person the
    desk knows by that id or name, or, for a mention or a word like ``me``, the word
    itself (a person the desk may not know yet); None when it names nobody. A team's
    own name is never a person here: the caller asks only when no team has it."""
    assert ctx.workspace is not None
    word = word.strip()
    if not word:
        return None
    if is_person_word(word):
        return word
    refs = person_refs(word)
    if len(refs) != 1:
        return None
    return await ctx.uow.people.find(ctx.workspace.id, refs[0].ref)


async def named_team(ctx: Context, name: str, usage: str | None = None, *,
                     person: str = "input.person_not_team", **fields) -> Team:
    """The team called ``name``, or BadInput: ``person`` (given ``name``, ``teams`` and
    ``fields``) when the word names a person instead (``@hana``, ``me``, someone the
    desk knows), else the list of the workspace's teams."""
    assert ctx.workspace is not None
    team = ctx.workspace.team_named(name.strip()) if name.strip() else None
    if team is None and await person_named(ctx, name) is not None:
        raise BadInput(person, usage, name=excerpt(name.strip(), 40),
                       teams=ctx.join(t.name for t in ctx.workspace.teams), **fields)
    if team is None:
        raise BadInput("input.unknown_team", usage, name=excerpt(name.strip(), 40),
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


async def readable_teams(ctx: Context) -> list[Team]:
    """The teams whose queues ``ctx.person`` may read, in :func:`teams_first` order:
    the teams they work, or every team for an admin. Another team's ticket titles are
    its own (an HR matter is private: docs/teams.md, "Whose tickets")."""
    ordered = await teams_first(ctx)
    if ctx.role.at_least(Role.ADMIN):
        return ordered
    assert ctx.person is not None and ctx.workspace is not None
    theirs = set(await ctx.uow.workspaces.teams_of(ctx.person.id))
    if not theirs and ctx.workspace.default_team is not None:
        theirs = {ctx.workspace.default_team.id}
    return [team for team in ordered if team.id in theirs]
