"""Command line: ``helpdesk-bot run | migrate | check | discord-invite | init | kb | export``.

Configuration and database problems end in one line naming the problem and a non-zero
exit status, never a traceback and never a secret.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import stat
import sys
from pathlib import Path

from alembic.util.exc import CommandError
from sqlalchemy.exc import SQLAlchemyError

from bot.check import EXIT_CONFIG, EXIT_RUNTIME
from bot.logs import formatter as log_formatter
from bot.settings import SettingsError, for_console, load_settings, mask
from bot.storage.engine import DatabaseUrlError, describe_database_error


NO_PLATFORM = ("no platform credentials: set SLACK_BOT_TOKEN (with SLACK_APP_TOKEN or "
               "SLACK_SIGNING_SECRET) or DISCORD_BOT_TOKEN, or pass --console to talk to "
               "the desk in this terminal.")


def _nobody_can_type() -> bool:
    """Whether the console could never be given a line: stdin closed, or /dev/null (a
    container run without -i, a service). A terminal or a pipe (``printf ... | run``)
    can be typed into."""
    if sys.stdin is None:
        return True
    try:
        if sys.stdin.isatty():
            return False
        given = os.fstat(sys.stdin.fileno())
        return stat.S_ISCHR(given.st_mode) and os.path.samestat(given, os.stat(os.devnull))
    except (OSError, ValueError):  # closed, or no file descriptor at all
        return True


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with ``--help`` on every sub-command."""
    parser = argparse.ArgumentParser(
        prog="helpdesk-bot",
        description="An IT help desk for Slack and Discord that keeps every promise it makes.")
    parser.add_argument("--version", action="version", version=f"helpdesk-bot {_version()}")
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
    check = commands.add_parser(
        "check", help="validate the configuration",
        description="Check settings, templates, policy and the database connection, and say "
                    "exactly what is missing or wrong. Secrets are never printed. Exit "
                    "status as `run` would end: 2 for configuration, 1 for the database.")
    check.add_argument("--online", action="store_true",
                       help="also ask Slack and Discord whether each token works and has the "
                            "scopes or intents the desk needs (without it, no platform is "
                            "called)")
    init = commands.add_parser(
        "init", help="write a .env and a copy of the default config to customise",
        description="Write FOLDER/.env (every setting, commented, with HELPDESK_CONFIG_DIR "
                    "pointing at the copy), FOLDER/config/ (messages.toml, policy.toml, "
                    "tips.toml) and FOLDER/slack-manifest.yaml. Existing files are never "
                    "replaced without --force.")
    init.add_argument("folder", nargs="?", default=".",
                      help="where to write them (default: the current folder; created if "
                           "missing)")
    init.add_argument("--force", action="store_true",
                      help="replace files that already exist with the defaults")
    kb = commands.add_parser(
        "kb", help="import or export the knowledge base as Markdown files",
        description="Import or export knowledge-base articles: Markdown files with YAML "
                    "front matter (id as KB-N or N, title, tags). Importing is idempotent: "
                    "an article with the same id (or, without one, the same title) is "
                    "updated in place. A running desk sees the change at once.")
    kb_commands = kb.add_subparsers(dest="kb_command", metavar="ACTION", required=True)
    for name, text in (("import", "read every *.md file under FOLDER into the knowledge base"),
                       ("export", "write every article to FOLDER as kb-NNN-title.md")):
        action = kb_commands.add_parser(name, help=text, description=text)
        if name == "import":
            source = action.add_mutually_exclusive_group(required=True)
            source.add_argument("folder", nargs="?", help="the folder of Markdown files")
            source.add_argument("--sample", action="store_true",
                                help="the sample knowledge base shipped with the desk "
                                     "(a few generic IT articles and tips)")
        else:
            action.add_argument("folder", help="the folder of Markdown files")
        action.add_argument("--workspace", help="which workspace (its Slack team or Discord "
                                                "server id, or platform:id); needed when the "
                                                "database has several")
    export = commands.add_parser(
        "export", help="export tickets as CSV or JSON lines",
        description="Write the tickets opened since a day (and before another, if given) "
                    "to standard output or a file: number, status, priority, subject, "
                    "requester, owner, channel, times, business-time durations and rating.")
    export_commands = export.add_subparsers(dest="export_command", metavar="WHAT",
                                            required=True)
    tickets = export_commands.add_parser("tickets", help="the tickets opened in a period",
                                         description="the tickets opened in a period")
    tickets.add_argument("--since", required=True, metavar="YYYY-MM-DD",
                         help="the first day (in the desk's time zone)")
    tickets.add_argument("--until", metavar="YYYY-MM-DD",
                         help="the day after the last one (default: now)")
    tickets.add_argument("--format", choices=("csv", "jsonl"), default="csv",
                         help="csv (with a header) or jsonl (one JSON object a line)")
    tickets.add_argument("--output", metavar="FILE",
                         help="write here instead of stdout (- means stdout)")
    tickets.add_argument("--workspace", help="which workspace (its Slack team or Discord "
                                             "server id, or platform:id); needed when the "
                                             "database has several")
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("helpdesk-bot")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``helpdesk-bot`` console script."""
    args = build_parser().parse_args(argv)
    if args.command is None:
        build_parser().print_help()
        return EXIT_CONFIG
    if args.command == "init":  # before the settings: it makes them
        return _init(Path(args.folder), force=args.force)
    try:
        settings = load_settings()
    except SettingsError as error:
        return _fail(str(error), EXIT_CONFIG)
    console = args.command == "run" and (args.console or not (
        settings.slack_enabled or settings.discord_enabled))
    if console and not args.console and _nobody_can_type():
        # No platform and no input that could ever come: a container started before its
        # tokens were filled in (stdin is /dev/null) would otherwise read end-of-input,
        # exit 0 and be restarted, silently, for ever.
        return _fail(NO_PLATFORM, EXIT_CONFIG)
    # `check` and `migrate` look at the database `run` would use: with no platform
    # configured, that is the console's own file.
    if console or not (settings.slack_enabled or settings.discord_enabled):
        settings = for_console(settings)
    # HELPDESK_LOG_LEVEL is one of the levels: load_settings checked it.
    level = settings.log_level.upper() or ("WARNING" if console or args.command != "run" else "INFO")
    secrets = settings.secrets()
    line_format = log_formatter(settings.log_format, lambda text: mask(text, secrets))
    if console:
        # Logs in the terminal would read as part of the conversation.
        from bot.platforms.console.logs import log_to_file
        log_to_file(level=level, redact=lambda line: mask(line, secrets), formatter=line_format,
                    fallback=_beside_database(settings))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(line_format)
        logging.basicConfig(level=level, handlers=[handler])
    if args.command == "check":
        from bot.check import run_checks
        return asyncio.run(run_checks(settings, sys.stdout, probes=_probes(settings)
                                      if args.online else ()))
    if args.command == "discord-invite":
        return _discord_invite(settings, args.application_id)
    if args.command in ("kb", "export"):
        try:
            return asyncio.run(_kb(settings, args) if args.command == "kb"
                               else _export(settings, args))
        except (OSError, SQLAlchemyError) as error:
            config, message = describe_database_error(error, settings.database_url)
            return _fail(message, EXIT_CONFIG if config else EXIT_RUNTIME)
    try:
        if args.command == "migrate":
            return asyncio.run(_migrate(settings, args.revision, args.downgrade, args.yes))
        # HELPDESK_AUTO_MIGRATE=false is honoured as --no-migrate is.
        not_migrating = ("or start without --no-migrate" if args.no_migrate
                         else "or set HELPDESK_AUTO_MIGRATE=true")
        return _run(settings, console=args.console,
                    migrate=settings.auto_migrate and not args.no_migrate,
                    not_migrating=not_migrating)
    except (SettingsError, DatabaseUrlError) as error:
        return _fail(mask(str(error), settings.secrets()), EXIT_CONFIG)
    except CommandError as error:  # Alembic: an unknown revision, for one
        return _fail(mask(f"migration: {error}", settings.secrets()), EXIT_CONFIG)
    except (OSError, SQLAlchemyError, asyncio.TimeoutError) as error:
        config, message = describe_database_error(error, settings.database_url)
        return _fail(message, EXIT_CONFIG if config else EXIT_RUNTIME)
    except KeyboardInterrupt:
        return 130


def _beside_database(settings) -> Path | None:
    """Where the console's log goes when the working folder cannot be written: beside
    its SQLite file (in the image, the data volume), or nowhere else."""
    from bot.platforms.console.logs import LOG_FILE
    from bot.storage.engine import sqlite_path
    try:
        database = sqlite_path(settings.database_url)
    except Exception:  # not a SQLite URL
        return None
    return Path(database).parent / LOG_FILE if database else None


def _probes(settings) -> list:
    """The online checks of each configured platform (imported only when asked for:
    each pulls in its platform's SDK)."""
    probes = []
    if settings.slack_enabled:
        from bot.platforms.slack.probe import probe_slack
        probes.append(probe_slack)
    if settings.discord_enabled:
        from bot.platforms.discord.probe import probe_discord
        probes.append(probe_discord)
    return probes


def _init(folder: Path, *, force: bool) -> int:
    from bot.scaffold import InitError, init, report
    try:
        init(folder, force=force)
    except InitError as error:
        return _fail(str(error), EXIT_CONFIG)
    report(folder, sys.stdout, here=Path.cwd())
    return 0


def _discord_invite(settings, application_id: str | None) -> int:
    from bot.platforms.discord.adapter import application_id_from_token, invite_url
    application_id = application_id or application_id_from_token(
        settings.discord_bot_token.reveal())
    if not application_id or not application_id.isdigit():
        return _fail("give --application-id (a number from the Discord developer portal), or "
                     "set DISCORD_BOT_TOKEN to a bot token it can be read from.", EXIT_CONFIG)
    print(invite_url(application_id))
    return 0


def _run(settings, *, console: bool, migrate: bool, not_migrating: str) -> int:
    from bot.app import App, run_app
    from bot.check import database_findings
    app = App(settings, console=console, run_migrations=migrate)

    async def checked() -> int:
        # The questions `check` asks, before any adapter starts: a database the desk cannot
        # write, or whose schema is not the code's, is one line here, not a traceback for
        # every message later. Asked on the desk's own engine, in the loop it serves in.
        problem = await database_findings(settings, will_migrate=migrate,
                                          not_migrating=not_migrating, engine=app.db.engine)
        if not problem.ok:
            await app.db.dispose()
            return _fail(mask(problem.message, settings.secrets()), problem.exit_status)
        await run_app(app)
        if not app.stopped_cleanly:
            # A stop step was given up (a silent database): asyncio.run would now wait
            # for its cancelled work to unwind, which over a silent network it never
            # does. What it held returns to the other instances by its leases.
            logging.shutdown()
            os._exit(0)
        return 0

    return asyncio.run(checked())


async def _migrate(settings, revision: str | None, downgrade: bool, yes: bool = False) -> int:
    from bot.storage import migrate
    from bot.storage.engine import create_engine, sqlite_permission_problem
    engine = create_engine(settings.database_url)
    problem = sqlite_permission_problem(settings.database_url)
    if problem is not None:  # said before SQLite is asked to open what it may not write
        await engine.dispose()
        return _fail(problem, EXIT_RUNTIME)
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
    except TypeError as error:  # asyncpg refusing a parameter of the URL, or a bug
        config, message = describe_database_error(error, settings.database_url)
        if not config:
            raise
        return _fail(message, EXIT_CONFIG)
    finally:
        await engine.dispose()
    return 0


async def _kb(settings, args) -> int:
    from pathlib import Path
    from bot.kb_files import KbFilesError, export_folder, import_folder
    from bot.storage import migrate
    from bot.storage.uow import Database
    from bot.config_files import shipped_sample_kb
    from bot.templates import load_templates
    db = Database.from_url(settings.database_url)
    try:
        if settings.auto_migrate:
            await migrate.upgrade(db.engine)
        if getattr(args, "sample", False):
            folder = shipped_sample_kb()
        else:
            folder = Path(args.folder)
        if args.kb_command == "export":
            written = await export_folder(db, folder, workspace=args.workspace)
            print(f"exported {len(written)} article(s) to {folder}")
            return 0
        templates = load_templates(settings.config_dir)
        report = await import_folder(db, folder, templates, workspace=args.workspace)
    except KbFilesError as error:
        return _fail(str(error), EXIT_CONFIG)
    finally:
        await db.dispose()
    print(f"imported into {report.workspace}: {len(report.created)} new, "
          f"{len(report.updated)} updated, {len(report.skipped)} skipped")
    for name, why in report.skipped:
        print(f"  skipped {name}: {why}")
    return 1 if report.skipped else 0


async def _export(settings, args) -> int:
    """``export tickets``: stream the tickets of a period to a file or stdout.

    Every refusal is one true line: a day that cannot be read or handled, a period that
    ends before it starts (naming "now" when --until was not given), a database that does
    not exist yet (an export only reads: it never creates one), or an --output that cannot
    be written (named as such, not as a database problem). The rows are written to a
    temporary file beside --output and moved into place at the end, so a failure never
    leaves half a file; ``--output -`` means standard output."""
    from datetime import datetime, time, timezone
    from bot.clock import SystemClock
    from bot.desk.policy import Desk
    from bot.domain.errors import Unreadable
    from bot.domain.calendar import parse_day
    from bot.kb_files import KbFilesError, find_workspace
    from bot.reports import ReportFilter
    from bot.reports.export import ticket_rows, write_tickets
    from bot.storage.engine import sqlite_path
    from bot.storage.uow import Database
    database = sqlite_path(settings.database_url)
    if database is not None and not database.exists():
        return _fail(f"there is no database at {database} yet; start the desk once first "
                     "(or set HELPDESK_DATABASE_URL to the desk's database)", EXIT_CONFIG)
    target = None if args.output in (None, "-") else Path(args.output)
    if target is not None and not target.parent.is_dir():
        return _fail(f"--output {args.output}: the folder {target.parent} does not exist",
                     EXIT_CONFIG)
    if target is not None and target.is_dir():
        return _fail(f"--output {args.output} is a folder; give a file name", EXIT_CONFIG)
    clock = SystemClock()
    desk = Desk.from_settings(settings, clock)
    db = Database.from_url(settings.database_url, clock)
    out = partial = None
    try:
        if settings.auto_migrate:  # as `kb` does: an export reads the current schema
            from bot.storage import migrate
            await migrate.upgrade(db.engine)
        async with db.reading() as uow:
            workspace_id, _ = await find_workspace(uow, args.workspace)
            workspace = await uow.workspaces.get(workspace_id)
            policy = desk.policy(workspace)
            zone = policy.calendar.zone
            now = clock.now()
            try:
                since = parse_day(args.since)
                until = parse_day(args.until) if args.until else None
            except Unreadable as error:
                return _fail(f"--since/--until: {desk.templates.render(error.template, **error.fields)}",
                             EXIT_CONFIG)
            try:  # the first and last days of the calendar have no time zone room
                start = datetime.combine(since, time(0), tzinfo=zone).astimezone(timezone.utc)
                end = (datetime.combine(until, time(0), tzinfo=zone).astimezone(timezone.utc)
                       if until else now)
            except (OverflowError, ValueError):
                return _fail("--since/--until: give days between 0002-01-01 and 9998-12-31",
                             EXIT_CONFIG)
            if end < start:
                if until is None:
                    return _fail(f"--since {args.since} is after now ({now:%Y-%m-%d %H:%M} "
                                 "UTC), and --until defaults to now; give an earlier --since "
                                 "or a later --until", EXIT_CONFIG)
                return _fail(f"--until {args.until} is before --since {args.since}",
                             EXIT_CONFIG)
            filt = ReportFilter(workspace_id, start, end)
            if target is not None:
                try:
                    partial = target.with_name(f".{target.name}.partial")
                    out = open(partial, "w", encoding="utf-8", newline="")
                except OSError as error:
                    partial = None
                    return _fail(f"--output {args.output}: cannot write there "
                                 f"({error.strerror or error})", EXIT_CONFIG)
            count = await write_tickets(ticket_rows(uow, filt, now, policy.calendar),
                                        out or sys.stdout, args.format)
            if out is not None:
                out.close()
                partial.replace(target)
                partial = None
    except KbFilesError as error:
        return _fail(str(error), EXIT_CONFIG)
    finally:
        if out is not None:
            out.close()
        if partial is not None:  # a failure after the first rows: no half file is left
            partial.unlink(missing_ok=True)
        await db.dispose()
    print(f"exported {count} ticket(s)", file=sys.stderr)
    return 0


def _fail(message: str, code: int) -> int:
    print(f"helpdesk-bot: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
