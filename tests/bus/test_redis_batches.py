"""Batches on Redis: the batches several writers ask for at once go to Redis together (one
round trip for a host finishing several turns), each still applied in its own order and
with its own outcome."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from agenthub.bus import Bus, open_bus


@pytest.fixture
async def redis_bus(redis_server_url: str, redis_prefix: str) -> AsyncIterator[Bus]:
    bus = open_bus(redis_server_url, prefix=redis_prefix)
    yield bus
    await bus.close()


async def _script_calls(url: str) -> int:
    client = aioredis.Redis.from_url(url)
    try:
        stats = await client.info("commandstats")
    finally:
        await client.aclose()
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))


async def test_batches_asked_for_at_once_are_all_applied_each_in_its_order(redis_bus: Bus) -> None:
    await redis_bus.ensure_group("out", "g")
    await redis_bus.ensure_group("in", "g")
    for n in range(30):
        await redis_bus.add("in", {"n": n})
    delivered = await redis_bus.read({"in": ">"}, "g", "c", count=30)

    async def deliver(n: int) -> None:
        await (redis_bus.batch().add("out", {"turn": n, "part": 1}).add("out", {"turn": n, "part": 2})
               .set(f"marker:{n}", {"turn": n}, ttl=30).ack("in", "g", delivered[n].id).execute())

    await asyncio.gather(*(deliver(n) for n in range(30)))

    entries = [entry.payload for entry in await redis_bus.read({"out": ">"}, "g", "c", count=100)]
    assert len(entries) == 60
    for n in range(30):
        assert [e["part"] for e in entries if e["turn"] == n] == [1, 2]
    assert await redis_bus.get_many([f"marker:{n}" for n in range(30)]) == [{"turn": n} for n in range(30)]
    assert await redis_bus.pending_count("in", "g") == 0


async def test_batches_asked_for_at_once_take_fewer_round_trips(redis_bus: Bus, redis_server_url: str) -> None:
    await redis_bus.batch().set("warm", {"n": 0}).execute()  # the script is loaded
    before = await _script_calls(redis_server_url)
    await asyncio.gather(*(redis_bus.batch().set(f"k{n}", {"n": n}).execute() for n in range(20)))
    calls = await _script_calls(redis_server_url) - before
    assert await redis_bus.get_many([f"k{n}" for n in range(20)]) == [{"n": n} for n in range(20)]
    # Other tests may run scripts on this Redis meanwhile: far fewer than one call a batch is the point.
    assert calls < 10


async def test_a_batch_that_fails_fails_alone(redis_bus: Bus, redis_server_url: str, redis_prefix: str) -> None:
    """A write Redis refuses (an add to a key that is not a stream) fails its own batch; the
    batches sent with it are applied."""
    client = aioredis.Redis.from_url(redis_server_url)
    try:
        await client.set(f"{redis_prefix}not-a-stream", "x")
    finally:
        await client.aclose()
    await redis_bus.ensure_group("out", "g")

    results = await asyncio.gather(
        redis_bus.batch().add("out", {"n": 1}).execute(),
        redis_bus.batch().add("not-a-stream", {"n": 2}).execute(),
        redis_bus.batch().add("out", {"n": 3}).execute(),
        return_exceptions=True,
    )

    assert results[0] is None and results[2] is None
    assert isinstance(results[1], ResponseError)
    assert [e.payload for e in await redis_bus.read({"out": ">"}, "g", "c")] == [{"n": 1}, {"n": 3}]
