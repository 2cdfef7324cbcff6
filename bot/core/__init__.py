"""The neutral language of the desk: inbound events, outbound messages, and the ports
through which platforms and the desk meet. Nothing here knows a platform or a table."""

from bot.core.events import (
    Actor, ButtonPressed, CommandInvoked, Event, HomeOpened, IncomingMessage, ReactionAdded,
    event_from_json, event_to_json,
)
from bot.core.messages import (
    Attachment, Button, Delivery, DeliveryError, Form, FormField, OutboundMessage,
)
from bot.core.ports import ChatAdapter, EventSink, Inbox, Pacing, WebHandler, WebRoutes
from bot.core.text import clean_event, clean_name, clean_text, has_words

__all__ = [
    "Actor", "Attachment", "Button", "ButtonPressed", "ChatAdapter", "CommandInvoked",
    "Delivery", "DeliveryError", "Event", "EventSink", "Form", "FormField", "HomeOpened", "Inbox",
    "IncomingMessage",
    "OutboundMessage", "Pacing", "ReactionAdded", "clean_event", "clean_name", "clean_text",
    "event_from_json", "event_to_json",
    "has_words", "WebHandler", "WebRoutes",
]
