"""``helpdesk-bot check``: validate the whole configuration, one line per finding.

Each check prints ``ok`` or ``problem`` with what to do. Secrets are reported only as
"set" or "missing", never shown. The exit status is the one ``run`` would end with:
2 when any problem is one of configuration, 1 when the only problems are the database's
(unreachable, not writable, schema not current), 0 when all is well.

``run`` asks :func:`database_findings` the same questions before it starts, so the two
commands never disagree about the database.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Awaitable, Callable, Sequence, TextIO

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings, SettingsError, mask
from bot.web.listening import listen_problem
from bot.storage.engine import (
    DatabaseUrlError,
    create_engine,
    describe_database_error,
    redact_url,
    sqlite_permission_problem,
    write_problem,
)

# The exit statuses of every command (bot/__main__.py uses these).
EXIT_CONFIG = 2
EXIT_RUNTIME = 1
DATABASE_TIMEOUT = 10.0

# An online probe (see bot/platforms/*/probe.py): asks a platform about its token and
# answers (verdict, message) pairs, verdict "ok", "refused" (the platform said no: a
# configuration problem) or "unreachable" (the platform could not be asked).
Probe = Callable[[Settings], Awaitable[list[tuple[str, str]]]]


@dataclass(frozen=True)
class Finding:
    """One line of ``check``: ``ok``, or a problem and the exit status it deserves."""

    message: str
    exit_status: int = 0
    warning: bool = False  # no problem for `run`, but something to set right

    @property
    def ok(self) -> bool:
        """Whether this is no problem."""
        return self.exit_status == 0

    @classmethod
    def good(cls, message: str) -> "Finding":
        """All is well with what ``message`` names."""
        return cls(message)

    @classmethod
    def warn(cls, message: str) -> "Finding":
        """Not a problem ``run`` stops at, but likely not what was meant."""
        return cls(message, warning=True)

    @classmethod
    def config(cls, message: str) -> "Finding":
        """A configuration problem."""
        return cls(message, EXIT_CONFIG)

    @classmethod
    def database(cls, message: str) -> "Finding":
        """A problem of the database itself."""
        return cls(message, EXIT_RUNTIME)


# Slack HTTP mode with no public URL: Slack cannot post to 0.0.0.0 or 127.0.0.1.
NO_PUBLIC_URL = ("HELPDESK_PUBLIC_URL is not set: Slack's HTTP mode needs a public https:// "
                 "URL to send events to (the Request URL is HELPDESK_PUBLIC_URL plus "
                 "/slack/events); set it, or use Socket Mode (SLACK_APP_TOKEN)")


def platform_findings(settings: Settings) -> list[Finding]:
    """Each platform's credentials, offline, without revealing any of them."""
    findings: list[Finding] = []
    bot_token, app_token = settings.slack_bot_token.reveal(), settings.slack_app_token.reveal()
    if bot_token:
        findings.append(Finding.good("SLACK_BOT_TOKEN is set") if bot_token.startswith("xoxb-")
                        else Finding.config("SLACK_BOT_TOKEN is set but is not a bot token "
                                            "(xoxb-...)"))
        if app_token:
            findings.append(
                Finding.good("SLACK_APP_TOKEN is set: Socket Mode") if app_token.startswith("xapp-")
                else Finding.config("SLACK_APP_TOKEN is set: Socket Mode, but it is not an "
                                    "app-level token (xapp-...)"))
        else:
            where = f"HTTP mode on {settings.http_host}:{settings.http_port}: "
            findings.append(
                Finding.good(where + "SLACK_SIGNING_SECRET is set")
                if settings.slack_signing_secret
                else Finding.config(where + "SLACK_SIGNING_SECRET is missing (needed without "
                                            "SLACK_APP_TOKEN)"))
            if not settings.public_url:
                findings.append(Finding.warn(NO_PUBLIC_URL))
    elif app_token or settings.slack_signing_secret:
        findings.append(Finding.config("Slack settings are present but SLACK_BOT_TOKEN is "
                                       "missing"))
    if settings.discord_bot_token:
        findings.append(Finding.good("DISCORD_BOT_TOKEN is set"))
    if not (bot_token or settings.discord_bot_token):
        findings.append(Finding.good("no platform credentials: `helpdesk-bot run` starts the "
                                     "console"))
    return findings


def web_findings(settings: Settings) -> list[Finding]:
    """Where the web server listens and is reached, and whether the secret key is long
    enough (never showing it)."""
    findings: list[Finding] = []
    if settings.slack_enabled or settings.discord_enabled or "http_port" in settings.given:
        reached = settings.public_url or "the address it listens on (HELPDESK_PUBLIC_URL unset)"
        problem = listen_problem(settings.http_host, settings.http_port)
        findings.append(
            Finding.config(problem) if problem else
            Finding.good(f"web server on {settings.http_host}:{settings.http_port} "
                         f"(/healthz, /readyz, /metrics), reached at {reached}"))
    # A short key never gets here: loading the settings refuses it, for `run` as well.
    if settings.secret_key.reveal():
        findings.append(Finding.good("HELPDESK_SECRET_KEY is set"))
    return findings


