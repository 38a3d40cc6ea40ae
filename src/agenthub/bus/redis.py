"""Redis bus: Streams with consumer groups for what must not be lost, pub/sub for output
fan-out, plain keys for statuses and leases."""

from __future__ import annotations

import builtins
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from functools import cached_property
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from agenthub.bus.base import Bus, Entry, Payload, Subscription
from agenthub.bus.codec import decode, encode
from agenthub.errors import AgentHubError

_FIELD = "d"

_COMPARE_AND_DELETE = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local ok, value = pcall(cjson.decode, raw)
if ok and type(value) == 'table' and value[ARGV[1]] == ARGV[2] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


_ADD_ONCE = """
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then
  return redis.call('XADD', KEYS[1], '*', 'd', ARGV[1])
end
return false
"""


class RedisSubscription(Subscription):
    def __init__(self, pubsub: aioredis.client.PubSub, prefix: str) -> None:
        self._pubsub = pubsub
        self._prefix_len = len(prefix)
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[Payload]:  # type: ignore[override]
        while not self._closed:
            message = await self.get(timeout=None)
            if message is not None:
                yield message

    async def get(self, timeout: float | None = None) -> Payload | None:
        # get_message returns None for the subscribe confirmation (and health-check
        # replies) too, long before ``timeout``: keep reading until a message or the
        # deadline.
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._closed:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            message = await self._pubsub.get_message(
                ignore_subscribe_messages=True, timeout=remaining
            )
            if message is not None:
                return decode(message["data"])
            if deadline is not None and time.monotonic() >= deadline:
                return None
        return None

    async def close(self) -> None:
        self._closed = True
        await self._pubsub.aclose()


