"""Stopping background tasks reliably.

On Python 3.11 a cancellation can be lost: ``asyncio.wait_for`` returns the inner result and
drops a ``cancel()`` that arrives in the same loop iteration the inner work completes
(fixed in 3.12). redis-py sends every command through ``asyncio.wait_for`` when a socket
timeout is set (its default since 8.0), so a task cancelled while it talks to Redis may just
carry on. Loops therefore also check :func:`cancel_requested`, and owners stop their tasks
with :func:`stop_tasks`, which cancels again until they have ended.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

RECANCEL_AFTER = 0.2


def cancel_requested() -> bool:
    """True when the current task has been asked to stop, even if the CancelledError was
    swallowed on the way."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def raise_if_cancel_requested() -> None:
    if cancel_requested():
        raise asyncio.CancelledError


async def stop_tasks(tasks: Iterable[asyncio.Task[object] | None]) -> None:
    """Cancel ``tasks`` and wait until every one has ended, cancelling again any that is
    still running after :data:`RECANCEL_AFTER` seconds."""
    all_tasks = [task for task in tasks if task is not None]
    pending = {task for task in all_tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _done, pending = await asyncio.wait(pending, timeout=RECANCEL_AFTER)
    await asyncio.gather(*all_tasks, return_exceptions=True)
