"""The gateway's reader of the durable outbound stream (``outbound_queue``).

Live output goes over pub/sub, which forgets what nobody was listening for: the answer to
a WebSocket that reconnected a moment later, or one published while the gateway's
subscription was broken. Every event a client must not miss (final messages and errors)
is therefore also added to the durable stream by the host that produced it. Each gateway
reads that stream with a consumer group of its own and

- hands every event, :data:`LIVE_FIRST` seconds later, to whichever listener of this
  gateway still waits for it (see :meth:`OutputRouter.deliver`), so an answer whose live
  copy was lost still arrives; a client sees it once, because listeners drop a final
  event for a message already answered (deduplicated by message id);
- keeps the recent ones per chat (:class:`RecentOutbound`), so a WebSocket that
  reconnects with ``after=<message id>`` gets what it missed even before the history
  table has it (answers reach it through the history queue, ~50 ms after delivery) and
  errors, which the history never has.

An entry is acknowledged once it has been handed on (at least once: a reader that fails
reads its own unacknowledged entries again).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from typing import Any

from agenthub.bus import Bus, Entry, Payload, keys
from agenthub.channels.fanout import OutputRouter
from agenthub.errors import is_unavailable
from agenthub.runtime.tasks import raise_if_cancel_requested

log = logging.getLogger(__name__)

RECENT_WINDOW = 600.0
"""Seconds an outbound event is kept for replay to reconnecting WebSockets."""
RECENT_LIMIT = 10_000
"""Outbound events kept at most (oldest dropped first), whatever their age."""
LIVE_FIRST = 0.5
"""Seconds a durable copy waits before it is handed to a listener still waiting for it."""
READ_BLOCK_MS = 1000
RETRY_AFTER = 0.5
BATCH = 200
ALIVE_TTL = 60.0
"""Seconds a gateway's alive key outlives its last renewal; it is renewed every
:data:`ALIVE_EVERY` seconds while the gateway reads."""
ALIVE_EVERY = 10.0

ChatKey = tuple[str, str]


class RecentOutbound:
    """The outbound events of the last :data:`RECENT_WINDOW` seconds, by chat and by id."""

    def __init__(self, *, window: float = RECENT_WINDOW, limit: int = RECENT_LIMIT) -> None:
        self._window = window
        self._limit = limit
        self._order: deque[tuple[float, ChatKey, Payload]] = deque()
        self._chats: dict[ChatKey, OrderedDict[str, Payload]] = {}
        self._by_id: dict[str, Payload] = {}
        self._added = asyncio.Event()

    def add(self, event: Payload, *, at: float | None = None) -> None:
        """Keep ``event``: the latest final event for each message it answers."""
        at = time.time() if at is None else at
        if at < time.time() - self._window:
            return
        key = (str(event.get("agent_id", "")), str(event.get("chat_id", "")))
        answers = self._chats.setdefault(key, OrderedDict())
        if not event.get("more"):  # a message followed by more (a scenario bot's) is not the answer
            answers[str(event.get("reply_to") or event.get("message_id"))] = event
        if event.get("message_id"):
            self._by_id[str(event["message_id"])] = event
        self._order.append((at, key, event))
        self._evict()
        self._added.set()
        self._added = asyncio.Event()

    def _evict(self) -> None:
        oldest = time.time() - self._window
        while self._order and (self._order[0][0] < oldest or len(self._order) > self._limit):
            _at, key, event = self._order.popleft()
            answers = self._chats.get(key)
            reply_to = str(event.get("reply_to") or event.get("message_id"))
            if answers is not None and answers.get(reply_to) is event:
                del answers[reply_to]
                if not answers:
                    del self._chats[key]
            if event.get("message_id") and self._by_id.get(str(event["message_id"])) is event:
                del self._by_id[str(event["message_id"])]

    def answer_to(self, agent_id: str, chat_id: str, message_id: str) -> Payload | None:
        """The final event (message or error) answering ``message_id``, if one is kept."""
        self._evict()
        answers = self._chats.get((agent_id, chat_id))
        return None if answers is None else answers.get(message_id)

    def turn_to(self, agent_id: str, chat_id: str, message_id: str) -> list[Payload]:
        """The events answering ``message_id`` in the order they came: a scenario bot's
        messages sent before the answer (``more``), then the final event; empty while the
        final one is not kept. Looks through the kept events: for a reconnecting client only."""
        final = self.answer_to(agent_id, chat_id, message_id)
        if final is None:
            return []
        key = (agent_id, chat_id)
        earlier: dict[str, Payload] = {}
        for _at, chat, event in self._order:
            if chat == key and event.get("more") and str(event.get("reply_to")) == message_id:
                earlier.setdefault(str(event.get("message_id")), event)  # read twice: once
        return [*earlier.values(), final]

    async def find(self, message_id: str, *, timeout: float) -> Payload | None:
        """The event with this message id, waiting up to ``timeout`` seconds for it to be
        read from the stream (a client may hold an answer this gateway has not read yet)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = self._by_id.get(message_id)
            remaining = deadline - asyncio.get_running_loop().time()
            if found is not None or remaining <= 0:
                return found
            try:
                await asyncio.wait_for(self._added.wait(), remaining)
            except TimeoutError:
                return self._by_id.get(message_id)

    def __len__(self) -> int:
        return len(self._order)


