"""Contract for the bus's versioned values: both backends refuse a write decided on a value
that changed meanwhile."""

from __future__ import annotations

import asyncio

from agenthub.bus import Bus


async def test_first_write_needs_version_zero_and_stores_version_one(bus: Bus) -> None:
    assert await bus.compare_and_set("cas:a", {"v": "first"}, version=1) is False
    assert await bus.get("cas:a") is None

    assert await bus.compare_and_set("cas:a", {"v": "first"}, version=0) is True

    assert await bus.get("cas:a") == {"v": "first", "version": 1}


async def test_a_write_decided_on_an_older_version_is_refused(bus: Bus) -> None:
    await bus.compare_and_set("cas:b", {"v": "one"}, version=0)
    assert await bus.compare_and_set("cas:b", {"v": "two"}, version=1) is True

    assert await bus.compare_and_set("cas:b", {"v": "late"}, version=1) is False

    assert await bus.get("cas:b") == {"v": "two", "version": 2}


async def test_a_value_written_without_a_version_counts_as_version_zero(bus: Bus) -> None:
    await bus.set("cas:c", {"v": "plain"})

    assert await bus.compare_and_set("cas:c", {"v": "versioned"}, version=0) is True
    assert await bus.get("cas:c") == {"v": "versioned", "version": 1}


async def test_the_value_expires_after_its_ttl(bus: Bus) -> None:
    await bus.compare_and_set("cas:d", {"v": "brief"}, version=0, ttl=0.05)

    async def gone() -> None:
        while await bus.get("cas:d") is not None:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(gone(), timeout=5)


async def test_concurrent_increments_lose_nothing(bus: Bus) -> None:
    async def increment() -> None:
        while True:
            current = await bus.get("cas:counter") or {}
            count = int(current.get("count", 0))
            if await bus.compare_and_set(
                "cas:counter", {"count": count + 1}, version=int(current.get("version") or 0)
            ):
                return

    await asyncio.gather(*(increment() for _ in range(40)))

    assert (await bus.get("cas:counter") or {})["count"] == 40
