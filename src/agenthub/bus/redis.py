"""Redis bus: Streams with consumer groups for what must not be lost, pub/sub for output
fan-out, plain keys for statuses and leases."""

from __future__ import annotations

import builtins
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from agenthub.bus.base import Bus, Entry, Payload, StreamRetention, Subscription
from agenthub.bus.codec import decode, encode
from agenthub.errors import AgentHubError
from agenthub.grouping import GroupedCalls

log = logging.getLogger(__name__)

_FIELD = "d"


@dataclass(frozen=True, slots=True)
class _Writes:
    """One batch's writes as ``_BATCH`` takes them: its keys, its arguments, how many writes."""

    keys: list[str]
    args: list[Any]
    count: int

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
  if ARGV[3] ~= '' then
    return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'd', ARGV[1])
  end
  return redis.call('XADD', KEYS[1], '*', 'd', ARGV[1])
end
return false
"""

_BATCH = """
-- Batches of writes in one call (see RedisBus.run_batch). ARGV[1]: a stream's length limit
-- ('' for none), ARGV[2]: how many batches; then each batch's number of writes and each
-- write's name and arguments, its keys taken from KEYS in order. A write Redis refuses ends
-- its batch (the writes before it stay made, as in a pipeline) and not the others: the
-- reply has, for each batch, 0 or the refusal.
local limit, k, a = ARGV[1], 1, 3
local function add(stream, payload)
  if limit ~= '' then return redis.pcall('XADD', stream, 'MAXLEN', '~', limit, '*', 'd', payload) end
  return redis.pcall('XADD', stream, '*', 'd', payload)
end
local results = {}
for b = 1, tonumber(ARGV[2]) do
  local refused = false
  for _ = 1, tonumber(ARGV[a]) do
    a = a + 1
    local op, reply = ARGV[a], nil
    if op == 'add' then
      if not refused then reply = add(KEYS[k], ARGV[a + 1]) end
      k, a = k + 1, a + 1
    elseif op == 'add_once' then
      if not refused then
        reply = redis.pcall('SET', KEYS[k + 1], '1', 'NX', 'PX', ARGV[a + 2])
        if reply and not (type(reply) == 'table' and reply.err) then reply = add(KEYS[k], ARGV[a + 1]) end
      end
      k, a = k + 2, a + 2
    elseif op == 'set' then
      if not refused then
        if ARGV[a + 2] ~= '' then reply = redis.pcall('SET', KEYS[k], ARGV[a + 1], 'PX', ARGV[a + 2])
        else reply = redis.pcall('SET', KEYS[k], ARGV[a + 1]) end
      end
      k, a = k + 1, a + 2
    elseif op == 'publish' then
      if not refused then reply = redis.pcall('PUBLISH', ARGV[a + 1], ARGV[a + 2]) end
      a = a + 2
    elseif op == 'ack' then
      local count = tonumber(ARGV[a + 2])
      if not refused then reply = redis.pcall('XACK', KEYS[k], ARGV[a + 1], unpack(ARGV, a + 3, a + 2 + count)) end
      k, a = k + 1, a + 2 + count
    else
      return redis.error_reply('unknown batch operation ' .. tostring(op))
    end
    if type(reply) == 'table' and reply.err then refused = reply.err end
  end
  a = a + 1
  results[b] = refused or 0
end
return results
"""

_TRIM_BY_AGE = """
-- Trim the stream (KEYS[1]) to the entries of the last ARGV[1] milliseconds, keeping every
-- entry a group has not acknowledged (pending, or not delivered yet). No group: kept.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
if #groups == 0 then return 0 end
local floor_ms, floor_seq = tonumber(ARGV[1]), 0
local function lower(id)
  local dash = string.find(id, '-', 1, true)
  local ms, seq = tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
  if ms < floor_ms or (ms == floor_ms and seq < floor_seq) then floor_ms, floor_seq = ms, seq end
end
for _, group in ipairs(groups) do
  local info = {}
  for i = 1, #group, 2 do info[group[i]] = group[i + 1] end
  lower(info['last-delivered-id'])
  if tonumber(info['pending']) > 0 then
    lower(redis.call('XPENDING', KEYS[1], info['name'])[2])
  end
