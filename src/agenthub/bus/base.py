"""The bus interface: durable streams with consumer groups, pub/sub, and keys.

Two backends implement it: :class:`~agenthub.bus.memory.MemoryBus` (one process, the
embedded default) and :class:`~agenthub.bus.redis.RedisBus` (production). Both pass the
contract suite in ``tests/contracts``.
"""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Payload = dict[str, Any]


@dataclass(frozen=True, slots=True)
class StreamRetention:
    """How long streams keep their entries. Acknowledging an entry does not delete it (another
    consumer group may still need it, or join later and read back). An entry every group of
    its stream has acknowledged is dropped once it is older than ``max_age`` seconds (a
    stream no group reads, such as a dead-letter stream, is not trimmed by age); no stream
    keeps much more than ``max_length`` entries, read or not (a safety limit: the oldest go
    first). Both trim approximately, in whole blocks, as Redis does. 0: no such limit.
    The entry points build it from ``STREAM_RETENTION_SECONDS`` and ``STREAM_MAX_LENGTH``."""

    max_age: float = 3600.0
    max_length: int = 1_000_000


@dataclass(frozen=True, slots=True)
class Entry:
    stream: str
    id: str
    payload: Payload


class Batch:
    """Writes sent together: one round trip on Redis (a pipeline, in order), one after
    another in memory. Used where a turn ends with several writes."""

    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self.ops: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def add(self, stream: str, payload: Payload) -> Batch:
        self.ops.append(("add", (stream, payload), {}))
        return self

    def add_once(self, stream: str, payload: Payload, *, key: str, ttl: float) -> Batch:
        self.ops.append(("add_once", (stream, payload), {"key": key, "ttl": ttl}))
        return self

    def set(self, key: str, value: Payload, *, ttl: float | None = None) -> Batch:
        self.ops.append(("set", (key, value), {"ttl": ttl}))
        return self

    def publish(self, channel: str, payload: Payload) -> Batch:
        self.ops.append(("publish", (channel, payload), {}))
        return self

    def ack(self, stream: str, group: str, *ids: str) -> Batch:
        self.ops.append(("ack", (stream, group, *ids), {}))
        return self

    async def execute(self) -> None:
        await self._bus.run_batch(self.ops)


class Subscription(ABC):
    """Messages published on the subscribed channels, in order, until closed."""

    @abstractmethod
    def __aiter__(self) -> AsyncIterator[Payload]: ...

    @abstractmethod
    async def get(self, timeout: float | None = None) -> Payload | None:
        """The next message, or None when ``timeout`` passes first."""

    @abstractmethod
    async def close(self) -> None: ...


