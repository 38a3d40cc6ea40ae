"""In-process bus: the embedded default. Same semantics as the Redis backend, for one
process and one event loop. Nothing survives the process, which is why the gateway stores
every inbound message in the database before it reaches the bus."""

from __future__ import annotations

import asyncio
import bisect
import builtins
import heapq
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agenthub.bus import codec
from agenthub.bus.base import Bus, Entry, Payload, StreamRetention, Subscription


@dataclass
class _Pending:
    consumer: str
    delivered_at: float
    deliveries: int = 1


@dataclass
class _Group:
    last_id: tuple[int, int] = (0, 0)
    pending: OrderedDict[str, _Pending] = field(default_factory=OrderedDict)


TRIM_BLOCK = 100
"""Entries are trimmed in blocks of at least this many, as Redis trims whole nodes of a
stream (``stream-node-max-entries``) when asked to trim approximately."""


@dataclass
class _Stream:
    entries: dict[str, bytes] = field(default_factory=dict)
    """Each entry's payload as the codec encodes it: decoded afresh for every reader."""
    order: list[str] = field(default_factory=list)
    """Entry ids, oldest first; ``positions`` holds the same ids parsed, for bisecting."""
    positions: list[tuple[int, int]] = field(default_factory=list)
    groups: dict[str, _Group] = field(default_factory=dict)
    waiters: set[asyncio.Future[None]] = field(default_factory=set)

    def append(self, entry_id: str, encoded: bytes) -> None:
        self.entries[entry_id] = encoded
        self.order.append(entry_id)
        self.positions.append(_parse_id(entry_id))

    def after(self, position: tuple[int, int], count: int) -> list[str]:
        start = bisect.bisect_right(self.positions, position)
        return self.order[start:start + count]

    def trim(self, retention: StreamRetention) -> None:
        """Drop the oldest entries beyond the retention, in whole blocks: by age only those
        every group has acknowledged (a stream no group reads is kept), by length any."""
        cut = 0
        if retention.max_length:
            cut = max(cut, len(self.order) - retention.max_length)
        if retention.max_age and self.groups:
            oldest_kept = (int((time.time() - retention.max_age) * 1000), 0)
            by_age = bisect.bisect_left(self.positions, oldest_kept)
            for group in self.groups.values():
                by_age = min(by_age, bisect.bisect_right(self.positions, group.last_id))  # not yet delivered
                if group.pending:
                    first_pending = _parse_id(next(iter(group.pending)))
                    by_age = min(by_age, bisect.bisect_left(self.positions, first_pending))
            cut = max(cut, by_age)
        if cut >= TRIM_BLOCK or (cut and cut == len(self.order)):
            for entry_id in self.order[:cut]:
                del self.entries[entry_id]
            del self.order[:cut]
            del self.positions[:cut]

    def remove(self, ids: Sequence[str]) -> None:
        gone = {entry_id for entry_id in ids if self.entries.pop(entry_id, None) is not None}
        if gone:
            kept = [i for i, entry_id in enumerate(self.order) if entry_id not in gone]
            self.order = [self.order[i] for i in kept]
            self.positions = [self.positions[i] for i in kept]


