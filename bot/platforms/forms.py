"""Asking the desk, within a platform's few seconds, whether a command opens a form.

Slack's ``views.open`` and Discord's modal reply both have to happen within 3 s of the
command, so the desk's answer (``command_form``: ``/kb add`` by an agent opens one) is
awaited for a budget below that; late or failed, the command goes to the desk as words
instead, which answers it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from bot.core import Actor, Form

logger = logging.getLogger(__name__)

CommandForm = Callable[[str, str, Actor, str, str], Awaitable[Form | None]]


async def form_for(lookup: CommandForm | None, platform: str, workspace: str, actor: Actor,
                   name: str, text: str, budget: float) -> Form | None:
    """The form ``/name text`` opens for ``actor``, or None: none, no ``lookup``, or no
    answer within ``budget`` seconds (logged; the command is then answered as words)."""
    if lookup is None:
        return None
    try:
        return await asyncio.wait_for(lookup(platform, workspace, actor, name, text), budget)
    except asyncio.TimeoutError:
        logger.warning("/%s's form took over %.1fs; answered as a command", name, budget)
    except Exception:  # the command itself still gets its answer
        logger.exception("could not look up /%s's form; answered as a command", name)
    return None