class Bus(ABC):
    # --- streams (at-least-once, consumer groups) -------------------------------------
    @abstractmethod
    async def add(self, stream: str, payload: Payload) -> str:
        """Append to a stream; returns the entry id."""

    @abstractmethod
    async def add_once(self, stream: str, payload: Payload, *, key: str, ttl: float) -> str | None:
        """Append unless something was added under ``key`` in the last ``ttl`` seconds, in one
        step: a write that is retried (its first attempt landed, its answer was lost) adds
        nothing the second time. Returns the entry id, or None when nothing was added.
        ``key`` shares the stream's hash tag (one Redis Cluster slot)."""

    @abstractmethod
    async def ensure_group(self, stream: str, group: str) -> None:
        """Create the consumer group (and the stream) if missing; it starts at the
        beginning, so entries added before the group existed are delivered too."""

    @abstractmethod
    async def groups(self, stream: str) -> list[str]:
        """The consumer groups of ``stream`` (none when it doesn't exist)."""

    @abstractmethod
    async def drop_group(self, stream: str, group: str) -> None:
        """Remove a consumer group and what it has pending; its entries stay for the other
        groups. A group that doesn't exist is no error."""

    @abstractmethod
    async def read(
        self,
        streams: Mapping[str, str],
        group: str,
        consumer: str,
        *,
        count: int = 100,
        block_ms: int | None = None,
    ) -> list[Entry]:
        """Read as ``consumer`` of ``group``. Each stream maps to ``">"`` for new entries or
        ``"0"`` for this consumer's own unacknowledged ones. Blocks up to ``block_ms``
        (None = don't block) when nothing is there. A group that does not exist (Redis
        restarted without its data) is created, from the start of the stream, and read."""

    @abstractmethod
    async def ack(self, stream: str, group: str, *ids: str) -> None: ...

    @abstractmethod
    async def claim_stale(
        self, stream: str, group: str, consumer: str, *, min_idle_ms: int, count: int = 100
    ) -> list[Entry]:
        """Take over entries another consumer read but left unacknowledged for longer
        than ``min_idle_ms`` (it died)."""

    @abstractmethod
    async def pending_count(self, stream: str, group: str) -> int: ...

    @abstractmethod
    async def delivery_counts(self, stream: str, group: str, ids: Sequence[str]) -> dict[str, int]:
        """How many times each of ``ids`` has been delivered to ``group`` (read, read again
        as a consumer's own pending entry, or claimed). Ids not pending are left out."""

    @abstractmethod
    async def length(self, stream: str) -> int:
        """Entries the stream holds (0 for a stream that does not exist)."""

    @abstractmethod
    async def entries(self, stream: str, *, count: int = 100) -> list[Entry]:
        """The stream's oldest ``count`` entries, oldest first, read without a group."""

    @abstractmethod
    async def remove(self, stream: str, *ids: str) -> None:
        """Delete entries from a stream, for streams no group reads (dead letters)."""

    # --- pub/sub (fan-out, fire and forget) ------------------------------------------
    @abstractmethod
    async def publish(self, channel: str, payload: Payload) -> None: ...

    @abstractmethod
    async def subscribe(self, *channels: str) -> Subscription: ...

    # --- keys -------------------------------------------------------------------------
    @abstractmethod
    async def set(
        self, key: str, value: Payload, *, ttl: float | None = None, only_if_absent: bool = False
    ) -> bool:
        """Store a JSON value; returns False when ``only_if_absent`` and the key exists."""

    @abstractmethod
    async def get(self, key: str) -> Payload | None: ...

    @abstractmethod
    async def get_many(self, keys: Sequence[str]) -> list[Payload | None]: ...

    @abstractmethod
    async def delete(self, *keys: str) -> None: ...

    @abstractmethod
    async def compare_and_delete(self, key: str, field: str, expected: str) -> bool:
        """Delete ``key`` only while ``value[field] == expected`` (releasing a lease)."""

    @abstractmethod
    async def expire(self, key: str, ttl: float) -> None: ...

    @abstractmethod
    async def set_members(self, key: str) -> builtins.set[str]: ...

    @abstractmethod
    async def set_add(self, key: str, *members: str) -> None: ...

    @abstractmethod
    async def set_remove(self, key: str, *members: str) -> None: ...

    # --- batches ------------------------------------------------------------------------
    def batch(self) -> Batch:
        return Batch(self)

    async def run_batch(self, ops: Sequence[tuple[str, tuple[Any, ...], dict[str, Any]]]) -> None:
        """Apply a batch's operations in order. Backends may send them in one go."""
        for name, args, kwargs in ops:
            await getattr(self, name)(*args, **kwargs)

    # --- lifecycle --------------------------------------------------------------------
    @abstractmethod
    async def ping(self) -> None:
        """Raise when the backend can't be reached."""

    @abstractmethod
    async def close(self) -> None: ...

    @property
    @abstractmethod
    def name(self) -> str: ...

    # --- versioned values (compare-and-set) ---------------------------------------------
    @abstractmethod
    async def compare_and_set(
        self, key: str, value: Payload, *, version: int, ttl: float | None = None
    ) -> bool:
        """Store ``value`` only while the stored value's ``version`` field equals
        ``version`` (0 for a missing key or one without a version), in one step; the stored
        value gets ``version + 1``. Returns False, storing nothing, when another write came
        first: read again, decide again, retry."""
