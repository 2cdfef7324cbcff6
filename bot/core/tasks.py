"""Tasks started in the background, kept referenced until they end.

The event loop holds only a weak reference to a task, so a task nobody keeps can be
garbage-collected before it finishes, and an exception it ends with is reported, if at
all, whenever the collector gets to it. Every task the bot starts without awaiting it
on the spot belongs to a :class:`BackgroundTasks`, which keeps it until it is done and
logs how it failed, at the time it fails.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Coroutine


class BackgroundTasks:
    """A set of running tasks; each leaves the set when done, its failure logged to
    ``logger`` (the owner's, so the log names the module that started it)."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self._tasks: set[asyncio.Task] = set()

    def start(self, work: Coroutine[Any, Any, Any], *, name: str | None = None) -> asyncio.Task:
        """Run ``work`` as a task held here until it ends."""
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    async def cancel(self, timeout: float = 5.0) -> None:
        """Cancel every task still running and wait (up to ``timeout`` seconds) for them
        to unwind: a task still cancelling when its owner goes on to close what it uses
        (a connection, the database engine) can wait for ever or fail noisily."""
        running = list(self._tasks)
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running, timeout=timeout)

    async def wait(self, timeout: float) -> bool:
        """Let the running tasks finish (up to ``timeout`` seconds); True when none is
        left running."""
        running = list(self._tasks)
        if running:
            await asyncio.wait(running, timeout=timeout)
        return not any(not task.done() for task in running)

    def __len__(self) -> int:
        return len(self._tasks)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            self.logger.error("background task %s failed", task.get_name(), exc_info=error)


# Work given up by :func:`bounded`, referenced until it unwinds (if it ever does).
_abandoned: set[asyncio.Task] = set()


async def bounded(work: Coroutine[Any, Any, Any], seconds: float) -> bool:
    """Run ``work`` for at most ``seconds``; True when it finished (its exception, if
    any, is raised here), False when it was cancelled and given up *without waiting for
    it to unwind*. ``asyncio.wait_for`` waits for a cancelled task's clean-up, and over a
    silent network that clean-up (a driver's cancel request, a rollback, a goodbye to
    the server) never comes back either."""
    task = asyncio.get_running_loop().create_task(work)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if task in done:
        task.result()
        return True
    task.cancel()
    _abandoned.add(task)
    task.add_done_callback(_abandoned.discard)
    return False
