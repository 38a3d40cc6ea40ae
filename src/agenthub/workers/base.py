"""The lifecycle every background component shares: ``setup()``, ``run()``, ``cleanup()``,
plus ``run_once()`` so tests can drive one deterministic pass."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence

from agenthub.bus import Bus, Entry, keys
from agenthub.errors import AgentHubError, is_unavailable
from agenthub.runtime.tasks import raise_if_cancel_requested
from agenthub.workers.dead_letters import DeadLetters, describe_error

log = logging.getLogger(__name__)

CLAIM_IDLE_MS = 30_000
RECOVER_EVERY = 10.0
RETRY_AFTER = 1.0
"""Seconds before entries that failed (or a batch the database could not take) are tried again."""
DEFAULT_MAX_DELIVERIES = 5


class EntriesFailed(AgentHubError):
    """Some entries of a batch could not be stored; they stay pending and are tried again,
    up to ``QUEUE_MAX_DELIVERIES`` deliveries, then go to the dead letters."""


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
    acknowledged only after :meth:`process` succeeds. What is left over, this worker's own
    unacknowledged entries and those a dead worker left for longer than ``CLAIM_IDLE_MS``,
    is looked for at start, after a failure and every ``RECOVER_EVERY`` seconds; in between
    a pass is one blocking read of new entries. After a batch that was not full the worker
    waits ``linger`` seconds before it reads again, so what arrives meanwhile is stored in
    one transaction instead of one each: entries reach the database that much later, and a
    busy gateway spends far less on them.

    A batch that fails is stored again entry by entry, so one entry that can never be
    stored does not hold up the others. An entry that has failed on its
    ``max_deliveries``-th delivery (the count the bus keeps for each pending entry) goes to
    the dead letters with its error and is acknowledged. While the database is unreachable
    nothing is counted against the entries: the whole batch waits."""

    stream: str
    batch_size = 100
    block_ms = 1000
    linger = 0.05

    def __init__(self, bus: Bus, *, max_deliveries: int = DEFAULT_MAX_DELIVERIES) -> None:
        self._bus = bus
        self.max_deliveries = max_deliveries
        self.dead_letters = DeadLetters(bus)
        self.consumer = f"{self.name}-{socket.gethostname()}-{os.getpid()}"

    @abstractmethod
    async def process(self, entries: Sequence[Entry]) -> None: ...

    async def setup(self) -> None:
        await self._bus.ensure_group(self.stream, keys.QUEUE_GROUP)

    async def _left_over(self) -> list[Entry]:
        entries = await self._bus.read({self.stream: "0"}, keys.QUEUE_GROUP, self.consumer, count=self.batch_size)
        if not entries:
            entries = await self._bus.claim_stale(
                self.stream, keys.QUEUE_GROUP, self.consumer, min_idle_ms=CLAIM_IDLE_MS, count=self.batch_size
            )
        return entries

    async def run_once(self, *, block_ms: int | None = None, recover: bool = True) -> int:
        """Process one batch: what is left over first (unless ``recover`` is False), then
        new entries. Returns how many entries were processed."""
        entries = await self._left_over() if recover else []
        if not entries:
            entries = await self._bus.read(
                {self.stream: ">"}, keys.QUEUE_GROUP, self.consumer, count=self.batch_size, block_ms=block_ms
            )
        if entries:
            await self._store(entries)
        return len(entries)

    async def _store(self, entries: Sequence[Entry]) -> None:
        try:
            await self.process(entries)
        except Exception as error:
            if is_unavailable(error):
                raise  # the database is away: the batch waits, no entry is to blame
            if len(entries) == 1:
                await self._settle_failures([(entries[0], error)])
                return
            log.warning(
                "storing a batch failed (%s); storing its entries one by one",
                type(error).__name__,
                extra={"worker": self.name, "entries": len(entries)},
            )
            await self._store_one_by_one(entries)
            return
        await self._bus.ack(self.stream, keys.QUEUE_GROUP, *(entry.id for entry in entries))

    async def _store_one_by_one(self, entries: Sequence[Entry]) -> None:
        stored: list[str] = []
        failed: list[tuple[Entry, Exception]] = []
        try:
            for entry in entries:
                try:
                    await self.process([entry])
                except Exception as error:
                    if is_unavailable(error):
                        raise
                    failed.append((entry, error))
                else:
                    stored.append(entry.id)
        finally:
            if stored:
                await self._bus.ack(self.stream, keys.QUEUE_GROUP, *stored)
        await self._settle_failures(failed)

    async def _settle_failures(self, failed: Sequence[tuple[Entry, Exception]]) -> None:
        """Move entries that failed often enough to the dead letters; leave the others
        pending for another try, and say so by raising :class:`EntriesFailed`."""
        if not failed:
            return
        deliveries = await self._bus.delivery_counts(self.stream, keys.QUEUE_GROUP, [entry.id for entry, _ in failed])
        retried: list[str] = []
        for entry, error in failed:
            count = deliveries.get(entry.id, 0)
            if count >= self.max_deliveries:
                await self.dead_letters.put(self.stream, entry, error, deliveries=count)
                await self._bus.ack(self.stream, keys.QUEUE_GROUP, entry.id)
                log.error(
                    "queue entry moved to dead letters after %d deliveries: %s",
                    count, describe_error(error),
                    extra={"worker": self.name, "entry_id": entry.id},
                )
            else:
                retried.append(f"{entry.id} ({describe_error(error)})")
        if retried:
            raise EntriesFailed(f"{len(retried)} entries failed and will be tried again: {'; '.join(retried[:3])}")

    async def drain(self) -> None:
        """Store everything waiting, as a shutdown does; stops at the first failure (what
        failed stays pending for the next start), which it logs instead of raising."""
        try:
            while await self.run_once():
                pass
        except Exception as error:  # noqa: BLE001 - shutting down: report and go on
            log.warning("queue not drained: %s", describe_error(error), extra={"worker": self.name})

    async def run(self) -> None:
        recover_at = 0.0
        while True:
            raise_if_cancel_requested()
            try:
                if time.monotonic() >= recover_at:
                    while await self.run_once(recover=True):
                        pass  # until nothing is left over and nothing new is waiting
                    recover_at = time.monotonic() + RECOVER_EVERY
                if 0 < await self.run_once(block_ms=self.block_ms, recover=False) < self.batch_size:
                    await asyncio.sleep(self.linger)
            except asyncio.CancelledError:
                raise
            except EntriesFailed as failure:
                log.warning("%s", failure.message, extra={"worker": self.name})
                recover_at = 0.0
                await asyncio.sleep(RETRY_AFTER)
            except Exception as error:  # noqa: BLE001 - entries stay pending and are retried
                if is_unavailable(error):
                    log.warning("queue worker waits: %s", describe_error(error), extra={"worker": self.name})
                else:
                    log.exception("queue worker failed; will retry", extra={"worker": self.name})
                recover_at = 0.0
                await asyncio.sleep(RETRY_AFTER)
