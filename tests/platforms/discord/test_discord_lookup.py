"""The lookup behind Discord's ticket autocomplete (the router's ``ticket_choices``):
who may pick which ticket, and what typing matches, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.support.harness import WORKSPACE, DeskHarness


async def test_the_lookup_follows_the_desks_roles_on_every_database(db_url):
    async with DeskHarness(db_url, platform="discord") as h:
        for who, subject in (("alice", "VPN at 100% loss"), ("bob", "VPN_token expired"),
                             ("alice", "Printer jams")):
            await h.command(who, f"ticket new {subject}")
        await h.command("boss", "helpdesk agents add <@sam>")
        # Kim was an agent only by a Discord role, which she no longer holds.
        await h.command("kim", "ticket mine", platform_role="agent")

        async def pick(who: str, typed: str = "", **actor) -> list[int]:
            found = await h.router.ticket_choices("discord", WORKSPACE, h.actor(who, **actor),
                                                  typed)
            return [number for number, _ in found]

        assert await pick("alice") == [3, 1]
        assert await pick("bob") == [2]
        assert await pick("bob", "vpn") == [2]
        assert await pick("sam") == [3, 2, 1]
        assert await pick("sam", "100%") == [1]
        assert await pick("sam", "n_t") == [2]
        assert await pick("sam", "1%s") == []  # % and _ are matched as typed, not as LIKE
        assert await pick("sam", "n_a") == []
        assert await pick("sam", "#2") == [2]
        assert await pick("boss") == [3, 2, 1]  # HELPDESK_ADMINS
        assert await pick("ada", is_platform_admin=True) == [3, 2, 1]
        assert await pick("kim", platform_role="agent") == [3, 2, 1]
        assert await pick("kim", platform_role="requester") == []
        assert await pick("stranger") == []
        assert await h.router.ticket_choices("discord", "another-guild", h.actor("sam"), "") == []


async def test_the_lookup_shows_staff_only_their_teams_tickets(db_url):
    """FINDINGS-20c H2's sibling: the autocomplete listed every team's ticket subjects
    to any agent."""
    async with DeskHarness(db_url, platform="discord") as h:
        for command in ("helpdesk team add hr", "helpdesk agents add <@sam>",
                        "helpdesk agents add <@hana> team hr",
                        "helpdesk triage <#C-hr-triage> team hr",
                        "helpdesk intake <#C-hr> team hr", "helpdesk triage <#C-triage>"):
            await h.command("boss", command)
        await h.command("ann", "ticket new VPN is down")
        await h.channel_message("pat", "C-hr", "My manager keeps shouting at me")

        async def pick(who: str) -> list[str]:
            found = await h.router.ticket_choices("discord", WORKSPACE, h.actor(who), "")
            return [subject for _, subject in found]

        assert await pick("sam") == ["VPN is down"]
        assert await pick("hana") == ["My manager keeps shouting at me"]
        assert len(await pick("boss")) == 2