async def database_findings(settings: Settings, *, will_migrate: bool,
                            not_migrating: str = "", engine: AsyncEngine | None = None
                            ) -> Finding:
    """Whether the database answers, may be written, and has the schema the code needs
    (or will have it: ``will_migrate``). ``not_migrating`` says why it will not be
    migrated, for the message (``--no-migrate``, HELPDESK_AUTO_MIGRATE). ``engine`` is
    one to ask (``run`` passes the desk's own, and keeps it); without it one is made
    for the question and disposed of."""
    from bot.storage import migrate
    url = settings.database_url
    owned = engine is None
    if engine is None:
        try:
            engine = create_engine(url)
        except DatabaseUrlError as error:
            return Finding.config(str(error))
    try:
        problem = sqlite_permission_problem(url)
        if problem is not None:  # said without opening it (a failed open leaves a thread behind)
            return Finding.database(problem)
        try:
            current = await asyncio.wait_for(migrate.current_revision(engine), DATABASE_TIMEOUT)
            problem = await asyncio.wait_for(write_problem(engine, url), DATABASE_TIMEOUT)
        except Exception as error:  # any failure to connect is the finding itself
            config, message = describe_database_error(error, url)
            return Finding.config(message) if config else Finding.database(message)
    finally:
        if owned:
            await engine.dispose()
    if problem is not None:
        return Finding.database(problem)
    head, known = migrate.schema_revisions(current)
    return _schema_finding(redact_url(url), current, head, known=known,
                           will_migrate=will_migrate, not_migrating=not_migrating)


def _schema_finding(where: str, current: str | None, head: str, *, known: bool,
                    will_migrate: bool, not_migrating: str) -> Finding:
    fix = "run `helpdesk-bot migrate`" + (f" ({not_migrating})" if not_migrating else "")
    if current == head:
        return Finding.good(f"database {where} is at the latest schema ({head})")
    if not known:
        return Finding.database(
            f"the database {where} is at schema revision {current}, which this version of "
            f"helpdesk-bot does not know (it needs {head}): a newer version migrated it; "
            "run that version, or downgrade the database with it")
    if current is None:
        if will_migrate:
            return Finding.good(f"database {where} has no tables yet; `helpdesk-bot run` "
                                f"creates them (schema {head})")
        return Finding.database(f"the database {where} has no tables yet; {fix}")
    if will_migrate:
        return Finding.good(f"database {where}: schema is at revision {current}; "
                            f"`helpdesk-bot run` migrates it to {head}")
    return Finding.database(f"the database {where}: schema is at revision {current}, the code "
                            f"needs {head}; {fix}")


def housekeeping_summary(settings: Settings) -> str:
    """How the desk logs and how long it keeps delivery records, in one line."""
    # Unset, the level depends on how the desk runs (INFO serving platforms, WARNING in
    # the console), so only a level that was set is named.
    level = f" at {settings.log_level.upper()}" if settings.log_level else ""
    return (f"logs as {settings.log_format.lower()}{level}; sent messages and event "
            f"ids are kept {settings.retention_days} days (tickets, timelines and promises "
            "for good)")


def policy_findings(settings: Settings) -> list[Finding]:
    """Whether the templates, default policy and tips in force load, and where each file
    comes from (the operator's folder or the shipped defaults)."""
    from bot.clock import SystemClock
    from bot.desk.policy import Desk
    try:
        desk = Desk.from_settings(settings, SystemClock())
    except SettingsError as error:
        return [Finding.config(str(error))]
    from bot.config_files import ConfigFolder
    where = ConfigFolder.of(settings.config_dir).describe()  # it loaded, so it is usable
    return [Finding.good(f"{len(desk.templates.keys())} message templates, the default policy "
                         f"(hours in {desk.defaults.calendar.timezone}) and {len(desk.tips)} "
                         f"tips load: {where}")]


async def online_findings(settings: Settings, probes: Sequence[Probe]) -> list[Finding]:
    """Ask each platform whether its token works and carries what the desk needs."""
    findings: list[Finding] = []
    for probe in probes:
        for verdict, message in await probe(settings):
            findings.append(Finding.good(message) if verdict == "ok"
                            else Finding.database(message) if verdict == "unreachable"
                            else Finding.config(message))
    return findings


async def run_checks(settings: Settings, out: TextIO, *,
                     probes: Sequence[Probe] = ()) -> int:
    """Print every finding; return the exit status ``run`` would end with (see above).
    ``probes`` ask the platforms themselves (``check --online``); without them nothing
    leaves this machine but the database connection."""
    findings = [Finding.good("settings load"), Finding.good(housekeeping_summary(settings))]
    findings += policy_findings(settings)
    findings += platform_findings(settings)
    findings += web_findings(settings)
    findings += await online_findings(settings, probes)
    findings.append(await database_findings(settings, will_migrate=settings.auto_migrate,
                                            not_migrating="HELPDESK_AUTO_MIGRATE is off"))
    secrets = settings.secrets()
    for finding in findings:
        label = "problem" if not finding.ok else "warning" if finding.warning else "ok     "
        out.write(f"{label}  {mask(finding.message, secrets)}\n")
    problems = [f for f in findings if not f.ok]
    if not problems:
        warnings = sum(f.warning for f in findings)
        out.write("all good\n" if not warnings else
                  f"all good, but {warnings} warning{'' if warnings == 1 else 's'}\n")
        return 0
    out.write(f"{len(problems)} problem{'' if len(problems) == 1 else 's'} found\n")
    return max(f.exit_status for f in problems)
