"""Calls to a store asked for while one is under way, made together as the next one.

A call that comes while none is under way starts a group of its own at once (on the next
pass of the event loop: what is asked for in the same pass joins it), so a quiet process
adds no wait; under load every call waits for at most the one under way, and a group costs
one round trip however many calls it holds (the Redis bus's batches, scenario sessions'
reads and saves).

When a group fails, each of its calls is made again alone and gets its own outcome (one bad
call must not fail the others), unless the store is unreachable: then every caller of the
group is told at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from agenthub.errors import is_unavailable

Item = TypeVar("Item")
Result = TypeVar("Result")

MAX_GROUP = 200


class GroupedCalls(Generic[Item, Result]):
    """``run(items)`` makes a group of calls and returns one result per item, in order: an
    exception in place of a result fails that item's call alone."""

    def __init__(
        self, run: Callable[[Sequence[Item]], Awaitable[Sequence[Result | Exception]]], *, name: str,
        most: int = MAX_GROUP,
    ) -> None:
        self._run = run
        self._name = name
        self._most = most
        self._queue: list[tuple[Item, asyncio.Future[Result]]] = []
        self._task: asyncio.Task[None] | None = None

    async def call(self, item: Item) -> Result:
        """``item``'s call, made with whatever else is asked for meanwhile: its result, or
        what making it raised."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name=self._name)
        return await future

    async def close(self, *, grace: float = 0.0) -> None:
        """Let what is asked for be made for up to ``grace`` seconds, then stop: a group
        still under way is cancelled, and its callers and those still waiting are told."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            if grace > 0:
                await asyncio.wait([task], timeout=grace)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        left, self._queue = self._queue, []
        _settle(left, asyncio.CancelledError())

    async def _drain(self) -> None:
        while self._queue:
            group, self._queue = self._queue[: self._most], self._queue[self._most:]
            try:
                await self._write_group(group)
            except BaseException as error:  # cancelled: its callers are told too
                _settle(group, error)
                raise

    async def _write_group(self, group: Sequence[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._run([item for item, _ in group])
        except Exception as error:  # noqa: BLE001 - every caller of the group is told
            if len(group) == 1 or is_unavailable(error):
                _settle(group, error)
                return
            for waiting in group:
                await self._write_group([waiting])
            return
        for (_, future), result in zip(group, results, strict=True):
            if future.done():  # its caller stopped waiting
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)


def _settle(group: Sequence[tuple[object, asyncio.Future[Result]]], error: BaseException) -> None:
    for _, future in group:
        if future.done():
            continue
        if isinstance(error, asyncio.CancelledError):
            future.cancel()
        else:
            future.set_exception(error)
