"""The neutral language of the desk: inbound events, outbound messages, and the ports
through which platforms and the desk meet. Nothing here knows a platform or a table."""

from bot.core.events import (
    Actor, ButtonPressed, CommandInvoked, Event, HomeOpened, IncomingMessage, ReactionAdded,
)
from bot.core.messages import (
    Attachment, Button, Delivery, DeliveryError, FormField, OutboundMessage,
)
from bot.core.ports import ChatAdapter, EventSink, Pacing, WebHandler, WebRoutes
from bot.core.text import clean_event, clean_name, clean_text, has_words

__all__ = [
    "Actor", "Attachment", "Button", "ButtonPressed", "ChatAdapter", "CommandInvoked", "Delivery",
    "DeliveryError", "Event", "EventSink", "FormField", "HomeOpened", "IncomingMessage",
    "OutboundMessage", "Pacing", "ReactionAdded", "clean_event", "clean_name", "clean_text",
    "has_words", "WebHandler", "WebRoutes",
]
