"""The team commands as Discord sends them: typed options read back into the words the
router reads, the team always last (where the desk reads it off first)."""

from __future__ import annotations

from bot.platforms.discord.commands import read_command


def _command(name: str, word: str, options: list[dict], resolved: dict | None = None) -> dict:
    return {"name": name, "options": [{"type": 1, "name": word, "options": options}],
            "resolved": resolved or {}}


def test_agents_with_a_team_read_as_people_then_the_team():
    data = _command("helpdesk", "agents", [
        {"name": "action", "value": "add"}, {"name": "person", "value": "111"},
        {"name": "team", "value": "hr"}],
        {"users": {"111": {"username": "hana"}}})
    assert read_command(data).text == "agents add <@111|hana> team hr"


def test_transfer_exception_flag_and_oncall_read_as_the_router_reads_them():
    assert read_command(_command("ticket", "transfer", [
        {"name": "ticket", "value": 4}, {"name": "team", "value": "hr"},
        {"name": "reason", "value": "about payroll"}])).text == "transfer 4 hr about payroll"
    assert read_command(_command("ticket", "exception", [
        {"name": "ticket", "value": 4}, {"name": "reason", "value": "VIP"},
        {"name": "first", "value": "1 h"}])).text == "exception 4 VIP first=1h"
    assert read_command(_command("ticket", "flag", [
        {"name": "ticket", "value": 4}, {"name": "reason", "value": "shouting"}])).text \
        == "flag 4 shouting"
    assert read_command(_command("helpdesk", "oncall", [
        {"name": "team", "value": "it"}, {"name": "person", "value": "222"},
        {"name": "until", "value": "friday 17:00"}],
        {"users": {"222": {"username": "lee"}}})).text == "oncall it <@222|lee> until friday 17:00"
    assert read_command(_command("helpdesk", "oncall", [
        {"name": "team", "value": "it"}])).text == "oncall it"


def test_a_transfer_without_a_team_is_refused_by_the_reading():
    reading = read_command(_command("ticket", "transfer", [{"name": "ticket", "value": 4}]))
    assert reading.problem == "discord.missing" and reading.fields["option"] == "team"
