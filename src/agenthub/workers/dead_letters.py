"""Dead letters: queue entries that failed ``QUEUE_MAX_DELIVERIES`` times, kept with their
error on a stream of their own (``dead_letters:{queue}``) so the queue moves on. An operator
lists them and, once the cause is fixed, puts them back on their queue."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from agenthub.bus import Bus, Entry, Payload, keys
from agenthub.errors import NotFound
from agenthub.ops.logging import redact

ERROR_TEXT_LIMIT = 500


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: str
    queue: str
    entry_id: str
    payload: Payload
    error: str
    deliveries: int
    failed_at: float


def describe_error(error: BaseException) -> str:
    """The error as a dead letter keeps it: its type and first line, secrets masked. The
    database errors AgentHub raises leave statement parameters out."""
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    text = f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__
    return redact(text)[:ERROR_TEXT_LIMIT]


class DeadLetters:
    def __init__(self, bus: Bus, queues: tuple[str, ...] = keys.STORAGE_QUEUES) -> None:
        self._bus = bus
        self.queues = queues

    def check(self, queue: str) -> str:
        """``queue`` if it is one with dead letters; :class:`NotFound` otherwise."""
        if queue not in self.queues:
            raise NotFound(f"No queue named {queue!r}; queues: {', '.join(self.queues)}.", code="queue_not_found")
        return queue

    async def put(self, queue: str, entry: Entry, error: BaseException, *, deliveries: int) -> None:
        await self._bus.add(keys.dead_letters(queue), {
            "queue": queue,
            "entry_id": entry.id,
            "payload": entry.payload,
            "error": describe_error(error),
            "deliveries": deliveries,
            "failed_at": time.time(),
        })

    async def counts(self) -> dict[str, int]:
        return {queue: await self._bus.length(keys.dead_letters(queue)) for queue in self.queues}

    async def health(self) -> dict[str, dict[str, int]]:
        """What ``/health`` shows of the queues: dead letters, and entries being stored."""
        pending = {queue: await self._bus.pending_count(queue, keys.QUEUE_GROUP) for queue in self.queues}
        return {"dead_letters": await self.counts(), "pending": pending}

    async def entries(self, queue: str, *, limit: int = 100) -> list[DeadLetter]:
        entries = await self._bus.entries(keys.dead_letters(self.check(queue)), count=limit)
        return [_dead_letter(entry) for entry in entries]

    async def retry(self, queue: str, *, limit: int = 1000) -> int:
        """Put up to ``limit`` dead letters of ``queue`` back on it, oldest first; returns
        how many. Each is added to the queue before it leaves the dead letters: a retry cut
        short leaves at worst a copy, which storing skips (entries carry their ids)."""
        stream = keys.dead_letters(self.check(queue))
        moved = 0
        while moved < limit and (entries := await self._bus.entries(stream, count=min(100, limit - moved))):
            for entry in entries:
                await self._bus.add(queue, dict(entry.payload.get("payload") or {}))
                await self._bus.remove(stream, entry.id)
                moved += 1
        return moved


def _dead_letter(entry: Entry) -> DeadLetter:
    data: dict[str, Any] = entry.payload
    return DeadLetter(
        id=entry.id,
        queue=str(data.get("queue", "")),
        entry_id=str(data.get("entry_id", "")),
        payload=dict(data.get("payload") or {}),
        error=str(data.get("error", "")),
        deliveries=int(data.get("deliveries", 0)),
        failed_at=float(data.get("failed_at", 0.0)),
    )
