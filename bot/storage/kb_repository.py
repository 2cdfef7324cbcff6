"""The knowledge base: articles KB-N per workspace, their counters, and search.

Search is one interface (:meth:`KnowledgeRepository.search`) over two full-text
indexes: SQLite's FTS5 and PostgreSQL's weighted tsvector (bot/storage/kb_search.py).
Every write bumps the workspace's ``kb_revision`` in the same transaction, so a search in
any process (a running desk while ``helpdesk-bot kb import`` writes) sees it at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.knowledge import Article, index_terms, normalise_tags
from bot.storage.kb_search import (
    KbStatsCache, Match, article_from_row, load_articles, search_articles,
)
from bot.storage.tables import KbArticleRow, WorkspaceRow

_COUNTERS = {"suggested": "suggested_count", "opened": "opened_count",
             "helpful": "helpful_count"}


if TYPE_CHECKING:
    from bot.storage.kb_vectors import KbVectors


class KnowledgeRepository:
    """Articles of every workspace; ``stats`` is the database's shared cache of term
    statistics (one per :class:`bot.storage.uow.Database`)."""

    def __init__(self, session: AsyncSession, stats: KbStatsCache,
                 vectors: "KbVectors | None" = None) -> None:
        self.session = session
        self.stats = stats
        # The optional sentence-embedding search (bot/storage/kb_vectors.py), or None.
        self.vectors = vectors

    async def save(self, workspace_id: int, number: int | None, *, title: str, body: str,
                   tags, now: datetime, author_id: int | None = None) -> tuple[Article, bool]:
        """Write an article: a new one (``number`` None takes the next free number, or a
        number not used yet) or, when ``number`` exists, an update in place. Returns the
        article and whether it was created."""
        tags = normalise_tags(tags)
        title_terms, tags_terms, body_terms = index_terms(title, tags, body)
        values = dict(title=title.strip(), body=body.strip(), tags=" ".join(tags),
                      title_terms=title_terms, tags_terms=tags_terms, body_terms=body_terms,
                      updated_at=now)
        row = None
        if number is not None:
            row = await self._row(workspace_id, number)
        if row is not None:
            for key, value in values.items():
                setattr(row, key, value)
            if author_id is not None and row.author_id is None:
                row.author_id = author_id
            created = False
        else:
            if number is None:
                number = (await self.session.scalar(
                    select(func.coalesce(func.max(KbArticleRow.number), 0))
                    .where(KbArticleRow.workspace_id == workspace_id))) + 1
            row = KbArticleRow(workspace_id=workspace_id, number=number, author_id=author_id,
                               created_at=now, suggested_count=0, opened_count=0,
                               helpful_count=0, **values)
            self.session.add(row)
            created = True
        await self.session.flush()
        await self._bump(workspace_id)
        return article_from_row(row), created

    async def get(self, workspace_id: int, number: int) -> Article | None:
        """The article ``KB-number`` of the workspace, or None."""
        row = await self._row(workspace_id, number)
        return article_from_row(row) if row else None

    async def all(self, workspace_id: int) -> list[Article]:
        """Every article of the workspace, by number."""
        rows = await self.session.scalars(
            select(KbArticleRow).where(KbArticleRow.workspace_id == workspace_id)
            .order_by(KbArticleRow.number))
        return [article_from_row(row) for row in rows]

    async def first_tagged(self, workspace_id: int, tag: str) -> Article | None:
        """The lowest-numbered article with ``tag`` that is not internal, or None."""
        rows = await self.session.scalars(
            select(KbArticleRow).where(KbArticleRow.workspace_id == workspace_id,
                                       (" " + KbArticleRow.tags + " ").like(f"% {tag} %"))
            .order_by(KbArticleRow.number))
        return next((a for a in map(article_from_row, rows) if not a.internal), None)

    async def many(self, ids: list[int]) -> dict[int, Article]:
        """Articles by id."""
        return await load_articles(self.session, ids)

    async def remove(self, workspace_id: int, number: int) -> bool:
        """Delete ``KB-number``; False when there was none."""
        result = await self.session.execute(
            delete(KbArticleRow).where(KbArticleRow.workspace_id == workspace_id,
                                       KbArticleRow.number == number))
        if result.rowcount:
            await self._bump(workspace_id)
        return bool(result.rowcount)

    async def count(self, article_ids, counter: str) -> None:
        """Add one to ``counter`` (suggested, opened, helpful) of each article. Counters
        are not search input, so the revision stays."""
        ids = list(article_ids)
        if not ids:
            return
        column = _COUNTERS[counter]
        await self.session.execute(
            update(KbArticleRow).where(KbArticleRow.id.in_(ids))
            .values({column: getattr(KbArticleRow, column) + 1}))

    async def search(self, workspace_id: int, text: str, *, limit: int = 3,
                     include_internal: bool = False, tag: str | None = None,
                     without: tuple[str, ...] = ()) -> list[Match]:
        """The articles that best answer ``text``, best first, each with its confidence.
        Internal articles only when ``include_internal`` (staff); ``tag`` narrows to
        articles with that tag, ``without`` leaves out articles with any of those. The caller applies the confidence threshold."""
        return await search_articles(self.session, self.stats, workspace_id, text,
                                     limit=limit, include_internal=include_internal, tag=tag,
                                     without=without, vectors=self.vectors)

    async def article_count(self, workspace_id: int) -> int:
        """How many articles the workspace's knowledge base holds (from the cached term
        statistics: one small read while the knowledge base is unchanged)."""
        return (await self.stats.get(self.session, workspace_id)).articles

    async def _row(self, workspace_id: int, number: int) -> KbArticleRow | None:
        return await self.session.scalar(
            select(KbArticleRow).where(KbArticleRow.workspace_id == workspace_id,
                                       KbArticleRow.number == number))

    async def _bump(self, workspace_id: int) -> None:
        await self.session.execute(
            update(WorkspaceRow).where(WorkspaceRow.id == workspace_id)
            .values(kb_revision=WorkspaceRow.kb_revision + 1))
