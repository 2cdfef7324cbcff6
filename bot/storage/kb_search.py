"""Full-text search of the knowledge base: one interface, two indexes.

Both databases index the same analysed terms (bot/domain/knowledge.py), find candidates
with their own full-text index, and hand them to the same BM25F ranking in Python, so a
message gets the same suggestions, with the same confidence, on either database.

- SQLite: an FTS5 table (``porter unicode61``) over the articles, kept by triggers;
  candidates by ``MATCH`` any term, ordered by ``bm25()`` with title above tags above body.
- PostgreSQL: a GIN index on a stored weighted tsvector (title A, tags B, body C); candidates by
  ``websearch_to_tsquery`` with ``or``, ordered by ``ts_rank`` with those weights.

Typos are read against the knowledge base's own vocabulary (one edit away), which the
ranking needs anyway: its term statistics are cached per workspace and reloaded when the
workspace's ``kb_revision`` moves. (pg_trgm would give PostgreSQL alone fuzzy matching;
doing it once in Python keeps both databases alike and needs no extension.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select, text as sql
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.knowledge import (
    INTERNAL_TAG, Article, CorpusStats, analyse, query_slots, rank, slot_terms,
)

from bot.storage.tables import KbArticleRow

CANDIDATES = 25  # how many the index hands to the ranking
CANDIDATE_TERMS = 6  # the rarest terms of a message the index is asked for


@dataclass(frozen=True)
class Match:
    """An article that answers a message, with its rank score and confidence."""

    article: Article
    score: float
    confidence: float


class KbStatsCache:
    """Term statistics per workspace, valid for one ``kb_revision``."""

    def __init__(self) -> None:
        self._by_workspace: dict[int, tuple[int, CorpusStats]] = {}

    async def get(self, session: AsyncSession, workspace_id: int) -> CorpusStats:
        """The workspace's statistics, reloaded when its knowledge base changed."""
        revision = await session.scalar(
            sql("SELECT kb_revision FROM workspaces WHERE id = :w"), {"w": workspace_id})
        cached = self._by_workspace.get(workspace_id)
        if cached is not None and cached[0] == revision:
            return cached[1]
        stats = CorpusStats()
        rows = await session.execute(
            sql("SELECT title_terms, tags_terms, body_terms FROM kb_articles "
                "WHERE workspace_id = :w"), {"w": workspace_id})
        for row in rows:
            stats.add(tuple(row))
        self._by_workspace[workspace_id] = (revision, stats)
        return stats

    def revision(self, workspace_id: int) -> int:
        """The ``kb_revision`` the statistics last read (by :meth:`get`) are for."""
        return self._by_workspace[workspace_id][0]


if TYPE_CHECKING:
    from bot.storage.kb_vectors import KbVectors

_COLUMNS = "a.id, a.title_terms, a.tags_terms, a.body_terms"
_PG_VECTOR = "a.kb_fts_vector"  # the stored weighted tsvector (bot/storage/tables.py)


def _filters(include_internal: bool, tag: str | None, params: dict,
             without: tuple[str, ...] = ()) -> str:
    clauses = ""
    excluded = without + (() if include_internal else (INTERNAL_TAG,))
    for i, name in enumerate(excluded):
        clauses += f" AND (' ' || a.tags || ' ') NOT LIKE :without{i}"
        params[f"without{i}"] = f"% {name} %"
    if tag:
        clauses += " AND (' ' || a.tags || ' ') LIKE :tag"
        params["tag"] = f"% {tag} %"
    return clauses


async def _sqlite_candidates(session, workspace_id, terms, include_internal, tag, without,
                             every: bool = False):
    # Everything is asked of the index itself (the workspace is its ``scope`` column, the
    # tags its ``tags`` column), so FTS5 ranks only this workspace's articles and the
    # join reads just the best few.
    words = (" AND " if every else " OR ").join(f'"{t}"' for t in terms)
    query = f"({words}) AND scope:w{int(workspace_id)}"
    if tag:
        query += f' AND tags:"{_tag_term(tag)}"'
    for name in without + (() if include_internal else (INTERNAL_TAG,)):
        query += f' NOT tags:"{_tag_term(name)}"'
    return await session.execute(sql(
        f"SELECT {_COLUMNS} FROM (SELECT rowid FROM kb_fts WHERE kb_fts MATCH :q "
        "ORDER BY bm25(kb_fts, 3.0, 2.0, 1.0, 0.0) LIMIT :n) f "
        "JOIN kb_articles a ON a.id = f.rowid"), {"q": query, "n": CANDIDATES})


def _tag_term(tag: str) -> str:
    """A tag as the index holds it (analysed like every other word)."""
    return (analyse(tag) or [tag])[0]