class RedisBus(Bus):
    """``prefix`` namespaces every key, so several deployments (or test runs) can share
    one Redis."""

    def __init__(self, client: aioredis.Redis, *, prefix: str = "") -> None:
        self._client = client
        self._prefix = prefix
        self._cad = client.register_script(_COMPARE_AND_DELETE)
        self._add_once = client.register_script(_ADD_ONCE)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "", max_connections: int = 200) -> RedisBus:
        client = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            max_connections=max_connections,
            health_check_interval=30,
            # A pooled connection that broke while Redis was away fails once; retry it on a
            # fresh connection instead of failing the caller. Retried writes are safe here:
            # messages carry ids and answers are deduplicated by them.
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 3),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
        )
        return cls(client, prefix=prefix)

    @property
    def name(self) -> str:
        return "redis"

    def _k(self, key: str) -> str:
        return self._prefix + key

    def _entries(self, response: Any) -> list[Entry]:
        entries: list[Entry] = []
        for stream, items in response or []:
            name = stream[len(self._prefix):]
            for entry_id, fields in items:
                if fields and _FIELD in fields:
                    entries.append(Entry(name, entry_id, decode(fields[_FIELD])))
        return entries

    # --- streams ------------------------------------------------------------------------
    async def add(self, stream: str, payload: Payload) -> str:
        return str(await self._client.xadd(self._k(stream), {_FIELD: encode(payload)}))

    async def add_once(self, stream: str, payload: Payload, *, key: str, ttl: float) -> str | None:
        return await self._add_once(keys=[self._k(stream), self._k(key)], args=[encode(payload), int(ttl * 1000)])

    async def ensure_group(self, stream: str, group: str) -> None:
        try:
            await self._client.xgroup_create(self._k(stream), group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def read(
        self,
        streams: Mapping[str, str],
        group: str,
        consumer: str,
        *,
        count: int = 100,
        block_ms: int | None = None,
    ) -> list[Entry]:
        response = await self._client.xreadgroup(
            group,
            consumer,
            {self._k(name): position for name, position in streams.items()},
            count=count,
            block=block_ms if block_ms else None,
        )
        return self._entries(response)

    async def ack(self, stream: str, group: str, *ids: str) -> None:
        if ids:
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.xack(self._k(stream), group, *ids)
                # A delivered, acknowledged entry has no further use: keep streams small.
                pipe.xdel(self._k(stream), *ids)
                await pipe.execute()

    async def claim_stale(
        self, stream: str, group: str, consumer: str, *, min_idle_ms: int, count: int = 100
    ) -> list[Entry]:
        _next, items, *_ = await self._client.xautoclaim(
            self._k(stream), group, consumer, min_idle_time=min_idle_ms, count=count
        )
        return self._entries([(self._k(stream), items)])

    async def pending_count(self, stream: str, group: str) -> int:
        try:
            info = await self._client.xpending(self._k(stream), group)
        except ResponseError:
            return 0
        return int(info["pending"])

    # --- pub/sub ------------------------------------------------------------------------
    async def publish(self, channel: str, payload: Payload) -> None:
        await self._client.publish(self._k(channel), encode(payload))

    async def subscribe(self, *channels: str) -> Subscription:
        pubsub = self._client.pubsub()
        await pubsub.subscribe(*(self._k(channel) for channel in channels))
        return RedisSubscription(pubsub, self._prefix)

    # --- keys ---------------------------------------------------------------------------
    async def set(
        self, key: str, value: Payload, *, ttl: float | None = None, only_if_absent: bool = False
    ) -> bool:
        result = await self._client.set(
            self._k(key), encode(value), px=int(ttl * 1000) if ttl else None, nx=only_if_absent
        )
        return bool(result)

    async def get(self, key: str) -> Payload | None:
        raw = await self._client.get(self._k(key))
        return decode(raw) if raw else None

    async def get_many(self, keys: Sequence[str]) -> list[Payload | None]:
        if not keys:
            return []
        # One round trip per call; keys of different agents live in different slots, so a
        # pipeline rather than MGET keeps this Redis Cluster ready.
        async with self._client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(self._k(key))
            raws = await pipe.execute()
        return [decode(raw) if raw else None for raw in raws]

    async def delete(self, *keys: str) -> None:
        if keys:
            async with self._client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.delete(self._k(key))
                await pipe.execute()

    async def compare_and_delete(self, key: str, field: str, expected: str) -> bool:
        return bool(await self._cad(keys=[self._k(key)], args=[field, expected]))

    async def expire(self, key: str, ttl: float) -> None:
        await self._client.pexpire(self._k(key), int(ttl * 1000))

    async def set_members(self, key: str) -> builtins.set[str]:
        return {str(member) for member in await self._client.smembers(self._k(key))}

    async def set_add(self, key: str, *members: str) -> None:
        if members:
            await self._client.sadd(self._k(key), *members)

    async def set_remove(self, key: str, *members: str) -> None:
        if members:
            await self._client.srem(self._k(key), *members)

    async def run_batch(self, ops: Sequence[tuple[str, tuple[Any, ...], dict[str, Any]]]) -> None:
        """One pipeline, in order. Not a MULTI transaction: the keys live in different
        cluster slots; every operation is idempotent or guarded for a retry."""
        async with self._client.pipeline(transaction=False) as pipe:
            for name, args, kwargs in ops:
                if name == "add":
                    pipe.xadd(self._k(args[0]), {_FIELD: encode(args[1])})
                elif name == "add_once":
                    await self._add_once(
                        keys=[self._k(args[0]), self._k(kwargs["key"])],
                        args=[encode(args[1]), int(kwargs["ttl"] * 1000)],
                        client=pipe,
                    )
                elif name == "set":
                    ttl = kwargs.get("ttl")
                    pipe.set(self._k(args[0]), encode(args[1]), px=int(ttl * 1000) if ttl else None)
                elif name == "publish":
                    pipe.publish(self._k(args[0]), encode(args[1]))
                elif name == "ack":
                    stream, group, *ids = args
                    pipe.xack(self._k(stream), group, *ids)
                    pipe.xdel(self._k(stream), *ids)
                else:
                    raise AgentHubError(f"unknown batch operation {name!r}")
            await pipe.execute()

    async def ping(self) -> None:
        await self._client.ping()

    async def close(self) -> None:
        await self._client.aclose()

    # --- versioned values (compare-and-set) ---------------------------------------------
    @cached_property
    def _compare_and_set_script(self) -> AsyncScript:
        return self._client.register_script(_COMPARE_AND_SET)

    async def compare_and_set(
        self, key: str, value: Payload, *, version: int, ttl: float | None = None
    ) -> bool:
        written = await self._compare_and_set_script(
            keys=[self._k(key)],
            args=[encode({**value, "version": version + 1}), version, int(ttl * 1000) if ttl else 0],
        )
        return bool(written)


_COMPARE_AND_SET = """
local raw = redis.call('GET', KEYS[1])
local stored = 0
if raw then
  local ok, value = pcall(cjson.decode, raw)
  if ok and type(value) == 'table' and tonumber(value['version']) then
    stored = tonumber(value['version'])
  end
end
if stored ~= tonumber(ARGV[2]) then return 0 end
if tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
"""
