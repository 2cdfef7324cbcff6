"""Transcripts on Slack: the files upload API (files.getUploadURLExternal, the upload,
files.completeUploadExternal), only ever into the asker's DM with the bot."""

from __future__ import annotations

from sqlalchemy import select

from bot.storage.tables import OutboxRow
from tests.support.slack.desk import GENERAL, slack  # noqa: F401


async def test_a_transcript_is_uploaded_into_the_askers_dm(slack):
    await slack.dm("UREQ", "My VPN keeps dropping <b>now</b>")
    await slack.command("UREQ", "/ticket transcript 1", channel=GENERAL)
    await slack.settle()
    starts = slack.fake.calls_to("files.getUploadURLExternal")
    assert sorted(c.args["filename"] for c in starts) == ["ticket-1.html", "ticket-1.md"]
    [complete] = slack.fake.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == "DUREQ"
    assert "transcript of #1" in complete.args["initial_comment"]
    files = {f["filename"]: f for f in slack.fake.files.values()}
    assert set(files) == {"ticket-1.html", "ticket-1.md"}
    for name, found in files.items():
        assert found["shared_in"] == "DUREQ"
        assert len(found["data"]) == found["length"]
    page = files["ticket-1.html"]["data"].decode()
    assert "My VPN keeps dropping &lt;b&gt;now&lt;/b&gt;" in page
    assert files["ticket-1.html"]["content_type"] == "text/html"
    # Nothing went into the channel but the private word that it was sent.
    assert not slack.fake.bot_messages(GENERAL)
    said = [e["text"] for e in slack.fake.ephemerals if e["user"] == "UREQ"]
    assert said[-1] == "I've sent the transcript of #1 to our direct messages."


async def test_without_the_files_scope_the_transcript_is_not_lost_silently(slack):
    slack.fake.scopes.remove("files:write")
    await slack.dm("UREQ", "Printer jammed")
    await slack.command("UREQ", "/ticket transcript 1")
    await slack.settle()
    [start] = slack.fake.calls_to("files.getUploadURLExternal")
    assert not slack.fake.calls_to("files.completeUploadExternal")
    assert not [f for f in slack.fake.files.values() if f["shared_in"]]
    # A missing scope cannot mend itself: the row is given up at once (and the admins'
    # dead-letter alert says so), not retried for ever.
    async with slack.db.reading() as uow:
        rows = (await uow.session.execute(select(OutboxRow))).scalars().all()
    [dead] = [r for r in rows if '"attachments": [{' in r.payload_json or
              "ticket-1.html" in r.payload_json]
    assert (dead.status, dead.attempts) == ("dead", 1)