async def _postgres_candidates(session, workspace_id, terms, include_internal, tag, without,
                               every: bool = False):
    params = {"w": workspace_id, "q": (" " if every else " or ").join(terms), "n": CANDIDATES}
    where = _filters(include_internal, tag, params, without)
    # The planner prices testing a weighted tsvector row by row far below what it costs,
    # and for an OR of common words picks a scan of every article (or of the workspace's
    # btree) over the GIN index: 5 to 10 times slower at 10,000 articles. For this one
    # statement the index is the only way in ("+ 0" keeps the btree out of it).
    await session.execute(sql("SET LOCAL enable_seqscan = off"))
    try:
        return list(await session.execute(sql(
            f"SELECT {_COLUMNS} FROM kb_articles a, websearch_to_tsquery('english', :q) query "
            f"WHERE a.workspace_id + 0 = :w AND {_PG_VECTOR} @@ query{where} "
            f"ORDER BY ts_rank('{{0.1, 0.4, 0.6, 1.0}}', {_PG_VECTOR}, query) DESC LIMIT :n"),
            params))
    finally:
        await session.execute(sql("SET LOCAL enable_seqscan = on"))


def article_from_row(row: KbArticleRow) -> Article:
    """Domain value for an article row."""
    return Article(
        id=row.id, workspace_id=row.workspace_id, number=row.number, title=row.title,
        body=row.body, tags=tuple(row.tags.split()), updated_at=row.updated_at,
        author_id=row.author_id, suggested=row.suggested_count, opened=row.opened_count,
        helpful=row.helpful_count)


async def load_articles(session: AsyncSession, ids: list[int]) -> dict[int, Article]:
    """Articles by id, as domain values."""
    if not ids:
        return {}
    rows = await session.scalars(select(KbArticleRow).where(KbArticleRow.id.in_(ids)))
    return {row.id: article_from_row(row) for row in rows}


async def search_articles(session: AsyncSession, cache: KbStatsCache, workspace_id: int,
                          text: str, *, limit: int, include_internal: bool,
                          tag: str | None = None, without: tuple[str, ...] = (),
                          vectors: "KbVectors | None" = None) -> list[Match]:
    """The best ``limit`` articles for ``text``, best first (see the module's doc); by
    sentence embeddings instead when ``vectors`` is given (bot/storage/kb_vectors.py)."""
    stats = await cache.get(session, workspace_id)
    if not stats.articles:
        # Most desks have no knowledge base: every new ticket would pay for reading its
        # words (spelling correction included) to find nothing.
        return []
    if vectors is not None:
        near = await vectors.nearest(session, workspace_id, cache.revision(workspace_id), text,
                                     limit=limit, include_internal=include_internal, tag=tag,
                                     without=without)
        found = await load_articles(session, [n.article_id for n in near])
        return [Match(found[n.article_id], n.cosine, n.confidence)
                for n in near if n.article_id in found]
    slots = query_slots(text, stats.df)
    # A term no article uses cannot find anything; it still weighs in the confidence.
    known = [t for t in slot_terms(slots) if t in stats.df]
    if not known:
        return []
    # The index is asked for the rarest terms only: they decide which articles can
    # answer, and an OR of words most articles use would make it rank nearly all of them.
    # The ranking below still weighs every term.
    known = sorted(known, key=lambda t: (stats.df[t], t))[:CANDIDATE_TERMS]
    candidates = (_sqlite_candidates if session.bind.dialect.name == "sqlite"
                  else _postgres_candidates)
    # Articles holding both of the two rarest terms first: in a large knowledge base that
    # is a small set, and ranking it is cheap. Only when it is not enough does the index
    # rank every article holding any of the terms. The statistics in hand say whether it
    # can be enough (as if the two terms were independent: related terms meet more
    # often, which only sends a few more messages to the second query); when it cannot,
    # asking costs a round trip to the database for nothing.
    rows = []
    if len(known) >= 2 and (stats.df[known[0]] * stats.df[known[1]]
                            >= CANDIDATES // 2 * stats.articles):
        rows = list(await candidates(session, workspace_id, known[:2], include_internal, tag,
                                     without, every=True))
    if len(rows) < CANDIDATES // 2:
        rows = await candidates(session, workspace_id, known, include_internal, tag, without)
    ranked = rank(slots, [(row.id, (row.title_terms, row.tags_terms, row.body_terms))
                          for row in rows], stats)[:limit]
    articles = await load_articles(session, [r.key for r in ranked])
    return [Match(articles[r.key], r.score, r.confidence)
            for r in ranked if r.key in articles]
