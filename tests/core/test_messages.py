"""Outbound messages survive the outbox: what is written as JSON reads back the same."""

from __future__ import annotations

import json
from dataclasses import asdict

from bot.core import Button, FormField, OutboundMessage


def test_a_message_round_trips_through_the_outbox_json():
    message = OutboundMessage(
        "C1", "Has #4 been solved?", thread_id="t1", ticket_number=4, audience="requester",
        buttons=(Button("Yes", "resolution.yes", "4", "primary"),
                 Button("Reply", "card.reply", "4",
                        form=(FormField("text", "Your reply", multiline=True),))),
        fields=(("Status", "open"), ("Owner", "Sam")))
    stored = json.dumps(message.to_dict())
    assert OutboundMessage.from_dict(json.loads(stored)) == message
    # The same JSON as the dataclass's own conversion (tuples as lists).
    assert json.loads(stored) == json.loads(json.dumps(asdict(message)))
    plain = OutboundMessage("D1", "hello")
    assert OutboundMessage.from_dict(json.loads(json.dumps(plain.to_dict()))) == plain
