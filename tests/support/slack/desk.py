"""The whole desk behind the real Slack adapter, driven through a fake Slack.

:class:`SlackDesk` starts :class:`FakeSlack`, builds Settings pointing the adapter at
it (HTTP mode on 127.0.0.1:<free port>, or Socket Mode), and runs the real Router,
handlers, outbox dispatcher and promise sweeper on a SQLite file. Tests act as Slack
users (``dm``, ``say``, ``mention``, ``react``, ``command``, ``click``, ``submit``,
``open_home``) and read what the bot did from the fake. ``settle`` lets the desk finish:
inbound translation, the sweeper, and outbox delivery, moving the OffsetClock over
pacing gaps (about a second per channel) instead of sleeping.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.platforms.slack.adapter import SlackAdapter
from bot.clock import OffsetClock
from bot.desk.policy import Desk
from bot.desk.features import register_all
from bot.desk.alerts import dead_letter_alerter
from bot.desk.cards import CardRenderer
from bot.desk.router import Router
from bot.ledger.sweeper import PromiseSweeper
from bot.outbox.dispatcher import OutboxDispatcher, RetryPolicy
from bot.settings import Secret, Settings
from bot.storage.inbox import DurableInbox
from bot.storage.uow import Database
from bot.web import WebServer
from tests.support.slack import events as payloads
from tests.support.slack.server import APP_TOKEN, BOT_TOKEN, TEAM, FakeSlack
from tests.support.slack.events import SignedSender
from tests.support.harness import reset_schema
from tests.support.outbox import next_due_at

SECRET = "fake-signing-secret"
INTAKE, TRIAGE, GENERAL = "CINTAKE", "CTRIAGE", "CGENERAL"


class SlackDesk:
    """A desk with the Slack adapter, against a fake Slack (``mode`` "http" or "socket")."""

    def __init__(self, url: str, *, mode: str = "http", inbox: bool = False,
                 **adapter_options) -> None:
        self.mode = mode
        self.use_inbox = inbox
        self.fake = FakeSlack()
        self.clock = OffsetClock()
        self.url = url
        self.adapter_options = adapter_options
        self.team = TEAM
        for user, name, extra in (("UREQ", "Alex", {}), ("UAGENT", "Sam", {}),
                                  ("UADMIN", "Pat", {"is_admin": True}),
                                  ("UOWNER", "Olu", {"is_owner": True}),
                                  ("UBOB", "Bob", {}), ("UBOSS", "Dana", {})):
            self.fake.add_user(user, name, **extra)

    async def __aenter__(self) -> "SlackDesk":
        await self.fake.start()
        self.settings = self.settings_for(self.fake)
        self.db = Database.from_url(self.url, self.clock)
        await reset_schema(self.db)
        self.desk = Desk.from_settings(self.settings, self.clock)
        self.router = Router(self.db, self.desk)
        register_all(self.router)
        # The process's one web server, as the composition root makes it; HTTP mode
        # adds /slack/events to it.
        self.web = WebServer(self.settings.http_host, self.settings.http_port)
        self.adapter = SlackAdapter(self.settings, clock=self.clock, web=self.web,
                                    **self.adapter_options)
        # A first retry within 1 s (full jitter on a 1 s base), so `settle`, which moves
        # the clock over waits shorter than its pace window, always sees it go out.
        self.dispatcher = OutboxDispatcher(self.db, {"slack": self.adapter},
                                           on_dead=dead_letter_alerter(self.desk),
                                           render_cards=CardRenderer(self.desk),
                                           retry=RetryPolicy(base=timedelta(seconds=1)))
        self.db.deliver_outbox_to(self.dispatcher)
        self.sweeper = PromiseSweeper(self.db, self.desk)
        # As the composition root wires it (bot/app.py), when a test asks for it.
        self.inbox = DurableInbox(self.db) if self.use_inbox else None
        if self.inbox is not None and self.adapter.use_inbox(self.inbox):
            self.inbox.replay_with("slack", self.adapter.replay)
        await self.web.start()
        await self.adapter.start(self.router)
        self.sender = None
        if self.mode == "http":
            self.sender = SignedSender(self.adapter.http.url, SECRET)
        else:
            await self.fake.socket.wait_connected()
        return self

    def settings_for(self, fake: FakeSlack) -> Settings:
        """Settings that point the adapter at ``fake``."""
        # UBOSS administers the desk by configuration (HELPDESK_ADMINS); UADMIN and
        # UOWNER are admins because Slack says they administer the workspace.
        return Settings(database_url=self.url, admins=("UBOSS",),
                        slack_bot_token=Secret(BOT_TOKEN), slack_signing_secret=Secret(SECRET),
                        slack_api_url=fake.api_url,
                        slack_app_token=Secret(APP_TOKEN if self.mode == "socket" else ""),
                        http_host="127.0.0.1", http_port=0)

    async def __aexit__(self, *exc) -> None:
        if self.sender is not None:
            await self.sender.close()
        await self.web.stop()
        await self.adapter.stop()
        await self.fake.stop()
        await self.db.dispose()

    # -- letting the desk work ------------------------------------------------------

    async def settle(self, pace_window: float = 1.5) -> None:
        """Finish inbound work, sweep promises, deliver what is due; rows held back by
        pacing (due within ``pace_window`` s) are delivered by moving the clock."""
        for _ in range(50):
            await self.adapter.idle()
            await self.sweeper.sweep()
            await self.dispatcher.drain()
            due = await next_due_at(self.db, ["slack"])
            if due is None or due - self.clock.now() > timedelta(seconds=pace_window):
                return
            if due > self.clock.now():
                self.clock.advance(due - self.clock.now())
        raise AssertionError("the outbox never settled")

    def forget_people(self) -> None:
        """Let every profile the adapter has cached expire, as if its TTL had passed:
        the next event from each person looks them up again."""
        directory = self.adapter.people
        earlier = directory.clock
        directory.clock = lambda: earlier() + directory.ttl + 1

    # -- acting as Slack -----------------------------------------------------------------

    async def send_event(self, event: dict, *, event_id: str | None = None,
                         retry_num: int | None = None, team: str | None = None):
        """Deliver one Events API event (HTTP status or Socket Mode ack), then settle."""
        body = payloads.event_callback(event, team=team or self.team, event_id=event_id)
        result = await self._send("events_api", body, retry_num=retry_num)
        await self.settle()
        return result

    async def _send(self, kind: str, body: dict, *, retry_num: int | None = None):
        if self.mode == "socket":
            return await self.fake.socket.send(kind, body, retry_attempt=retry_num)
        if kind == "events_api":
            return await self.sender.event(body, retry_num=retry_num)
        if kind == "slash_commands":
            return await self.sender.command(body)
        return await self.sender.interaction(body)

    async def dm(self, user: str, text: str, *, thread_ts: str | None = None) -> dict:
        """``user`` writes to the bot directly; returns the stored message."""
        message = self.fake.add_message(self.fake.dm_of(user), user, text, thread_ts=thread_ts)
        await self.send_event(payloads.message_event(message, channel_type="im"))
        return message

    async def say(self, user: str, channel: str, text: str, *, thread_ts: str | None = None,
                  **extra) -> dict:
        """``user`` writes in ``channel`` (a thread when ``thread_ts``)."""
        message = self.fake.add_message(channel, user, text, thread_ts=thread_ts)
        await self.send_event(payloads.message_event(message, **extra))
        return message

    async def mention(self, user: str, channel: str, text: str) -> dict:
        """``user`` mentions the bot in ``channel``: Slack sends message and app_mention."""
        message = self.fake.add_message(channel, user, f"<@{self.fake.bot_user}> {text}")
        await self.send_event(payloads.message_event(message))
        mention = {k: v for k, v in payloads.message_event(message).items()
                   if k not in ("channel_type",)}
        await self.send_event(dict(mention, type="app_mention"))
        return message

    async def react(self, user: str, message: dict, emoji: str = "ticket"):
        """``user`` adds ``emoji`` to ``message``."""
        return await self.send_event({
            "type": "reaction_added", "user": user, "reaction": emoji,
            "item_user": message.get("user"), "event_ts": self.fake.next_ts(),
            "item": {"type": "message", "channel": message["channel"], "ts": message["ts"]}})

    async def command(self, user: str, line: str, *, channel: str | None = None,
                      channel_name: str = "general", team: str | None = None):
        """``user`` runs ``/ticket ...`` in ``channel`` (default: their DM with the bot)."""
        name, _, text = line.partition(" ")
        body = payloads.slash_command(
            name, text, team=team or self.team, user=user,
            channel=channel or self.fake.dm_of(user), response_url=self.fake.response_url(),
            channel_name="directmessage" if channel is None else channel_name)
        result = await self._send("slash_commands", body)
        await self.settle()
        return result

    async def click(self, user: str, message: dict, action: str, value_suffix: str = ""):
        """``user`` presses the ``action`` button on a message the bot posted."""
        button = payloads.find_button(message, action, value_suffix)
        body = payloads.block_actions(message, button, team=self.team, user=user,
                                      response_url=self.fake.response_url())
        result = await self._send("interactive", body)
        await self.settle()
        return result

    async def submit(self, user: str, answers: dict[str, str], modal: dict | None = None):
        """``user`` submits the last modal opened (or ``modal``) with ``answers``."""
        view = (modal or self.fake.modals[-1])["view"]
        body = payloads.view_submission(view, answers, team=self.team, user=user)
        result = await self._send("interactive", body)
        await self.settle()
        return result

    async def open_home(self, user: str):
        """``user`` opens the bot's App Home."""
        return await self.send_event(payloads.home_opened(team=self.team, user=user,
                                                          channel=self.fake.dm_of(user)))

    async def make_agent(self, user: str = "UAGENT", name: str = "sam") -> None:
        """A workspace admin adds ``user`` to the desk's agents."""
        await self.command("UADMIN", f"/helpdesk agents add <@{user}|{name}>")

    async def set_channel(self, purpose: str, channel: str) -> None:
        """A workspace admin makes ``channel`` the intake or triage channel."""
        await self.command("UADMIN", f"/helpdesk {purpose}", channel=channel)


@pytest.fixture
async def slack(sqlite_url):
    """A desk behind the Slack adapter in HTTP mode, with an admin-made agent (Sam) and
    intake and triage channels configured."""
    async with SlackDesk(sqlite_url) as desk:
        await desk.make_agent()
        await desk.set_channel("intake", INTAKE)
        await desk.set_channel("triage", TRIAGE)
        desk.fake.ephemerals.clear()
        yield desk
