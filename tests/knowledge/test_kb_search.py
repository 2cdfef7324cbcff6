"""Knowledge-base search on SQLite (FTS5) and PostgreSQL (weighted tsvector): one
interface, the same answers; the import is idempotent; internal articles stay internal."""

from __future__ import annotations


import pytest

from bot.clock import OffsetClock
from bot.desk.features.knowledge import suggest
from bot.kb_files import KbFilesError, export_folder, import_folder
from bot.storage.uow import Database
from bot.config_files import shipped_sample_kb
from bot.templates import Templates
from tests.support.harness import reset_schema

SAMPLE = shipped_sample_kb()


@pytest.fixture
async def db(db_url):
    database = Database.from_url(db_url, OffsetClock())
    await reset_schema(database)
    yield database
    await database.dispose()


async def _import(db, folder=SAMPLE, **kw):
    return await import_folder(db, folder, Templates.load(), **kw)


async def _workspace_id(db) -> int:
    async with db.reading() as uow:
        return (await uow.workspaces.ensure("console", "console", "Console", uow.clock.now())).id


async def _search(db, text, **kw):
    async with db.reading() as uow:
        return await uow.kb.search(await _workspace_id_in(uow), text, **kw)


async def _workspace_id_in(uow) -> int:
    from sqlalchemy import select
    from bot.storage.tables import WorkspaceRow
    return (await uow.session.execute(select(WorkspaceRow.id))).scalar_one()


async def test_the_sample_imports_and_the_right_article_comes_first(db):
    report = await _import(db)
    assert report.workspace == "console:console" and len(report.created) == 11
    assert [m.article.ref for m in await _search(db, "my vpn keeps dropping")][0] == "KB-1"
    assert [m.article.ref for m in await _search(db, "forgot my password",
                                                 without=("tip",))][0] == "KB-2"
    assert [m.article.ref for m in await _search(db, "print jobs stuck, printer offline")][0] \
        == "KB-3"


async def test_title_weighs_more_than_body_and_words_are_stemmed(db):
    await _import(db)
    # "disconnecting" meets "disconnects"; the VPN article beats the Wi-Fi one that
    # only mentions the network in passing.
    matches = await _search(db, "vpn disconnected twice")
    assert matches[0].article.ref == "KB-1"


async def test_a_typo_is_read_as_the_word_the_articles_use(db):
    await _import(db)
    assert (await _search(db, "the pritner is offline"))[0].article.ref == "KB-3"


async def test_nothing_good_enough_suggests_nothing(db):
    await _import(db)
    async with db.reading() as uow:
        workspace_id = await _workspace_id_in(uow)
        assert await suggest(uow, workspace_id, "the coffee machine on floor 3 is leaking") == []
        assert [m.article.ref for m in await suggest(uow, workspace_id,
                                                     "my vpn keeps dropping")][:1] == ["KB-1"]


async def test_internal_articles_only_for_staff(db):
    await _import(db)
    text = "vpn gateway drop log restart"
    staff = [m.article.ref for m in await _search(db, text, include_internal=True)]
    public = [m.article.ref for m in await _search(db, text)]
    assert "KB-6" in staff
    assert "KB-6" not in public


async def test_import_is_idempotent_and_updates_in_place(db, tmp_path):
    await _import(db)
    again = await _import(db)
    assert again.created == [] and len(again.updated) == 11
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "a.md").write_text("---\nid: 2\ntitle: Reset a forgotten password\n"
                                 "tags: [password]\n---\nUse the self-service portal at once.\n")
    (folder / "b.md").write_text("---\ntitle: Request a new monitor\ntags: [hardware]\n---\n"
                                 "Monitors come from the hardware catalogue.\n")
    (folder / "broken.md").write_text("---\nid: KB-x\ntitle: Broken\n---\nbody\n")
    first = await _import(db, folder)
    assert first.updated == ["KB-2"] and first.created == ["KB-106"]
    assert [name for name, _ in first.skipped] == ["broken.md"]
    assert "KB-12" in first.skipped[0][1] and "KB-x" in first.skipped[0][1]
    second = await _import(db, folder)  # no id, same title: updated, not duplicated
    assert second.created == [] and sorted(second.updated) == ["KB-106", "KB-2"]
    async with db.reading() as uow:
        articles = await uow.kb.all(await _workspace_id_in(uow))
    assert len(articles) == 12
    assert next(a for a in articles if a.number == 2).body == "Use the self-service portal at once."
    # The running desk's cache sees the change at once: the old body no longer matches.
    assert "KB-2" not in [m.article.ref for m in await _search(db, "authenticator code")]


async def test_export_writes_what_import_reads(db, tmp_path):
    await _import(db)
    written = await export_folder(db, tmp_path / "out")
    assert len(written) == 11
    await reset_schema(db)
    db.kb_stats = type(db.kb_stats)()
    report = await _import(db, tmp_path / "out")
    assert sorted(report.created) == sorted(
        f"KB-{n}" for n in (1, 2, 3, 4, 5, 6, 101, 102, 103, 104, 105))
    assert [m.article.ref for m in await _search(db, "my vpn keeps dropping")][0] == "KB-1"


async def test_several_workspaces_need_the_workspace_named(db):
    async with db.unit_of_work() as uow:
        await uow.workspaces.ensure("slack", "T1", "One", uow.clock.now())
        await uow.workspaces.ensure("slack", "T2", "Two", uow.clock.now())
    with pytest.raises(KbFilesError, match="--workspace"):
        await _import(db)
    report = await _import(db, workspace="T2")
    assert report.workspace == "slack:T2"
