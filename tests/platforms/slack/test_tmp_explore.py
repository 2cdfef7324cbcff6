from tests.support.slack.desk import INTAKE, TRIAGE, slack  # noqa: F401

async def test_explore(slack):
    message = await slack.dm("UREQ", "Cannot print")
    [posted] = slack.fake.bot_messages(TRIAGE, top_level=True)
    long = " ".join(f"w{i:04d}" for i in range(900))
    await slack.say("UAGENT", TRIAGE, long, thread_ts=posted["ts"])
    for m in slack.fake.bot_messages("DUREQ", message["ts"]):
        print(len(m["text"]), m["text"][:60], m["text"][-40:], [ (b["type"], len(str(b))) for b in m.get("blocks") or []])