end
return redis.call('XTRIM', KEYS[1], 'MINID', '~', string.format('%.0f-%.0f', floor_ms, floor_seq))
"""

AGE_TRIM_EVERY = 60.0
"""Seconds between two trims of one stream by age (``XTRIM MINID ~`` below what every group
has acknowledged), per process; the length limit is applied by every ``XADD`` (``MAXLEN ~``)."""
AGE_TRIMS_TRACKED = 10_000
"""Streams whose last age trim a process remembers; beyond, the oldest is forgotten (and that
stream trimmed again at its next add)."""


def retrying_client(url: str, *, max_connections: int) -> aioredis.Redis:
    """A Redis client of text replies whose pooled connection that broke while Redis was
    away is retried on a fresh one (three times, backing off) instead of failing the caller:
    for users whose writes may be retried."""
    return aioredis.Redis.from_url(
        url,
        decode_responses=True,
        max_connections=max_connections,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )


def _text(reply: Any) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def _is_missing_group(error: ResponseError) -> bool:
    """NOGROUP, or a blocked read ended because its stream was deleted (UNBLOCKED)."""
    return str(error).startswith(("NOGROUP", "UNBLOCKED"))


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

    def __init__(
        self, client: aioredis.Redis, *, prefix: str = "", retention: StreamRetention | None = None
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._retention = retention or StreamRetention()
        self._age_trimmed: OrderedDict[str, float] = OrderedDict()
        self._cad = client.register_script(_COMPARE_AND_DELETE)
        self._add_once = client.register_script(_ADD_ONCE)
        self._trim_aged = client.register_script(_TRIM_BY_AGE)
        self._batch = client.register_script(_BATCH)
        self._batches: GroupedCalls[_Writes, None] = GroupedCalls(self._run_writes, name="redis-batches")

    @classmethod
    def from_url(
        cls, url: str, *, prefix: str = "", max_connections: int = 200, retention: StreamRetention | None = None
    ) -> RedisBus:
        # Retried writes are safe here: messages carry ids and answers are deduplicated by them.
        return cls(retrying_client(url, max_connections=max_connections), prefix=prefix, retention=retention)

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
    def _xadd(self, target: Any, stream: str, payload: Payload) -> Any:
        """Queue (on a pipeline) or send an ``XADD`` that keeps the stream within its length."""
        return target.xadd(
            self._k(stream), {_FIELD: encode(payload)}, maxlen=self._retention.max_length or None, approximate=True
        )

    async def _trim_by_age(self, pipe: Any, stream: str) -> None:
        """Add a trim by age of ``stream`` to ``pipe`` (None: run it now) if one is due."""
        if not self._retention.max_age:
            return
        now = time.monotonic()
        last = self._age_trimmed.get(stream)
        if last is not None and now - last < AGE_TRIM_EVERY:
            return
        self._age_trimmed[stream] = now
        self._age_trimmed.move_to_end(stream)
        while len(self._age_trimmed) > AGE_TRIMS_TRACKED:
            self._age_trimmed.popitem(last=False)
        oldest_kept = int((time.time() - self._retention.max_age) * 1000)
        await self._trim_aged(keys=[self._k(stream)], args=[oldest_kept], client=pipe)

    async def add(self, stream: str, payload: Payload) -> str:
        async with self._client.pipeline(transaction=False) as pipe:
            self._xadd(pipe, stream, payload)
            await self._trim_by_age(pipe, stream)
            results = await pipe.execute()
        return results[0]

    def _add_once_args(self, payload: Payload, ttl: float) -> list[Any]:
        max_length = self._retention.max_length
        return [encode(payload), int(ttl * 1000), max_length or ""]

    async def add_once(self, stream: str, payload: Payload, *, key: str, ttl: float) -> str | None:
        async with self._client.pipeline(transaction=False) as pipe:
            await self._add_once(
                keys=[self._k(stream), self._k(key)], args=self._add_once_args(payload, ttl), client=pipe
            )
            await self._trim_by_age(pipe, stream)
            results = await pipe.execute()
        return results[0]

    async def ensure_group(self, stream: str, group: str) -> None:
        try:
            await self._client.xgroup_create(self._k(stream), group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def groups(self, stream: str) -> list[str]:
        try:
            found = await self._client.xinfo_groups(self._k(stream))
        except ResponseError:
            return []  # no such stream
        return [str(group["name"]) for group in found]

    async def drop_group(self, stream: str, group: str) -> None:
        try:
            await self._client.xgroup_destroy(self._k(stream), group)
        except ResponseError:
            return  # no such stream

    async def read(
        self,
        streams: Mapping[str, str],
        group: str,
        consumer: str,
        *,
        count: int = 100,
        block_ms: int | None = None,
    ) -> list[Entry]:
        targets: dict[Any, Any] = {self._k(name): position for name, position in streams.items()}
        try:
            response = await self._client.xreadgroup(
                group, consumer, targets, count=count, block=block_ms if block_ms else None
            )
        except ResponseError as error:
            if not _is_missing_group(error):
                raise
            # Redis lost the group (restarted without its data, or the stream was deleted):
            # create it again and read on. Entries added since are delivered from the start.
            await self._recreate_groups(streams, group)
            response = await self._client.xreadgroup(group, consumer, targets, count=count)
        return self._entries(response)

    async def _recreate_groups(self, streams: Mapping[str, str] | Sequence[str], group: str) -> None:
        log.warning("consumer group %s missing; creating it again", group, extra={"streams": len(streams)})
        for stream in streams:
            await self.ensure_group(stream, group)

    async def ack(self, stream: str, group: str, *ids: str) -> None:
        if ids:
            # Not deleted: another consumer group may not have read it yet. The retention
            # policy keeps streams bounded.
            await self._client.xack(self._k(stream), group, *ids)

    async def claim_stale(
        self, stream: str, group: str, consumer: str, *, min_idle_ms: int, count: int = 100
    ) -> list[Entry]:
        try:
            _next, items, *_ = await self._client.xautoclaim(
                self._k(stream), group, consumer, min_idle_time=min_idle_ms, count=count
            )
        except ResponseError as error:
            if not _is_missing_group(error):
                raise
            await self._recreate_groups([stream], group)
            return []  # a group created just now has nothing pending
        return self._entries([(self._k(stream), items)])

    async def pending_count(self, stream: str, group: str) -> int:
        try:
            info = await self._client.xpending(self._k(stream), group)
        except ResponseError:
            return 0
        return int(info["pending"])

    async def delivery_counts(self, stream: str, group: str, ids: Sequence[str]) -> dict[str, int]:
        if not ids:
            return {}
        async with self._client.pipeline(transaction=False) as pipe:
            for entry_id in ids:
                pipe.xpending_range(self._k(stream), group, min=entry_id, max=entry_id, count=1)
            results = await pipe.execute(raise_on_error=False)
        counts: dict[str, int] = {}
        for result in results:
            if isinstance(result, Exception):
                if isinstance(result, ResponseError) and _is_missing_group(result):
                    continue
                raise result
            for item in result:
                counts[item["message_id"]] = int(item["times_delivered"])
        return counts

    async def length(self, stream: str) -> int:
        return int(await self._client.xlen(self._k(stream)))

    async def entries(self, stream: str, *, count: int = 100) -> list[Entry]:
        items = await self._client.xrange(self._k(stream), count=count)
        return self._entries([(self._k(stream), items)])

    async def remove(self, stream: str, *ids: str) -> None:
        if ids:
            await self._client.xdel(self._k(stream), *ids)

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
        """One call of a script that makes the writes in order (``_BATCH``): one command for
        redis-py to send and read, where a pipeline of the same writes costs a command each
        (a turn's delivery: seven). Batches asked for while a call is under way go together
        in the next call (:class:`~agenthub.grouping.GroupedCalls`): a host finishing several turns at once pays
        one round trip, not one per turn. Every write is idempotent or guarded for a retry.
        On Redis Cluster the keys of one batch live in different slots: there a batch must go
        back to being a pipeline (AgentHub runs on one Redis, or a replicated one, today).
        Streams due for their trim by age are trimmed after it."""
        if not ops:
            return
        keys_: list[str] = []
        args: list[Any] = []
        count = 0
        added: list[str] = []
        for name, op_args, kwargs in ops:
            if name == "add":
                keys_.append(self._k(op_args[0]))
                args += ["add", encode(op_args[1])]
                added.append(op_args[0])
            elif name == "add_once":
                keys_ += [self._k(op_args[0]), self._k(kwargs["key"])]
                args += ["add_once", encode(op_args[1]), int(kwargs["ttl"] * 1000)]
                added.append(op_args[0])
            elif name == "set":
                ttl = kwargs.get("ttl")
                keys_.append(self._k(op_args[0]))
                args += ["set", encode(op_args[1]), int(ttl * 1000) if ttl else ""]
            elif name == "publish":
                args += ["publish", self._k(op_args[0]), encode(op_args[1])]
            elif name == "ack":
                stream, group, *ids = op_args
                if not ids:
                    continue
                keys_.append(self._k(stream))
                args += ["ack", group, len(ids), *ids]
            else:
                raise AgentHubError(f"unknown batch operation {name!r}")
            count += 1
        if count:
            await self._batches.call(_Writes(keys_, args, count))
        for stream in dict.fromkeys(added):
            await self._trim_by_age(None, stream)

    async def _run_writes(self, writes: Sequence[_Writes]) -> list[None | Exception]:
        """One call of ``_BATCH`` making the writes of several batches, in order."""
        keys_: list[str] = []
        args: list[Any] = [self._retention.max_length or "", len(writes)]
        for w in writes:
            keys_ += w.keys
            args += [w.count, *w.args]
        replies = await self._batch(keys=keys_, args=args)
        return [None if reply == 0 else ResponseError(_text(reply)) for reply in replies]

    async def ping(self) -> None:
        await self._client.ping()

    async def close(self) -> None:
        await self._batches.close()
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
