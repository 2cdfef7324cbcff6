"""``helpdesk-bot check --online`` for Slack: does each token work, and does the bot
token carry every scope the desk uses?

``auth.test`` names the token's bot and workspace; Slack lists the token's scopes in the
``X-OAuth-Scopes`` header of every Web API answer. The Socket Mode token is tried with
``apps.connections.open``, which only hands out a connection URL. ``SLACK_API_URL``
points both elsewhere, as it does for the adapter (tests, GovSlack).
"""

from __future__ import annotations

import asyncio

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.platforms.probing import reason
from bot.platforms.slack.adapter import api_base_url
from bot.settings import Settings

# The bot scopes of bot/config/slack-manifest.yaml: what the adapter calls needs all of them
# (tests/test_check_online.py holds the two lists together).
REQUIRED_SCOPES = (
    "app_mentions:read", "channels:history", "groups:history", "im:history", "chat:write",
    "chat:write.public", "files:write", "commands", "im:write", "reactions:read", "users:read",
    "users:read.email", "metadata.message:read",
)
TIMEOUT = 10


async def probe_slack(settings: Settings) -> list[tuple[str, str]]:
    """(verdict, message) pairs: "ok", "refused" (Slack said no) or "unreachable"."""
    base = api_base_url(settings.slack_api_url)
    async with aiohttp.ClientSession() as session:
        findings = [await _bot_token(settings, base, session)]
        # Out of reach once is out of reach: the same line twice would say nothing more.
        if settings.slack_app_token and findings[0][0] != "unreachable":
            findings.append(await _app_token(settings, base, session))
    return findings


def _client(token: str, base: str, session: aiohttp.ClientSession) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=base, session=session, timeout=TIMEOUT,
                          retry_handlers=[])


async def _bot_token(settings: Settings, base: str,
                     session: aiohttp.ClientSession) -> tuple[str, str]:
    try:
        answer = await _client(settings.slack_bot_token.reveal(), base, session).auth_test()
    except SlackApiError as error:
        code = error.response.get("error", "refused")
        return "refused", (f"Slack refused SLACK_BOT_TOKEN ({code}): copy the Bot User OAuth "
                           "Token (xoxb-...) from the app's Install App page again")
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
        return "unreachable", f"could not reach Slack at {base}: {reason(error)}"
    who = f"@{answer.get('user')} in {answer.get('team')}"
    if not answer.get("bot_id"):
        return "refused", (f"SLACK_BOT_TOKEN works but is not a bot's token ({who}): use the "
                           "Bot User OAuth Token (xoxb-...)")
    header = next((v for k, v in (answer.headers or {}).items()
                   if k.lower() == "x-oauth-scopes"), None)
    if header is None:
        return "ok", (f"Slack accepts SLACK_BOT_TOKEN: {who} (Slack did not list its scopes, "
                      "so they were not checked)")
    granted = {scope.strip() for scope in header.split(",") if scope.strip()}
    missing = [scope for scope in REQUIRED_SCOPES if scope not in granted]
    if missing:
        return "refused", (f"SLACK_BOT_TOKEN ({who}) lacks scopes the desk needs: "
                           f"{', '.join(missing)}; add them under OAuth & Permissions (they "
                           "are all in the app manifest, slack-manifest.yaml, which `helpdesk-bot "
                           "init` writes) and reinstall the app")
    return "ok", f"Slack accepts SLACK_BOT_TOKEN: {who}, with every scope the desk needs"


async def _app_token(settings: Settings, base: str,
                     session: aiohttp.ClientSession) -> tuple[str, str]:
    try:
        app_token = settings.slack_app_token.reveal()
        await _client(app_token, base, session).apps_connections_open(app_token=app_token)
    except SlackApiError as error:
        code = error.response.get("error", "refused")
        return "refused", (f"Slack refused SLACK_APP_TOKEN for Socket Mode ({code}): generate "
                           "an app-level token with connections:write under Basic Information "
                           "→ App-Level Tokens")
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
        return "unreachable", f"could not reach Slack at {base}: {reason(error)}"
    return "ok", "Slack accepts SLACK_APP_TOKEN for Socket Mode"
