"""``helpdesk-bot check --online`` for Discord: does the bot token work, and may the bot
read what people write (the privileged MESSAGE CONTENT intent)?

``GET /users/@me`` names the token's bot; ``GET /oauth2/applications/@me`` gives the
application's flags, where the developer portal's MESSAGE CONTENT switch shows. The other
intents the desk uses (guilds, messages, reactions) need no switch. ``DISCORD_API_URL``
points both elsewhere, as it does for the adapter.
"""

from __future__ import annotations

import asyncio

import aiohttp

from bot.platforms.probing import reason
from bot.settings import Settings

DEFAULT_API_URL = "https://discord.com/api/v10"
# Application flags: the intent switched on for a verified app, or for an unverified one.
GATEWAY_MESSAGE_CONTENT = 1 << 18
GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19
TIMEOUT = 10


async def probe_discord(settings: Settings) -> list[tuple[str, str]]:
    """(verdict, message) pairs: "ok", "refused" (Discord said no) or "unreachable"."""
    base = (settings.discord_api_url or DEFAULT_API_URL).rstrip("/")
    headers = {"Authorization": f"Bot {settings.discord_bot_token.reveal()}",
               "User-Agent": "DiscordBot (https://github.com/helpdesk-bot, check)"}
    timeout = aiohttp.ClientTimeout(total=TIMEOUT)
    try:
        async with aiohttp.ClientSession(headers=headers, timeout=timeout) as session:
            status, me = await _get(session, f"{base}/users/@me")
            if status in (401, 403):
                return [("refused", f"Discord refused DISCORD_BOT_TOKEN ({status}): reset the "
                                    "bot's token under Bot in the developer portal and copy "
                                    "it again")]
            if status != 200 or not isinstance(me, dict):
                return [("unreachable", f"Discord at {base} answered {status} to /users/@me")]
            if not me.get("bot"):
                return [("refused", "DISCORD_BOT_TOKEN works but is not a bot's token: copy "
                                    "the token under Bot in the developer portal")]
            name = me.get("global_name") or me.get("username") or "?"
            findings = [("ok", f"Discord accepts DISCORD_BOT_TOKEN: the bot {name}")]
            status, app = await _get(session, f"{base}/oauth2/applications/@me")
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
        return [("unreachable", f"could not reach Discord at {base}: {reason(error)}")]
    if status != 200 or not isinstance(app, dict):
        findings.append(("unreachable", f"Discord at {base} answered {status} to "
                                        "/oauth2/applications/@me; the intents were not checked"))
    elif int(app.get("flags") or 0) & (GATEWAY_MESSAGE_CONTENT | GATEWAY_MESSAGE_CONTENT_LIMITED):
        findings.append(("ok", f"{name} may read message content (MESSAGE CONTENT intent on)"))
    else:
        findings.append(("refused", "the MESSAGE CONTENT intent is off, so the bot would see "
                                    "every message empty: turn on MESSAGE CONTENT INTENT under "
                                    "Bot → Privileged Gateway Intents in the developer portal"))
    return findings


async def _get(session: aiohttp.ClientSession, url: str) -> tuple[int, object]:
    async with session.get(url) as response:
        body = await response.json(content_type=None) if response.status == 200 else None
        return response.status, body