class OutboundFeed:
    """Reads ``outbound_queue`` as this gateway's consumer group; lifecycle ``setup()``,
    ``run()``, ``run_once()`` (for tests) and ``cleanup()``."""

    name = "outbound-feed"

    def __init__(self, *, bus: Bus, router: OutputRouter, recent: RecentOutbound, gateway_id: str) -> None:
        self._bus = bus
        self._router = router
        self.recent = recent
        self.gateway_id = gateway_id
        self.group = keys.gateway_outbound_group(gateway_id)
        self._alive_at = 0.0

    async def setup(self) -> None:
        await self._bus.ensure_group(keys.OUTBOUND_QUEUE, self.group)
        await self._stay_alive()
        await self._drop_abandoned_groups()

    async def _stay_alive(self) -> None:
        now = time.monotonic()
        if now - self._alive_at >= ALIVE_EVERY:
            await self._bus.set(keys.gateway_alive(self.gateway_id), {"at": time.time()}, ttl=ALIVE_TTL)
            self._alive_at = now

    async def _drop_abandoned_groups(self) -> None:
        """Remove the groups of gateways that were killed: acknowledged by nobody, their
        entries would keep the stream from being trimmed by age."""
        for group in await self._bus.groups(keys.OUTBOUND_QUEUE):
            if not group.startswith(keys.GATEWAY_OUTBOUND_GROUP_PREFIX) or group == self.group:
                continue
            gateway_id = group.removeprefix(keys.GATEWAY_OUTBOUND_GROUP_PREFIX)
            if await self._bus.get(keys.gateway_alive(gateway_id)) is None:
                await self._bus.drop_group(keys.OUTBOUND_QUEUE, group)
                log.info("outbound feed: removed the group of a gateway that is gone", extra={"group": group})

    async def run(self) -> None:
        recover = True
        while True:
            raise_if_cancel_requested()
            try:
                await self._stay_alive()
                await self.run_once(block_ms=READ_BLOCK_MS, recover=recover)
                recover = False
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the feed outlives outages
                if is_unavailable(error):
                    log.warning("outbound feed: bus unavailable: %s", type(error).__name__)
                else:
                    log.warning("outbound feed failed: %s", error)
                recover = True
                await asyncio.sleep(RETRY_AFTER)
                await self._ensure_group()

    async def _ensure_group(self) -> None:
        """The group again, in case the bus lost it (Redis restarted empty)."""
        try:
            await self.setup()
        except Exception as error:  # noqa: BLE001 - still down: the next pass tries again
            log.debug("outbound feed: group not re-created: %s", type(error).__name__)

    async def run_once(self, *, block_ms: int | None = None, recover: bool = False) -> int:
        """Hand on one batch: this reader's own unacknowledged entries first when
        ``recover``, else new ones. Returns how many entries there were."""
        entries: list[Entry] = []
        if recover:
            entries = await self._bus.read({keys.OUTBOUND_QUEUE: "0"}, self.group, keys.OUTBOUND_CONSUMER, count=BATCH)
        if not entries:
            entries = await self._bus.read(
                {keys.OUTBOUND_QUEUE: ">"}, self.group, keys.OUTBOUND_CONSUMER, count=BATCH, block_ms=block_ms
            )
        if entries:
            self._hand_on(entries)
            await self._bus.ack(keys.OUTBOUND_QUEUE, self.group, *(entry.id for entry in entries))
        return len(entries)

    def _hand_on(self, entries: list[Entry]) -> None:
        """Keep each entry's event for replay, and hand the batch to the listeners
        :data:`LIVE_FIRST` seconds later (one timer for the batch): the live copy (pub/sub,
        after the answer's last chunks) normally comes first; these only stand in for a
        live copy that was lost."""
        events: list[dict[str, Any]] = []
        for entry in entries:
            event: dict[str, Any] = entry.payload
            self.recent.add(event, at=_entry_time(entry.id))
            if event.get("agent_id"):
                events.append(event)
        if events:
            asyncio.get_running_loop().call_later(LIVE_FIRST, self._deliver, events)

    def _deliver(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            self._router.deliver(str(event["agent_id"]), event)

    async def cleanup(self) -> None:
        """This gateway stops reading: its group and alive key go (best effort; a gateway
        starting later removes what is left)."""
        try:
            await self._bus.drop_group(keys.OUTBOUND_QUEUE, self.group)
            await self._bus.delete(keys.gateway_alive(self.gateway_id))
        except Exception as error:  # noqa: BLE001 - shutting down during an outage
            log.warning("outbound feed: group not removed: %s", type(error).__name__)


def _entry_time(entry_id: str) -> float:
    """When an entry was added: a stream entry id starts with its time in milliseconds."""
    try:
        return int(entry_id.partition("-")[0]) / 1000
    except ValueError:
        return time.time()