def _parse_id(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class MemorySubscription(Subscription):
    def __init__(self, bus: MemoryBus, channels: tuple[str, ...]) -> None:
        self._bus = bus
        self.channels = channels
        self.queue: asyncio.Queue[Payload] = asyncio.Queue()
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[Payload]:  # type: ignore[override]
        while not self._closed:
            yield await self.queue.get()

    async def get(self, timeout: float | None = None) -> Payload | None:
        if self._closed:
            return None
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None

    async def close(self) -> None:
        self._closed = True
        self._bus._unsubscribe(self)


class MemoryBus(Bus):
    def __init__(self, *, retention: StreamRetention | None = None) -> None:
        self._retention = retention or StreamRetention()
        self._streams: dict[str, _Stream] = {}
        self._subscribers: dict[str, set[MemorySubscription]] = {}
        self._keys: dict[str, tuple[Payload | set[str], float | None]] = {}
        self._expiries: list[tuple[float, str]] = []
        self._last_id = (0, 0)

    @property
    def name(self) -> str:
        return "memory"

    # --- streams ------------------------------------------------------------------------
    def _stream(self, name: str) -> _Stream:
        stream = self._streams.get(name)
        if stream is None:
            stream = self._streams[name] = _Stream()
        return stream

    def _next_id(self) -> str:
        ms = int(time.time() * 1000)
        last_ms, last_seq = self._last_id
        self._last_id = (ms, 0) if ms > last_ms else (last_ms, last_seq + 1)
        return f"{self._last_id[0]}-{self._last_id[1]}"

    async def add(self, stream: str, payload: Payload) -> str:
        return self._append(stream, codec.encode(payload))

    def _append(self, stream: str, encoded: bytes) -> str:
        entry_id = self._next_id()
        target = self._stream(stream)
        target.append(entry_id, encoded)
        target.trim(self._retention)
        for waiter in target.waiters:
            if not waiter.done():
                waiter.set_result(None)
        return entry_id

    async def add_once(self, stream: str, payload: Payload, *, key: str, ttl: float) -> str | None:
        encoded = codec.encode(payload)  # a payload that can't be encoded leaves no marker
        if not await self.set(key, {"stream": stream}, ttl=ttl, only_if_absent=True):
            return None
        return self._append(stream, encoded)

    async def ensure_group(self, stream: str, group: str) -> None:
        self._stream(stream).groups.setdefault(group, _Group())

    async def groups(self, stream: str) -> list[str]:
        target = self._streams.get(stream)
        return list(target.groups) if target is not None else []

    async def drop_group(self, stream: str, group: str) -> None:
        target = self._streams.get(stream)
        if target is not None:
            target.groups.pop(group, None)

    def _collect(
        self, streams: Mapping[str, str], group: str, consumer: str, count: int
    ) -> list[Entry]:
        found: list[Entry] = []
        now = time.monotonic()
        for name, position in streams.items():
            stream = self._stream(name)
            state = stream.groups.setdefault(group, _Group())  # as Redis re-creates a lost group
            if position == ">":
                for entry_id in stream.after(state.last_id, max(count - len(found), 0)):
                    state.last_id = _parse_id(entry_id)
                    state.pending[entry_id] = _Pending(consumer, now)
                    found.append(Entry(name, entry_id, codec.decode(stream.entries[entry_id])))
            else:
                for entry_id, pending in state.pending.items():
                    if len(found) >= count:
                        break
                    if pending.consumer == consumer and entry_id in stream.entries:
                        pending.delivered_at = now
                        pending.deliveries += 1
                        found.append(Entry(name, entry_id, codec.decode(stream.entries[entry_id])))
        return found

    async def read(
        self,
        streams: Mapping[str, str],
        group: str,
        consumer: str,
        *,
        count: int = 100,
        block_ms: int | None = None,
    ) -> list[Entry]:
        found = self._collect(streams, group, consumer, count)
        if found or not block_ms or any(position != ">" for position in streams.values()):
            return found
        deadline = time.monotonic() + block_ms / 1000
        while not found:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            targets = [self._streams[name] for name in streams]
            for stream in targets:
                stream.waiters.add(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                return []
            finally:
                for stream in targets:
                    stream.waiters.discard(waiter)
            found = self._collect(streams, group, consumer, count)
        return found

    async def ack(self, stream: str, group: str, *ids: str) -> None:
        """Acknowledge without deleting: another group may not have read the entries yet;
        the retention policy trims them."""
        target = self._streams.get(stream)
        if target is None or group not in target.groups:
            return
        for entry_id in ids:
            target.groups[group].pending.pop(entry_id, None)

    async def claim_stale(
        self, stream: str, group: str, consumer: str, *, min_idle_ms: int, count: int = 100
    ) -> list[Entry]:
        target = self._stream(stream)
        if group not in target.groups:
            target.groups[group] = _Group()
            return []
        now = time.monotonic()
        claimed: list[Entry] = []
        pending_entries = target.groups[group].pending
        for entry_id in [i for i in pending_entries if i not in target.entries]:
            del pending_entries[entry_id]  # trimmed away: nothing left to claim, as Redis does
        for entry_id, pending in pending_entries.items():
            if len(claimed) >= count:
                break
            if (now - pending.delivered_at) * 1000 >= min_idle_ms:
                pending.consumer, pending.delivered_at = consumer, now
                pending.deliveries += 1
                claimed.append(Entry(stream, entry_id, codec.decode(target.entries[entry_id])))
        return claimed

    async def pending_count(self, stream: str, group: str) -> int:
        target = self._streams.get(stream)
        if target is None or group not in target.groups:
            return 0
        return len(target.groups[group].pending)

    async def delivery_counts(self, stream: str, group: str, ids: Sequence[str]) -> dict[str, int]:
        target = self._streams.get(stream)
        if target is None or group not in target.groups:
            return {}
        pending = target.groups[group].pending
        return {entry_id: pending[entry_id].deliveries for entry_id in ids if entry_id in pending}

    async def length(self, stream: str) -> int:
        target = self._streams.get(stream)
        return len(target.entries) if target is not None else 0

    async def entries(self, stream: str, *, count: int = 100) -> list[Entry]:
        target = self._streams.get(stream)
        if target is None:
            return []
        return [Entry(stream, entry_id, codec.decode(target.entries[entry_id])) for entry_id in target.order[:count]]

    async def remove(self, stream: str, *ids: str) -> None:
        target = self._streams.get(stream)
        if target is not None:
            target.remove(ids)

    # --- pub/sub ------------------------------------------------------------------------
    async def publish(self, channel: str, payload: Payload) -> None:
        for subscription in self._subscribers.get(channel, ()):
            subscription.queue.put_nowait(codec.copy(payload))

    async def subscribe(self, *channels: str) -> Subscription:
        subscription = MemorySubscription(self, channels)
        for channel in channels:
            self._subscribers.setdefault(channel, set()).add(subscription)
        return subscription

    def _unsubscribe(self, subscription: MemorySubscription) -> None:
        for channel in subscription.channels:
            members = self._subscribers.get(channel)
            if members is not None:
                members.discard(subscription)
                if not members:
                    del self._subscribers[channel]

    # --- keys ---------------------------------------------------------------------------
    def _live(self, key: str) -> Payload | set[str] | None:
        item = self._keys.get(key)
        if item is None:
            return None
        value, expires_at = item
        if expires_at is not None and expires_at <= time.monotonic():
            del self._keys[key]
            return None
        return value

    async def set(
        self, key: str, value: Payload, *, ttl: float | None = None, only_if_absent: bool = False
    ) -> bool:
        if only_if_absent and self._live(key) is not None:
            return False
        expires_at = time.monotonic() + ttl if ttl else None
        self._keys[key] = (codec.copy(value), expires_at)
        self._will_expire(key, expires_at)
        return True

    def _will_expire(self, key: str, expires_at: float | None) -> None:
        """Keys with a TTL are dropped once it has passed, read again or not (reply and
        added markers are written once per message and seldom read): memory stays flat."""
        now = time.monotonic()
        while self._expiries and self._expiries[0][0] <= now:
            _at, expired = heapq.heappop(self._expiries)
            self._live(expired)  # drops the key if its TTL has passed (it may have been renewed)
        if expires_at is not None:
            heapq.heappush(self._expiries, (expires_at, key))

    async def get(self, key: str) -> Payload | None:
        value = self._live(key)
        return codec.copy(value) if isinstance(value, dict) else None

    async def get_many(self, keys: Sequence[str]) -> list[Payload | None]:
        return [await self.get(key) for key in keys]

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._keys.pop(key, None)

    async def compare_and_delete(self, key: str, field: str, expected: str) -> bool:
        value = self._live(key)
        if isinstance(value, dict) and value.get(field) == expected:
            del self._keys[key]
            return True
        return False

    async def expire(self, key: str, ttl: float) -> None:
        value = self._live(key)
        if value is not None:
            expires_at = time.monotonic() + ttl
            self._keys[key] = (value, expires_at)
            self._will_expire(key, expires_at)

    async def set_members(self, key: str) -> builtins.set[str]:
        value = self._live(key)
        return set(value) if isinstance(value, set) else set()

    async def set_add(self, key: str, *members: str) -> None:
        value = self._live(key)
        if isinstance(value, set):
            value.update(members)  # in place: keeps the key's TTL, as SADD does
        else:
            self._keys[key] = (set(members), None)

    async def set_remove(self, key: str, *members: str) -> None:
        value = self._live(key)
        if isinstance(value, set):
            value.difference_update(members)

    async def run_batch(self, ops: Sequence[tuple[str, tuple[Any, ...], dict[str, Any]]]) -> None:
        # Every payload is encoded before any operation is applied, as Redis builds its
        # pipeline before sending it: a payload that can't be encoded fails the whole
        # batch and leaves none of it behind.
        for name, args, _kwargs in ops:
            if name in ("add", "add_once", "set", "publish"):
                codec.encode(args[1])
        await super().run_batch(ops)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._subscribers.clear()

    # --- versioned values (compare-and-set) ---------------------------------------------
    async def compare_and_set(
        self, key: str, value: Payload, *, version: int, ttl: float | None = None
    ) -> bool:
        # No await between the check and the write: atomic on the event loop.
        current = self._live(key)
        stored = int(current.get("version") or 0) if isinstance(current, dict) else 0
        if stored != version:
            return False
        expires_at = time.monotonic() + ttl if ttl else None
        self._keys[key] = (codec.copy({**value, "version": version + 1}), expires_at)
        self._will_expire(key, expires_at)
        return True
