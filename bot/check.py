"""``helpdesk-bot check``: validate the whole configuration, one line per finding.

Each check prints ``ok`` or ``problem`` with what to do. Secrets are reported only as
"set" or "missing", never shown.
"""

from __future__ import annotations

import asyncio
from typing import TextIO

from bot.settings import Settings, SettingsError
from bot.storage.engine import DatabaseUrlError, create_engine, redact_url


def platform_findings(settings: Settings) -> list[tuple[bool, str]]:
    """(ok, message) for each platform's credentials, without revealing any of them."""
    findings: list[tuple[bool, str]] = []
    bot_token, app_token = settings.slack_bot_token.reveal(), settings.slack_app_token.reveal()
    if bot_token:
        findings.append((bot_token.startswith("xoxb-"),
                         "SLACK_BOT_TOKEN is set" + ("" if bot_token.startswith("xoxb-")
                                                     else " but is not a bot token (xoxb-...)")))
        if app_token:
            findings.append((app_token.startswith("xapp-"),
                             "SLACK_APP_TOKEN is set: Socket Mode" + (
                                 "" if app_token.startswith("xapp-")
                                 else ", but it is not an app-level token (xapp-...)")))
        else:
            findings.append((bool(settings.slack_signing_secret),
                             f"HTTP mode on {settings.http_host}:{settings.http_port}: "
                             + ("SLACK_SIGNING_SECRET is set" if settings.slack_signing_secret
                                else "SLACK_SIGNING_SECRET is missing (needed without "
                                     "SLACK_APP_TOKEN)")))
    elif app_token or settings.slack_signing_secret:
        findings.append((False, "Slack settings are present but SLACK_BOT_TOKEN is missing"))
    if settings.discord_bot_token:
        findings.append((True, "DISCORD_BOT_TOKEN is set"))
    if not (bot_token or settings.discord_bot_token):
        findings.append((True, "no platform credentials: `helpdesk-bot run` starts the console"))
    return findings


async def database_finding(settings: Settings) -> tuple[bool, str]:
    """Whether the database answers, and whether its schema is current."""
    from bot.storage import migrate
    where = redact_url(settings.database_url)
    try:
        engine = create_engine(settings.database_url)
    except DatabaseUrlError as error:
        return False, str(error)
    try:
        current = await asyncio.wait_for(migrate.current_revision(engine), timeout=10)
    except Exception as error:  # any failure to connect is the finding itself
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()
        return False, f"cannot reach the database at {where}: {reason[0] if reason else type(error).__name__}"
    finally:
        await engine.dispose()
    head = migrate.head_revision()
    if current == head:
        return True, f"database {where} is at the latest schema ({head})"
    return True, (f"database {where} answers; schema {current or 'empty'} will be migrated to "
                  f"{head} at start (or run `helpdesk-bot migrate`)")


def policy_findings(settings: Settings) -> list[tuple[bool, str]]:
    """Whether the templates and default policy in the config folder load."""
    from bot.clock import SystemClock
    from bot.desk.policy import Desk
    try:
        desk = Desk.from_settings(settings, SystemClock())
    except SettingsError as error:
        return [(False, str(error))]
    return [(True, f"{len(desk.templates.keys())} message templates and the default policy load "
                   f"(hours in {desk.defaults.calendar.timezone})")]


async def run_checks(settings: Settings, out: TextIO) -> int:
    """Print every finding; exit status 0 when all are ok, 1 otherwise."""
    findings = [(True, "settings load")]
    findings += policy_findings(settings)
    findings += platform_findings(settings)
    findings.append(await database_finding(settings))
    for ok, message in findings:
        out.write(f"{'ok     ' if ok else 'problem'}  {message}\n")
    problems = sum(1 for ok, _ in findings if not ok)
    out.write("all good\n" if not problems else f"{problems} problem(s) found\n")
    return 0 if not problems else 1
