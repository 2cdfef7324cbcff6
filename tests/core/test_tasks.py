"""Background tasks are kept until they end, and a failure is logged when it happens.

The scan at the end holds the whole bot to it: a task started and dropped on the spot
(a bare ``create_task(...)`` statement, or one returned by a lambda that nobody keeps) is
only weakly referenced by the event loop and may be collected mid-flight.
"""

from __future__ import annotations

import ast
import asyncio
import logging
from pathlib import Path

from bot.core.tasks import BackgroundTasks

BOT = Path(__file__).resolve().parents[2] / "bot"
logger = logging.getLogger("tests.core.tasks")


async def test_a_task_is_held_until_it_ends_then_let_go():
    tasks = BackgroundTasks(logger)
    release = asyncio.Event()
    task = tasks.start(release.wait(), name="waiting")
    del task
    await asyncio.sleep(0)
    assert len(tasks) == 1
    release.set()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert len(tasks) == 0


async def test_a_failure_is_logged_when_it_happens_with_the_tasks_name(caplog):
    tasks = BackgroundTasks(logger)

    async def fail() -> None:
        raise RuntimeError("the platform went away")

    with caplog.at_level(logging.ERROR, logger=logger.name):
        task = tasks.start(fail(), name="sync-commands")
        await asyncio.wait({task})
    [record] = caplog.records
    assert "sync-commands" in record.getMessage()
    assert record.exc_info[1].args == ("the platform went away",)


async def test_cancelling_stops_every_task_and_logs_nothing(caplog):
    tasks = BackgroundTasks(logger)
    started = [tasks.start(asyncio.sleep(60)) for _ in range(3)]
    with caplog.at_level(logging.ERROR, logger=logger.name):
        await tasks.cancel()
    assert all(task.cancelled() for task in started) and len(tasks) == 0
    assert caplog.records == []


async def test_cancelling_waits_for_each_task_to_unwind():
    # A task's clean-up (a rollback, closing a connection) runs after its cancel: the
    # owner must not go on to close what that clean-up still uses.
    tasks = BackgroundTasks(logger)
    unwound = []

    async def holds_a_connection():
        try:
            await asyncio.sleep(60)
        finally:
            await asyncio.sleep(0.05)  # a rollback's round trip
            unwound.append(True)

    tasks.start(holds_a_connection())
    await asyncio.sleep(0)
    await tasks.cancel()
    assert unwound == [True] and len(tasks) == 0


async def test_waiting_lets_tasks_finish_and_says_whether_any_is_left():
    tasks = BackgroundTasks(logger)
    quick = tasks.start(asyncio.sleep(0.01))
    assert await tasks.wait(1.0) is True and quick.done()
    slow = tasks.start(asyncio.sleep(60))
    assert await tasks.wait(0.01) is False and not slow.done()
    await tasks.cancel()
    assert slow.cancelled()


def _dropped_tasks(tree: ast.AST) -> list[int]:
    """Lines where a task is created and its handle thrown away."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
            node.func, "id", "")
        if name in ("create_task", "ensure_future") and isinstance(
                parents.get(node), (ast.Expr, ast.Lambda)):
            lines.append(node.lineno)
    return sorted(lines)


def test_no_task_in_the_bot_is_started_and_dropped():
    dropped = {str(path.relative_to(BOT.parent)): lines for path in sorted(BOT.rglob("*.py"))
               if (lines := _dropped_tasks(ast.parse(path.read_text())))}
    assert dropped == {}, "keep these tasks (bot/core/tasks.BackgroundTasks)"


def test_the_scan_sees_a_dropped_task():
    assert _dropped_tasks(ast.parse(
        "loop.call_later(1, lambda: loop.create_task(tick()))\n"
        "asyncio.ensure_future(work())\n"
        "self._task = asyncio.create_task(work())\n")) == [1, 2]
