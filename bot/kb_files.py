"""``helpdesk-bot kb import`` and ``kb export``: the knowledge base as Markdown files.

Each file is one article: YAML front matter (``id`` as ``KB-N`` or ``N``, ``title``,
``tags``) and a Markdown body. Importing is idempotent: a file with an id updates that
article in place; a file without one updates the article with the same title if there
is one, and otherwise becomes a new article with the next free number. A file that cannot
be read is named and skipped; the others still go in. Everything is written in one unit
of work, and the workspace's knowledge-base revision moves with it, so a running desk
searches the new articles at once, with no restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from bot.domain.errors import DomainError
from bot.domain.knowledge import ArticleFile, file_name, parse_markdown, render_markdown
from bot.storage.tables import KbArticleRow, WorkspaceRow
from bot.storage.uow import Database
from bot.templates import Templates

CONSOLE = ("console", "console")  # the console's workspace (bot/platforms/console)


class KbFilesError(Exception):
    """The import or export cannot start (no such folder, which workspace is unclear)."""


@dataclass
class ImportReport:
    """What an import did."""

    workspace: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why)


async def _workspace(uow, given: str | None, *, create_console: bool) -> tuple[int, str]:
    rows = list(await uow.session.scalars(select(WorkspaceRow).order_by(WorkspaceRow.id)))
    if given:
        wanted = given.split(":", 1)[-1]
        found = [r for r in rows if r.external_id == wanted
                 and (":" not in given or r.platform == given.split(":", 1)[0])]
        if len(found) == 1:
            return found[0].id, f"{found[0].platform}:{found[0].external_id}"
        if not found and create_console and given in ("console", "console:console"):
            rows = []
        else:
            known = ", ".join(f"{r.platform}:{r.external_id}" for r in rows) or "none yet"
            raise KbFilesError(
                f"no single workspace {given!r} in the database (known: {known}); a "
                "workspace appears once someone has used the desk there")
    if len(rows) == 1 and not given:
        return rows[0].id, f"{rows[0].platform}:{rows[0].external_id}"
    if rows and not given:
        known = ", ".join(f"{r.platform}:{r.external_id}" for r in rows)
        raise KbFilesError(f"the database has several workspaces ({known}); "
                           "say which with --workspace")
    if not create_console:
        raise KbFilesError("the database has no workspace yet; start the desk once first")
    # An empty database: the console's workspace, as the console would create it.
    workspace = await uow.workspaces.ensure(*CONSOLE, "Console", uow.clock.now())
    return workspace.id, "console:console"


async def find_workspace(uow, given: str | None) -> tuple[int, str]:
    """The workspace a command line names (``--workspace``: an external id or
    ``platform:id``), or the only one there is; KbFilesError says what is unclear."""
    return await _workspace(uow, given, create_console=False)


def _describe(error: Exception, templates: Templates) -> str:
    if isinstance(error, DomainError):
        return templates.render(error.template, **error.fields)
    return str(error)


async def import_folder(db: Database, folder: Path, templates: Templates, *,
                        workspace: str | None = None) -> ImportReport:
    """Import every ``*.md`` file under ``folder`` (sorted by path)."""
    if not folder.is_dir():
        raise KbFilesError(f"{folder} is not a folder")
    parsed: list[tuple[Path, ArticleFile]] = []
    report = ImportReport(workspace="")
    for path in sorted(folder.rglob("*.md")):
        try:
            parsed.append((path, parse_markdown(path.read_text(encoding="utf-8"))))
        except (DomainError, UnicodeDecodeError, OSError) as error:
            report.skipped.append((str(path.relative_to(folder)), _describe(error, templates)))
    async with db.unit_of_work() as uow:
        workspace_id, report.workspace = await _workspace(uow, workspace, create_console=True)
        now = uow.clock.now()
        by_title = {title.casefold(): number for number, title in (await uow.session.execute(
            select(KbArticleRow.number, KbArticleRow.title)
            .where(KbArticleRow.workspace_id == workspace_id))).all()}
        for path, item in parsed:
            number = item.number if item.number is not None else by_title.get(
                item.title.casefold())
            article, created = await uow.kb.save(workspace_id, number, title=item.title,
                                                 body=item.body, tags=item.tags, now=now)
            by_title[article.title.casefold()] = article.number
            (report.created if created else report.updated).append(article.ref)
    return report


async def export_folder(db: Database, folder: Path, *, workspace: str | None = None) -> list[Path]:
    """Write every article of the workspace to ``folder`` as ``kb-NNN-title.md``."""
    folder.mkdir(parents=True, exist_ok=True)
    async with db.reading() as uow:
        workspace_id, _ = await _workspace(uow, workspace, create_console=False)
        articles = await uow.kb.all(workspace_id)
    written = []
    for article in articles:
        path = folder / file_name(article)
        path.write_text(render_markdown(article), encoding="utf-8")
        written.append(path)
    return written
