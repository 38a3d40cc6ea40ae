"""The spend counters, the same on both backends: the in-process one and Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from agenthub.billing.counters import MemorySpendCounters, SpendCounters, Spent, from_units, to_units
from agenthub.billing.redis_counters import RedisSpendCounters


@pytest.fixture(params=["memory", "redis"])
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[SpendCounters]:
    if request.param == "memory":
        backend: SpendCounters = MemorySpendCounters()
    else:
        url = request.getfixturevalue("redis_server_url")
        backend = RedisSpendCounters.from_url(url, prefix=request.getfixturevalue("redis_prefix"))
    try:
        yield backend
    finally:
        await backend.close()


async def test_a_counter_is_opened_once_and_added_to(counters: SpendCounters) -> None:
    assert await counters.read([("user:o:u", 100)]) == [None]
    assert await counters.open("user:o:u", 100, ttl=60) is True
    assert await counters.open("user:o:u", 100, ttl=60) is False  # someone else opened it
    await counters.add("user:o:u", 100, 250)
    assert await counters.read([("user:o:u", 100), ("user:o:u", 200), ("org:o:o", 100)]) == [250, None, None]


async def test_a_stored_turn_counts_in_every_open_period_it_falls_in(counters: SpendCounters) -> None:
    await counters.open("user:o:u", 200, ttl=60)
    await counters.open("user:o:u", 100, ttl=60)  # a process that still has an older budget opens its period
    await counters.record([Spent("user:o:u", 150, 7), Spent("user:o:u", 200, 5), Spent("user:o:u", 99, 1000)])
    # 150 is in the period from 100, not yet in the one from 200; 99 is in neither.
    assert await counters.read([("user:o:u", 100), ("user:o:u", 200)]) == [12, 5]


async def test_a_new_period_drops_the_ones_before_it(counters: SpendCounters) -> None:
    await counters.open("user:o:u", 100, ttl=60)
    await counters.add("user:o:u", 100, 9)
    assert await counters.open("user:o:u", 200, ttl=60) is True
    await counters.record([Spent("user:o:u", 250, 1)])
    assert await counters.read([("user:o:u", 100), ("user:o:u", 200)]) == [None, 1]


async def test_nothing_is_counted_for_a_subject_nobody_checks(counters: SpendCounters) -> None:
    await counters.record([Spent("api_key:o:k", 150, 7)])
    assert await counters.read([("api_key:o:k", 100)]) == [None]
    await counters.add("api_key:o:k", 100, 3)  # a counter that is not open stays closed
    assert await counters.read([("api_key:o:k", 100)]) == [None]


async def test_a_counter_expires_to_be_rebuilt(counters: SpendCounters) -> None:
    await counters.open("org:o:o", 100, ttl=0.2)
    await counters.add("org:o:o", 100, 1)
    assert await counters.read([("org:o:o", 100)]) == [1]
    await asyncio.sleep(0.35)
    assert await counters.read([("org:o:o", 100)]) == [None]


async def test_many_increments_at_once_are_all_counted(counters: SpendCounters) -> None:
    await counters.open("user:o:u", 100, ttl=60)
    await asyncio.gather(*(counters.record([Spent("user:o:u", 101, 3)]) for _ in range(50)))
    assert await counters.read([("user:o:u", 100)]) == [150]


def test_units_are_exact_hundred_millionths_of_a_dollar() -> None:
    assert to_units(Decimal("0.00081")) == 81_000
    assert from_units(81_000) == Decimal("0.00081000")
    assert to_units(Decimal("12345.67891234")) == 1_234_567_891_234
    assert from_units(to_units(Decimal("0.1")) + to_units(Decimal("0.2"))) == Decimal("0.3")
