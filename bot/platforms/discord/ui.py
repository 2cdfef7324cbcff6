"""Discord components for the desk: buttons that survive restarts and forms as modals
(the application commands are in commands.py).

A button's ``custom_id`` carries everything needed to route a press, so one dynamic
item registered at start-up handles every button the bot ever posted, before or after
a restart: ``hd:{action}:{value}``, or ``hdf:{action}:{fields}:{value}`` for a button
that asks for a form first (``fields`` names the inputs, e.g. ``when,text~o``; ``~m``
marks a multi-line input and ``~o`` an optional one). Field labels are remembered from
the buttons this process rendered; after a restart, until a button with that form is
rendered again, a label is the field's name.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict
from typing import Any

import discord

from bot.core import Button, FormField

logger = logging.getLogger(__name__)

CUSTOM_ID_LIMIT = 100
LABEL_LIMIT = 80
INPUT_LABEL_LIMIT = 45
_STYLES = {"primary": discord.ButtonStyle.primary, "danger": discord.ButtonStyle.danger}


class FormBook:
    """What this process knows about buttons: form labels by action, and the few
    buttons whose ids were too long to carry their own routing."""

    def __init__(self, size: int = 2000) -> None:
        self._labels: dict[tuple[str, str], str] = {}
        self._long: OrderedDict[str, tuple[str, str, tuple[FormField, ...]]] = OrderedDict()
        self._size = size

    def custom_id(self, button: Button) -> str:
        """The custom id for ``button``; remembers its form's labels."""
        for item in button.form:
            self._labels[(button.action, item.name)] = item.label
        if button.form:
            spec = ",".join(item.name + _flags(item) for item in button.form)
            custom_id = f"hdf:{button.action}:{spec}:{button.value}"
        else:
            custom_id = f"hd:{button.action}:{button.value}"
        if len(custom_id) <= CUSTOM_ID_LIMIT:
            return custom_id
        # Too long to route by itself: keep it in memory (such a button dies with the process).
        key = "hdr:" + hashlib.sha256(custom_id.encode()).hexdigest()[:24]
        self._long[key] = (button.action, button.value, button.form)
        while len(self._long) > self._size:
            self._long.popitem(last=False)
        logger.warning("button %s has a custom id over %d characters; it will not survive a "
                       "restart", button.action, CUSTOM_ID_LIMIT)
        return key

    def parse(self, custom_id: str) -> tuple[str, str, tuple[FormField, ...]] | None:
        """``(action, value, form fields)`` for a pressed button, or None if unknown."""
        kind, _, rest = custom_id.partition(":")
        if kind == "hd":
            action, _, value = rest.partition(":")
            return action, value, ()
        if kind == "hdf":
            action, _, rest = rest.partition(":")
            spec, _, value = rest.partition(":")
            return action, value, tuple(self._field(action, part) for part in spec.split(",") if part)
        if kind == "hdr":
            return self._long.get(custom_id)
        return None

    def _field(self, action: str, part: str) -> FormField:
        name, _, flags = part.partition("~")
        label = self._labels.get((action, name)) or name.replace("_", " ").capitalize()
        return FormField(name, label, multiline="m" in flags, optional="o" in flags)


def _flags(item: FormField) -> str:
    flags = ("m" if item.multiline else "") + ("o" if item.optional else "")
    return f"~{flags}" if flags else ""


class DeskButton(discord.ui.DynamicItem[discord.ui.Button], template=r"hd[fr]?:.+"):
    """Every button the desk posts. Registered once at start-up (``timeout=None`` views),
    so a press on a card posted before a restart still reaches the desk."""

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str], /) -> "DeskButton":
        """Rebuild the button from the pressed component."""
        return cls(item)

    async def callback(self, interaction: discord.Interaction) -> None:
        """Hand the press to the adapter that owns this client."""
        await interaction.client.desk.on_button(interaction, self.item)


def render_view(buttons: tuple[Button, ...], book: FormBook) -> discord.ui.View | None:
    """The buttons under a message as a persistent view (five to a row)."""
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for button in buttons[:25]:
        item = discord.ui.Button(label=button.label[:LABEL_LIMIT] or "…",
                                 style=_STYLES.get(button.style, discord.ButtonStyle.secondary),
                                 custom_id=book.custom_id(button))
        view.add_item(DeskButton(item))
    return view


def form_modal(title: str, action: str, value: str,
               fields: tuple[FormField, ...]) -> discord.ui.Modal:
    """The modal a form button opens, titled ``title``; its submit carries
    ``hdm:{action}:{value}``."""
    modal = discord.ui.Modal(title=title[:INPUT_LABEL_LIMIT],
                             custom_id=f"hdm:{action}:{value}"[:CUSTOM_ID_LIMIT], timeout=900)
    for item in fields[:5]:
        usual = 4000 if item.multiline else 200
        limit = min(item.max_chars or usual, 4000)
        modal.add_item(discord.ui.TextInput(
            label=item.label[:INPUT_LABEL_LIMIT], custom_id=item.name, required=not item.optional,
            style=discord.TextStyle.paragraph if item.multiline else discord.TextStyle.short,
            max_length=limit, default=item.initial[:limit] or None))
    return modal


def parse_modal_id(custom_id: str) -> tuple[str, str] | None:
    """``(action, value)`` from a modal's custom id, or None if it is not the desk's."""
    kind, _, rest = custom_id.partition(":")
    if kind != "hdm":
        return None
    action, _, value = rest.partition(":")
    return action, value


def modal_values(components: list[dict[str, Any]]) -> dict[str, str]:
    """The submitted inputs by name, from action rows or labels."""
    values: dict[str, str] = {}
    for component in components:
        inner = ([component["component"]] if component.get("type") == 18
                 else component.get("components", [component]))
        for item in inner:
            if "custom_id" in item and "value" in item:
                values[item["custom_id"]] = item["value"] or ""
    return values
