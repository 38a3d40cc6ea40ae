"""Delivery of outbound events to channels that hold no open connection (Telegram, e-mail,
a webhook): the base every such channel builds on.

A :class:`ChannelDeliveryWorker` reads the durable outbound stream (``outbound_queue``)
with its channel's consumer group, so however many replicas run, each event is handed to
one of them, and gives the events of its channel to an :class:`OutboundSender`:

- at least once: an entry is acknowledged only after the sender succeeded; one whose
  sending failed stays pending and is tried again on the next recovery pass, as are the
  entries of a worker that died (claimed after ``claim_idle_ms``);
- shown once: after sending, a marker keyed by the event's message id is set; an entry
  delivered again (the worker died between sending and acknowledging, or the same answer
  was added twice) whose marker exists is acknowledged without sending.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod

from agenthub.bus import Bus, Entry, Payload, keys
from agenthub.runtime.tasks import raise_if_cancel_requested

log = logging.getLogger(__name__)

SHOWN_MARKER_TTL = 7 * 24 * 3600.0
"""Seconds a delivered event's marker is kept: longer than the stream keeps the event."""
RECOVER_EVERY = 10.0


class OutboundSender(ABC):
    """Shows outbound events to the people of one channel."""

    channel: str
    """The ``channel`` field of the events this sender delivers (``telegram``, ``email``)."""

    @abstractmethod
    async def send(self, event: Payload) -> None:
        """Deliver one event (``message`` or ``error``, seed outbound fields); raise when
        it could not be delivered, to have it tried again."""


class ChannelDeliveryWorker:
    """Lifecycle ``setup()``, ``run()``, ``run_once()`` (deterministic, for tests),
    ``cleanup()``."""

    batch_size = 50
    block_ms = 1000

    def __init__(self, *, bus: Bus, sender: OutboundSender, consumer: str, claim_idle_ms: int = 30_000) -> None:
        self._bus = bus
        self._sender = sender
        self.consumer = consumer
        self.group = keys.channel_outbound_group(sender.channel)
        self._claim_idle_ms = claim_idle_ms
        self.name = f"deliver-{sender.channel}"

    async def setup(self) -> None:
        await self._bus.ensure_group(keys.OUTBOUND_QUEUE, self.group)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_recovery = 0.0
        while True:
            raise_if_cancel_requested()
            recover = loop.time() >= next_recovery
            try:
                await self.run_once(block_ms=self.block_ms, recover=recover)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the worker outlives outages
                log.warning("%s: %s", self.name, type(error).__name__)
                await asyncio.sleep(1.0)
                try:
                    await self.setup()  # the group again, should the bus have lost it
                except Exception:  # noqa: BLE001 - still down; the next pass tries again
                    pass
                next_recovery = 0.0
                continue
            if recover:
                next_recovery = loop.time() + RECOVER_EVERY

    async def run_once(self, *, block_ms: int | None = None, recover: bool = False) -> int:
        """Deliver one batch: when ``recover``, what is left over (this consumer's own
        pending entries, then a dead consumer's), else new entries. Returns how many
        entries were acknowledged."""
        entries: list[Entry] = []
        if recover:
            entries = await self._bus.read(
                {keys.OUTBOUND_QUEUE: "0"}, self.group, self.consumer, count=self.batch_size
            ) or await self._bus.claim_stale(
                keys.OUTBOUND_QUEUE, self.group, self.consumer, min_idle_ms=self._claim_idle_ms, count=self.batch_size
            )
        if not entries:
            entries = await self._bus.read(
                {keys.OUTBOUND_QUEUE: ">"}, self.group, self.consumer, count=self.batch_size, block_ms=block_ms
            )
        done = [entry.id for entry in entries if await self._deliver(entry)]
        if done:
            await self._bus.ack(keys.OUTBOUND_QUEUE, self.group, *done)
        return len(done)

    async def _deliver(self, entry: Entry) -> bool:
        """True when the entry is done with: delivered now or before, or not this channel's."""
        event = entry.payload
        if event.get("channel") != self._sender.channel:
            return True
        marker = keys.outbound_shown(self._sender.channel, str(event.get("message_id") or entry.id))
        if await self._bus.get(marker) is not None:
            return True
        try:
            await self._sender.send(event)
        except Exception as error:  # noqa: BLE001 - left pending, tried again
            log.warning(
                "%s: delivery failed, will retry: %s", self.name, type(error).__name__,
                extra={"chat_id": event.get("chat_id")},
            )
            return False
        await self._bus.set(marker, {"entry": entry.id}, ttl=SHOWN_MARKER_TTL)
        return True

    async def cleanup(self) -> None:
        return None
