"""Neutral events kept as JSON (the inbox) come back equal, whatever their kind."""

from __future__ import annotations

import pytest

from bot.core import (
    Actor, ButtonPressed, CommandInvoked, HomeOpened, IncomingMessage, ReactionAdded,
    event_from_json, event_to_json,
)

ANN = Actor("U1", "Ann", email="ann@example.com", tz="Europe/London", platform_role="agent")


@pytest.mark.parametrize("event", [
    IncomingMessage(platform="discord", workspace_id="G1", event_id="m1", actor=ANN,
                    channel_id="C1", text="Hello “there” \u2028 ✓", message_id="m1",
                    thread_id="t1", is_direct=True),
    CommandInvoked(platform="discord", workspace_id="G1", event_id="i1", actor=ANN,
                   channel_id="C1", name="ticket", text="claim 4", reply_token="1:2:tok"),
    ButtonPressed(platform="discord", workspace_id="G1", event_id="i2", actor=ANN,
                  channel_id="C1", action="intake.new", value="3:m9", message_id="m9",
                  form={"reason": "printer"}, reply_token="1:3:tok"),
    ReactionAdded(platform="slack", workspace_id="T1", event_id="r1", actor=ANN,
                  channel_id="C1", emoji="ticket", message_id="m2",
                  message_author=Actor("U2", "Bob"), message_text="VPN down"),
    HomeOpened(platform="slack", workspace_id="T1", event_id="h1", actor=ANN, channel_id=""),
])
def test_an_event_kept_as_json_comes_back_equal(event):
    assert event_from_json(event_to_json(event)) == event
