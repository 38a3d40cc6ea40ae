"""The lifecycle every background component shares: ``setup()``, ``run()``, ``cleanup()``,
plus ``run_once()`` so tests can drive one deterministic pass."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from abc import ABC, abstractmethod
from collections.abc import Sequence

from agenthub.bus import Bus, Entry, keys
from agenthub.runtime.tasks import raise_if_cancel_requested

log = logging.getLogger(__name__)

CLAIM_IDLE_MS = 30_000


class Component(ABC):
    name: str = "component"

    async def setup(self) -> None:
        return None

    @abstractmethod
    async def run(self) -> None: ...

    async def cleanup(self) -> None:
        return None


class QueueWorker(Component):
    """Consumes one bus stream as a member of the ``workers`` consumer group. Entries are
    acknowledged only after :meth:`process` succeeds; entries a dead worker left behind are
    claimed after ``CLAIM_IDLE_MS``."""

    stream: str
    batch_size = 100
    block_ms = 1000

    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self.consumer = f"{self.name}-{socket.gethostname()}-{os.getpid()}"

    @abstractmethod
    async def process(self, entries: Sequence[Entry]) -> None: ...

    async def setup(self) -> None:
        await self._bus.ensure_group(self.stream, keys.QUEUE_GROUP)

    async def run_once(self, *, block_ms: int | None = None) -> int:
        """Process what is waiting (own unacknowledged first, then stale, then new)."""
        entries = await self._bus.read({self.stream: "0"}, keys.QUEUE_GROUP, self.consumer, count=self.batch_size)
        if not entries:
            entries = await self._bus.claim_stale(
                self.stream, keys.QUEUE_GROUP, self.consumer, min_idle_ms=CLAIM_IDLE_MS, count=self.batch_size
            )
        if not entries:
            entries = await self._bus.read(
                {self.stream: ">"}, keys.QUEUE_GROUP, self.consumer, count=self.batch_size, block_ms=block_ms
            )
        if entries:
            await self.process(entries)
            await self._bus.ack(self.stream, keys.QUEUE_GROUP, *(entry.id for entry in entries))
        return len(entries)

    async def run(self) -> None:
        while True:
            raise_if_cancel_requested()
            try:
                await self.run_once(block_ms=self.block_ms)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - entries stay pending and are retried
                log.exception("queue worker failed; will retry", extra={"worker": self.name})
                await asyncio.sleep(1.0)
