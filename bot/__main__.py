"""Command line: ``helpdesk-bot run | migrate | check``.

Configuration and database problems end in one line naming the problem and a non-zero
exit status, never a traceback and never a secret.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from alembic.util.exc import CommandError
from sqlalchemy.exc import SQLAlchemyError

from bot.settings import SettingsError, for_console, load_settings
from bot.storage.engine import DatabaseUrlError, redact_url

EXIT_CONFIG = 2
EXIT_RUNTIME = 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with ``--help`` on every sub-command."""
    parser = argparse.ArgumentParser(
        prog="helpdesk-bot",
        description="An IT help desk for Slack and Discord that keeps every promise it makes.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser(
        "run", help="start the desk",
        description="Start every adapter whose credentials are configured; with none, the "
                    "console adapter. The database is migrated to the latest schema first.")
    run.add_argument("--console", action="store_true",
                     help="talk to the desk in this terminal (ignores platform credentials)")
    run.add_argument("--no-migrate", action="store_true",
                     help="do not bring the database to the latest migration at start")
    migrate = commands.add_parser(
        "migrate", help="bring the database to the latest schema",
        description="Upgrade the database to the latest migration (or to --revision).")
    migrate.add_argument("--revision", help="target revision (default: head; a downgrade "
                                            "must name one)")
    migrate.add_argument("--downgrade", action="store_true",
                         help="downgrade to --revision instead (use 'base' to empty it)")
    migrate.add_argument("--yes", action="store_true",
                         help="confirm a downgrade to base, which drops all the desk's data")
    invite = commands.add_parser(
        "discord-invite", help="print the URL that adds the bot to a Discord server",
        description="Print the invite URL with exactly the permissions and scopes the bot uses. "
                    "The application id is read from DISCORD_BOT_TOKEN unless given.")
    invite.add_argument("--application-id", help="the Discord application id")
    commands.add_parser(
        "check", help="validate the configuration",
        description="Check settings, templates, policy and the database connection, and say "
                    "exactly what is missing or wrong. Secrets are never printed.")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``helpdesk-bot`` console script."""
    args = build_parser().parse_args(argv)
    if args.command is None:
        build_parser().print_help()
        return EXIT_CONFIG
    try:
        settings = load_settings()
    except SettingsError as error:
        return _fail(str(error), EXIT_CONFIG)
    console = args.command == "run" and (args.console or not (
        settings.slack_enabled or settings.discord_enabled))
    if console:
        settings = for_console(settings)
    level = settings.log_level.upper() or ("WARNING" if console or args.command != "run" else "INFO")
    if level not in logging.getLevelNamesMapping():
        return _fail(f"HELPDESK_LOG_LEVEL {settings.log_level!r} is not a log level "
                     "(use DEBUG, INFO, WARNING or ERROR).", EXIT_CONFIG)
    if console:
        # Logs in the terminal would read as part of the conversation.
        from bot.platforms.console.logs import log_to_file
        log_to_file(level=level)
    else:
        logging.basicConfig(level=level, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "check":
        from bot.check import run_checks
        return asyncio.run(run_checks(settings, sys.stdout))
    if args.command == "discord-invite":
        return _discord_invite(settings, args.application_id)
    try:
        if args.command == "migrate":
            return asyncio.run(_migrate(settings, args.revision, args.downgrade, args.yes))
        return _run(settings, console=args.console, migrate=not args.no_migrate)
    except (SettingsError, DatabaseUrlError) as error:
        return _fail(str(error), EXIT_CONFIG)
    except CommandError as error:  # Alembic: an unknown revision, for one
        return _fail(f"migration: {error}", EXIT_CONFIG)
    except (OSError, SQLAlchemyError, asyncio.TimeoutError) as error:
        return _fail(f"cannot reach the database at {redact_url(settings.database_url)}: "
                     f"{_reason(error)}", EXIT_RUNTIME)
    except KeyboardInterrupt:
        return 130


def _discord_invite(settings, application_id: str | None) -> int:
    from bot.platforms.discord.adapter import application_id_from_token, invite_url
    application_id = application_id or application_id_from_token(
        settings.discord_bot_token.reveal())
    if not application_id or not application_id.isdigit():
        return _fail("give --application-id (a number from the Discord developer portal), or "
                     "set DISCORD_BOT_TOKEN to a bot token it can be read from.", EXIT_CONFIG)
    print(invite_url(application_id))
    return 0


def _run(settings, *, console: bool, migrate: bool) -> int:
    from bot.app import App, run_app
    app = App(settings, console=console, run_migrations=migrate)
    asyncio.run(run_app(app))
    return 0


async def _migrate(settings, revision: str | None, downgrade: bool, yes: bool = False) -> int:
    from bot.storage import migrate
    from bot.storage.engine import create_engine
    engine = create_engine(settings.database_url)
    try:
        if downgrade:
            problem = migrate.downgrade_problem(
                revision, yes=yes, current=await migrate.current_revision(engine))
            if problem:
                return _fail(problem, EXIT_CONFIG)
            await migrate.downgrade(engine, revision)
        else:
            await migrate.upgrade(engine, revision or "head")
        print(f"database at revision {await migrate.current_revision(engine) or 'base (empty)'}")
    finally:
        await engine.dispose()
    return 0


def _reason(error: BaseException) -> str:
    """The root cause in a few words; SQLAlchemy wraps the driver's own error."""
    root = getattr(error, "orig", None) or error.__cause__ or error
    text = str(root).strip().splitlines()[0] if str(root).strip() else type(root).__name__
    return text[:300]


def _fail(message: str, code: int) -> int:
    print(f"helpdesk-bot: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
