"""Spend counters in Redis: a hash per subject (``budget_spend:{<subject>}``), a field per
period (its start, epoch milliseconds) holding the spend in units of 10⁻⁸ USD, with an expiry."""

from __future__ import annotations

from collections.abc import Sequence

import redis.asyncio as aioredis

from agenthub.billing.counters import SpendCounters, Spent
from agenthub.bus.redis import retrying_client

_OPEN = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
for _, period in ipairs(redis.call('HKEYS', KEYS[1])) do
  if tonumber(period) < tonumber(ARGV[1]) then redis.call('HDEL', KEYS[1], period) end
end
redis.call('HSET', KEYS[1], ARGV[1], 0)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""

_ADD = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2]) end
return 0
"""

_RECORD = """
local at = tonumber(ARGV[1])
for _, period in ipairs(redis.call('HKEYS', KEYS[1])) do
  if tonumber(period) <= at then redis.call('HINCRBY', KEYS[1], period, ARGV[2]) end
end
return 0
"""


class RedisSpendCounters(SpendCounters):
    def __init__(self, client: aioredis.Redis, *, prefix: str = "") -> None:
        self._client = client
        self._prefix = prefix
        self._open = client.register_script(_OPEN)
        self._add = client.register_script(_ADD)
        self._record = client.register_script(_RECORD)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "", max_connections: int = 100) -> RedisSpendCounters:
        # A retried increment whose first attempt landed counts a turn twice: a budget that
        # holds a little early, never one overspent.
        return cls(retrying_client(url, max_connections=max_connections), prefix=prefix)

    def _key(self, subject: str) -> str:
        return f"{self._prefix}budget_spend:{{{subject}}}"

    async def read(self, slots: Sequence[tuple[str, int]]) -> list[int | None]:
        if len(slots) == 1:
            subject, period = slots[0]
            value = await self._client.hget(self._key(subject), str(period))  # type: ignore[misc]
            return [None if value is None else int(value)]
        async with self._client.pipeline(transaction=False) as pipe:
            for subject, period in slots:
                pipe.hget(self._key(subject), str(period))
            values = await pipe.execute()
        return [None if value is None else int(value) for value in values]

    async def open(self, subject: str, period: int, *, ttl: float) -> bool:
        opened = await self._open(keys=[self._key(subject)], args=[period, max(1, int(ttl * 1000))])
        return bool(opened)

    async def add(self, subject: str, period: int, units: int) -> None:
        if units:  # only to an open counter: one that expired meanwhile is not made again without expiry
            await self._add(keys=[self._key(subject)], args=[period, units])

    async def record(self, spent: Sequence[Spent]) -> None:
        if not spent:
            return
        async with self._client.pipeline(transaction=False) as pipe:
            for item in spent:
                await self._record(keys=[self._key(item.subject)], args=[item.at, item.units], client=pipe)
            await pipe.execute()

    async def close(self) -> None:
        await self._client.aclose()
