"""``helpdesk-bot check --online`` against the local fakes of Slack and Discord: each
token is tried, the Slack scopes and the Discord MESSAGE CONTENT intent are checked, and
without ``--online`` no platform is called at all (issue 14)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
import io
import re
import sys
from pathlib import Path

import pytest

from bot.__main__ import _probes
from bot.check import run_checks
from bot.platforms.slack.probe import REQUIRED_SCOPES
from bot.settings import Secret, Settings
from tests.support.discord.server import FakeDiscord
from tests.support.slack.server import APP_TOKEN, BOT_TOKEN, MANIFEST_SCOPES, FakeSlack
from tests.test_cli import clean_env, free_port

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
async def slack():
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def discord_fake():
    fake = FakeDiscord()
    await fake.start()
    yield fake
    await fake.stop()


def slack_settings(fake: FakeSlack, tmp_path: Path, **overrides) -> Settings:
    values = dict(database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}",
                  slack_bot_token=Secret(BOT_TOKEN), slack_app_token=Secret(APP_TOKEN),
                  slack_api_url=fake.api_url, http_port=0)  # check binds it: any free port
    values.update(overrides)
    return Settings(**values)


def discord_settings(fake: FakeDiscord, tmp_path: Path, **overrides) -> Settings:
    values = dict(database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}",
                  discord_bot_token=Secret("fake-token"), discord_api_url=fake.api_url,
                  http_port=0)  # check binds it: any free port
    values.update(overrides)
    return Settings(**values)


async def check(settings: Settings, *, online: bool = True) -> tuple[int, list[str]]:
    out = io.StringIO()
    status = await run_checks(settings, out, probes=_probes(settings) if online else ())
    return status, out.getvalue().splitlines()


def problems(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("problem")]


def test_the_desk_asks_for_exactly_the_manifests_scopes():
    manifest = (REPO / "bot" / "config" / "slack-manifest.yaml").read_text(encoding="utf-8")
    bot_block = manifest.split("    bot:\n", 1)[1].split("settings:", 1)[0]
    listed = re.findall(r"^\s+- ([a-z_.:]+)", bot_block, re.MULTILINE)
    assert set(REQUIRED_SCOPES) == set(listed) == set(MANIFEST_SCOPES)


# --- Slack ------------------------------------------------------------------------------


async def test_slack_tokens_that_work_with_every_scope(slack, tmp_path):
    status, lines = await check(slack_settings(slack, tmp_path))
    assert status == 0, lines
    assert ("ok       Slack accepts SLACK_BOT_TOKEN: @helpdesk in Fake team, with every scope "
            "the desk needs") in lines
    assert "ok       Slack accepts SLACK_APP_TOKEN for Socket Mode" in lines
    assert [c.method for c in slack.calls] == ["auth.test", "apps.connections.open"]


async def test_slack_bot_token_missing_scopes_names_them(slack, tmp_path):
    slack.scopes = [s for s in MANIFEST_SCOPES if s not in ("users:read.email", "im:write")]
    status, lines = await check(slack_settings(slack, tmp_path))
    assert status == 2
    [problem] = problems(lines)
    assert "lacks scopes the desk needs: im:write, users:read.email" in problem
    assert "reinstall" in problem


async def test_slack_refuses_a_wrong_bot_token(slack, tmp_path):
    settings = slack_settings(slack, tmp_path, slack_bot_token=Secret("xoxb-revoked-secret"))
    status, lines = await check(settings)
    assert status == 2
    assert any("Slack refused SLACK_BOT_TOKEN (invalid_auth)" in p for p in problems(lines))
    assert "revoked-secret" not in "\n".join(lines)


async def test_slack_refuses_a_wrong_app_token(slack, tmp_path):
    settings = slack_settings(slack, tmp_path, slack_app_token=Secret("xapp-wrong-secret"))
    status, lines = await check(settings)
    assert status == 2
    [problem] = problems(lines)
    assert "Slack refused SLACK_APP_TOKEN for Socket Mode (invalid_auth)" in problem
    assert "wrong-secret" not in "\n".join(lines)


async def test_a_user_token_is_not_a_bot_token(slack, tmp_path):
    original = slack.api_auth_test
    slack.api_auth_test = lambda args: {k: v for k, v in original(args).items() if k != "bot_id"}
    status, lines = await check(slack_settings(slack, tmp_path))
    assert status == 2
    assert any("is not a bot's token" in p for p in problems(lines))


async def test_slack_out_of_reach_is_a_problem_not_a_configuration_error(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}",
                        slack_bot_token=Secret(BOT_TOKEN), slack_app_token=Secret(APP_TOKEN),
                        slack_api_url="http://127.0.0.1:1/api/")
    status, lines = await check(settings)
    assert status == 1
    [problem] = problems(lines)
    assert "could not reach Slack at http://127.0.0.1:1/api/" in problem


async def test_without_online_check_calls_no_platform(slack, discord_fake, tmp_path):
    settings = slack_settings(slack, tmp_path, discord_bot_token=Secret("fake-token"),
                              discord_api_url=discord_fake.api_url)
    status, lines = await check(settings, online=False)
    assert status == 0, lines
    assert slack.calls == [] and discord_fake.calls == []


# --- Discord ----------------------------------------------------------------------------


async def test_discord_token_that_works_with_the_intent(discord_fake, tmp_path):
    status, lines = await check(discord_settings(discord_fake, tmp_path))
    assert status == 0, lines
    assert "ok       Discord accepts DISCORD_BOT_TOKEN: the bot Helpdesk" in lines
    assert "ok       Helpdesk may read message content (MESSAGE CONTENT intent on)" in lines
    assert [(c.method, c.path) for c in discord_fake.calls] == [
        ("GET", "/users/@me"), ("GET", "/oauth2/applications/@me")]


async def test_discord_message_content_intent_off_is_a_problem(discord_fake, tmp_path):
    discord_fake.application_flags = 0
    status, lines = await check(discord_settings(discord_fake, tmp_path))
    assert status == 2
    [problem] = problems(lines)
    assert "MESSAGE CONTENT intent is off" in problem and "Privileged Gateway Intents" in problem


async def test_discord_verified_app_flag_counts_too(discord_fake, tmp_path):
    discord_fake.application_flags = 1 << 18
    status, lines = await check(discord_settings(discord_fake, tmp_path))
    assert status == 0, lines


async def test_discord_refuses_a_wrong_token(discord_fake, tmp_path):
    settings = discord_settings(discord_fake, tmp_path,
                                discord_bot_token=Secret("MTIz.wrong.token-secret"))
    status, lines = await check(settings)
    assert status == 2
    [problem] = problems(lines)
    assert "Discord refused DISCORD_BOT_TOKEN (401)" in problem
    assert "token-secret" not in "\n".join(lines)


async def test_discord_out_of_reach(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}",
                        discord_bot_token=Secret("fake-token"),
                        discord_api_url="http://127.0.0.1:1/api/v10")
    status, lines = await check(settings)
    assert status == 1
    assert any("could not reach Discord at http://127.0.0.1:1/api/v10" in p
               for p in problems(lines))


# --- the command line -------------------------------------------------------------------


async def test_check_online_from_the_command_line(slack, discord_fake, tmp_path):
    slack.scopes = [s for s in MANIFEST_SCOPES if s != "reactions:read"]
    env = clean_env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN,
                    SLACK_API_URL=slack.api_url, DISCORD_BOT_TOKEN="fake-token",
                    DISCORD_API_URL=discord_fake.api_url,
                    HELPDESK_DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
                    HELPDESK_HTTP_PORT=free_port())  # check binds it: not 3000, maybe taken
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "check", "--online", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    said = stdout.decode()
    assert process.returncode == 2, said + stderr.decode()
    assert "lacks scopes the desk needs: reactions:read" in said
    assert "Discord accepts DISCORD_BOT_TOKEN" in said
    assert "fake-token" not in said + stderr.decode()
    assert [c.method for c in slack.calls] == ["auth.test", "apps.connections.open"]


async def test_check_warns_when_slack_http_mode_has_no_public_url(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}",
                        slack_bot_token=Secret(BOT_TOKEN), slack_signing_secret=Secret("s" * 32),
                        http_port=0)
    status, lines = await check(settings, online=False)
    assert status == 0, lines
    assert any(line.startswith("warning  HELPDESK_PUBLIC_URL is not set") and "https://" in line
               for line in lines), lines
    assert lines[-1] == "all good, but 1 warning"
    public = await check(replace(settings, public_url="https://desk.example.com"), online=False)
    assert public == (0, [line for line in public[1] if "warning" not in line])
    assert public[1][-1] == "all good"
