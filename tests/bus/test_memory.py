"""The in-process bus keeps its memory flat: keys with a TTL go once it has passed, even
when nothing reads them again (a reply marker per answered message, an added marker per
inbound message)."""

from __future__ import annotations

import asyncio

from agenthub.bus.memory import MemoryBus


async def test_expired_keys_are_dropped_without_being_read() -> None:
    bus = MemoryBus()
    for n in range(1000):
        await bus.set(f"agent:{{a}}:reply:{n}", {"n": n}, ttl=0.05)
    assert await bus.add_once("agent:{a}:input", {"text": "hi"}, key="agent:{a}:added:m1", ttl=0.05)
    await bus.set("lease", {"holder": "me"})  # no TTL: stays
    await asyncio.sleep(0.1)

    await bus.set("agent:{a}:reply:fresh", {"n": -1}, ttl=60)

    # What the process still holds: the key without a TTL and the fresh one.
    assert sorted(bus._keys) == ["agent:{a}:reply:fresh", "lease"]
    assert await bus.get("agent:{a}:reply:fresh") == {"n": -1}
    assert await bus.get("agent:{a}:reply:5") is None


async def test_a_key_whose_ttl_was_renewed_is_kept() -> None:
    bus = MemoryBus()
    await bus.set("lease", {"holder": "me"}, ttl=0.05)
    await bus.expire("lease", 60)
    await bus.set("other", {}, ttl=0.01)
    await asyncio.sleep(0.1)
    await bus.set("trigger", {}, ttl=60)
    assert await bus.get("lease") == {"holder": "me"}
