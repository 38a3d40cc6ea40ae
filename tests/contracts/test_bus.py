"""Contract suite for the bus: every test runs on MemoryBus and on RedisBus (the ``bus``
fixture in ``tests/conftest.py``), so the two backends behave the same for their users."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from agenthub.bus import Bus, Entry, StreamRetention, open_bus

GROUP = "workers"

# Generous bounds for the timing tests: long enough for a busy CI box, short enough to
# keep every test well under a second.
QUICK = 0.5
"""A blocking read woken by an add must return well before this many seconds."""


async def _add_all(bus: Bus, stream: str, count: int) -> list[str]:
    return [await bus.add(stream, {"n": n}) for n in range(count)]


def _numbers(entries: list[Entry]) -> list[int]:
    return [entry.payload["n"] for entry in entries]


# --- streams -------------------------------------------------------------------------------


async def test_read_returns_new_entries_in_order_with_payloads(bus: Bus) -> None:
    await bus.ensure_group("jobs", GROUP)
    ids = await _add_all(bus, "jobs", 3)

    entries = await bus.read({"jobs": ">"}, GROUP, "c1")

    assert [entry.id for entry in entries] == ids
    assert _numbers(entries) == [0, 1, 2]
    assert all(entry.stream == "jobs" for entry in entries)
    # Delivered once: a second read for new entries finds nothing.
    assert await bus.read({"jobs": ">"}, GROUP, "c1") == []


async def test_entry_ids_increase(bus: Bus) -> None:
    ids = await _add_all(bus, "jobs", 5)

    def key(entry_id: str) -> tuple[int, int]:
        ms, _, seq = entry_id.partition("-")
        return int(ms), int(seq)

    assert len(set(ids)) == 5
    assert [key(i) for i in ids] == sorted(key(i) for i in ids)


async def test_add_once_adds_a_key_once_until_it_expires(bus: Bus) -> None:
    await bus.ensure_group("jobs", GROUP)
    first = await bus.add_once("jobs", {"n": 1}, key="jobs-added:m1", ttl=0.3)
    again = await bus.add_once("jobs", {"n": 1}, key="jobs-added:m1", ttl=0.3)
    other = await bus.add_once("jobs", {"n": 2}, key="jobs-added:m2", ttl=0.3)
    await bus.batch().add_once("jobs", {"n": 1}, key="jobs-added:m1", ttl=0.3).execute()

    assert first and other and again is None
    assert _numbers(await bus.read({"jobs": ">"}, GROUP, "c1")) == [1, 2]
    await asyncio.sleep(0.4)
    assert await bus.add_once("jobs", {"n": 3}, key="jobs-added:m1", ttl=0.3)
    assert _numbers(await bus.read({"jobs": ">"}, GROUP, "c1")) == [3]


async def test_read_respects_count(bus: Bus) -> None:
    await bus.ensure_group("jobs", GROUP)
    await _add_all(bus, "jobs", 5)

    first = await bus.read({"jobs": ">"}, GROUP, "c1", count=2)
    rest = await bus.read({"jobs": ">"}, GROUP, "c1", count=10)

    assert _numbers(first) == [0, 1]
    assert _numbers(rest) == [2, 3, 4]


async def test_group_created_after_entries_still_gets_them(bus: Bus) -> None:
    await _add_all(bus, "jobs", 2)
    await bus.ensure_group("jobs", GROUP)

    assert _numbers(await bus.read({"jobs": ">"}, GROUP, "c1")) == [0, 1]


async def test_ensure_group_is_idempotent_and_keeps_position(bus: Bus) -> None:
    await bus.ensure_group("jobs", GROUP)
    await _add_all(bus, "jobs", 2)
    assert _numbers(await bus.read({"jobs": ">"}, GROUP, "c1")) == [0, 1]

    await bus.ensure_group("jobs", GROUP)  # e.g. a restarted worker: no error, no rewind

    assert await bus.read({"jobs": ">"}, GROUP, "c1") == []
    assert await bus.pending_count("jobs", GROUP) == 2


async def test_ensure_group_on_missing_stream_allows_reading(bus: Bus) -> None:
    await bus.ensure_group("empty", GROUP)

    assert await bus.read({"empty": ">"}, GROUP, "c1") == []
    assert await bus.pending_count("empty", GROUP) == 0


async def test_read_zero_redelivers_unacked_until_ack(bus: Bus) -> None:
    """A consumer that crashed before acking finds its entries again on restart."""
    await bus.ensure_group("jobs", GROUP)
    ids = await _add_all(bus, "jobs", 3)
    await bus.read({"jobs": ">"}, GROUP, "owner")

    # "Restart": the same consumer name reads its own history.
    again = await bus.read({"jobs": "0"}, GROUP, "owner")
    assert [entry.id for entry in again] == ids
    assert _numbers(again) == [0, 1, 2]
    # Reading history does not consume it.
    assert _numbers(await bus.read({"jobs": "0"}, GROUP, "owner")) == [0, 1, 2]

    await bus.ack("jobs", GROUP, ids[0], ids[2])
    assert _numbers(await bus.read({"jobs": "0"}, GROUP, "owner")) == [1]

    await bus.ack("jobs", GROUP, ids[1])
    assert await bus.read({"jobs": "0"}, GROUP, "owner") == []
    assert await bus.pending_count("jobs", GROUP) == 0


async def test_read_zero_returns_only_this_consumers_entries(bus: Bus) -> None:
    await bus.ensure_group("jobs", GROUP)
    await _add_all(bus, "jobs", 2)
    await bus.read({"jobs": ">"}, GROUP, "a", count=1)
    await bus.read({"jobs": ">"}, GROUP, "b", count=1)

    assert _numbers(await bus.read({"jobs": "0"}, GROUP, "a")) == [0]
    assert _numbers(await bus.read({"jobs": "0"}, GROUP, "b")) == [1]
    assert await bus.read({"jobs": "0"}, GROUP, "nobody") == []


async def test_acked_entries_are_not_delivered_again(bus: Bus) -> None:
    await bus.ensure_group("jobs", GROUP)
    ids = await _add_all(bus, "jobs", 2)
    await bus.read({"jobs": ">"}, GROUP, "c1")
    await bus.ack("jobs", GROUP, *ids)
    await bus.add("jobs", {"n": 2})

    assert _numbers(await bus.read({"jobs": ">"}, GROUP, "c1")) == [2]
    assert await bus.read({"jobs": "0"}, GROUP, "c2") == []


async def test_two_consumers_split_the_entries(bus: Bus) -> None:
    await bus.ensure_group("jobs", GROUP)
    ids = await _add_all(bus, "jobs", 6)

    first = await bus.read({"jobs": ">"}, GROUP, "a", count=3)
    second = await bus.read({"jobs": ">"}, GROUP, "b", count=10)
    assert await bus.read({"jobs": ">"}, GROUP, "a") == []

    first_ids = {entry.id for entry in first}
    second_ids = {entry.id for entry in second}
    assert first_ids and second_ids
    assert first_ids.isdisjoint(second_ids)
    assert first_ids | second_ids == set(ids)


async def test_two_consumers_reading_concurrently_never_share_an_entry(bus: Bus) -> None:
    await bus.ensure_group("jobs", GROUP)
    ids = await _add_all(bus, "jobs", 20)

    async def drain(consumer: str) -> list[str]:
        got: list[str] = []
        while batch := await bus.read({"jobs": ">"}, GROUP, consumer, count=3):
            got += [entry.id for entry in batch]
            await asyncio.sleep(0)
        return got

    a, b = await asyncio.gather(drain("a"), drain("b"))

    assert sorted(a + b) == sorted(ids)
    assert not set(a) & set(b)


async def test_pending_count_tracks_delivered_unacked_entries(bus: Bus) -> None:
    await bus.ensure_group("jobs", GROUP)
    ids = await _add_all(bus, "jobs", 3)
    assert await bus.pending_count("jobs", GROUP) == 0  # added but not yet delivered

    await bus.read({"jobs": ">"}, GROUP, "a", count=2)
    assert await bus.pending_count("jobs", GROUP) == 2
    await bus.read({"jobs": ">"}, GROUP, "b")
    assert await bus.pending_count("jobs", GROUP) == 3

    await bus.ack("jobs", GROUP, ids[1])
    assert await bus.pending_count("jobs", GROUP) == 2
    await bus.ack("jobs", GROUP, ids[0], ids[2])
    assert await bus.pending_count("jobs", GROUP) == 0


async def test_pending_count_of_missing_stream_or_group_is_zero(bus: Bus) -> None:
    assert await bus.pending_count("nothing-here", GROUP) == 0
    await bus.ensure_group("jobs", GROUP)
    assert await bus.pending_count("jobs", "other-group") == 0


async def test_ack_of_unknown_ids_is_harmless(bus: Bus) -> None:
    await bus.ensure_group("jobs", GROUP)
    ids = await _add_all(bus, "jobs", 1)
    await bus.read({"jobs": ">"}, GROUP, "c1")

    await bus.ack("jobs", GROUP)  # no ids
    await bus.ack("jobs", GROUP, ids[0])
    await bus.ack("jobs", GROUP, ids[0])  # twice

    assert await bus.pending_count("jobs", GROUP) == 0


async def test_claim_stale_takes_only_entries_idle_longer_than_min_idle(bus: Bus) -> None:
    await bus.ensure_group("jobs", GROUP)
    await _add_all(bus, "jobs", 2)
    await bus.read({"jobs": ">"}, GROUP, "dead", count=1)  # n=0, will go stale

    await asyncio.sleep(0.25)
    await bus.read({"jobs": ">"}, GROUP, "alive", count=1)  # n=1, fresh

    # Nothing has been idle for 10 s.
    assert await bus.claim_stale("jobs", GROUP, "rescuer", min_idle_ms=10_000) == []

    claimed = await bus.claim_stale("jobs", GROUP, "rescuer", min_idle_ms=150)
    assert _numbers(claimed) == [0]
    assert claimed[0].stream == "jobs"

    # The entry now belongs to the rescuer, not to the dead consumer.
    assert _numbers(await bus.read({"jobs": "0"}, GROUP, "rescuer")) == [0]
    assert await bus.read({"jobs": "0"}, GROUP, "dead") == []
    assert _numbers(await bus.read({"jobs": "0"}, GROUP, "alive")) == [1]
    assert await bus.pending_count("jobs", GROUP) == 2

    # Claiming resets the idle time: an immediate second claim finds nothing.
    assert await bus.claim_stale("jobs", GROUP, "other", min_idle_ms=150) == []


async def test_claim_stale_skips_acknowledged_entries(bus: Bus) -> None:
    await bus.ensure_group("jobs", GROUP)
    ids = await _add_all(bus, "jobs", 2)
    await bus.read({"jobs": ">"}, GROUP, "dead")
    await bus.ack("jobs", GROUP, ids[0])
    await asyncio.sleep(0.05)

    claimed = await bus.claim_stale("jobs", GROUP, "rescuer", min_idle_ms=10)

    assert [entry.id for entry in claimed] == [ids[1]]


async def test_claim_stale_respects_count(bus: Bus) -> None:
    await bus.ensure_group("jobs", GROUP)
    await _add_all(bus, "jobs", 3)
    await bus.read({"jobs": ">"}, GROUP, "dead")
    await asyncio.sleep(0.05)

    first = await bus.claim_stale("jobs", GROUP, "rescuer", min_idle_ms=10, count=2)

    assert _numbers(first) == [0, 1]
    assert _numbers(await bus.read({"jobs": "0"}, GROUP, "dead")) == [2]


async def test_blocking_read_returns_as_soon_as_an_entry_is_added(bus: Bus) -> None:
    await bus.ensure_group("jobs", GROUP)

    async def add_later() -> None:
        await asyncio.sleep(0.05)
        await bus.add("jobs", {"n": 7})

    started = time.monotonic()
    adder = asyncio.create_task(add_later())
    entries = await bus.read({"jobs": ">"}, GROUP, "c1", block_ms=5_000)
    elapsed = time.monotonic() - started
    await adder

    assert _numbers(entries) == [7]
    assert elapsed < QUICK


async def test_blocking_read_wakes_for_any_of_several_streams(bus: Bus) -> None:
    await bus.ensure_group("a", GROUP)
    await bus.ensure_group("b", GROUP)

    async def add_later() -> None:
        await asyncio.sleep(0.05)
        await bus.add("b", {"n": 1})

    started = time.monotonic()
    adder = asyncio.create_task(add_later())
    entries = await bus.read({"a": ">", "b": ">"}, GROUP, "c1", block_ms=5_000)
    elapsed = time.monotonic() - started
    await adder

    assert [(entry.stream, entry.payload) for entry in entries] == [("b", {"n": 1})]
    assert elapsed < QUICK


async def test_blocking_read_returns_empty_after_timeout(bus: Bus) -> None:
    await bus.ensure_group("jobs", GROUP)

    started = time.monotonic()
    entries = await bus.read({"jobs": ">"}, GROUP, "c1", block_ms=150)
    elapsed = time.monotonic() - started

    assert entries == []
    assert 0.1 <= elapsed < 0.15 + QUICK


async def test_non_blocking_read_returns_empty_immediately(bus: Bus) -> None:
    await bus.ensure_group("jobs", GROUP)

    started = time.monotonic()
    assert await bus.read({"jobs": ">"}, GROUP, "c1") == []
    assert time.monotonic() - started < QUICK


async def test_blocking_read_with_entries_waiting_returns_immediately(bus: Bus) -> None:
    await bus.ensure_group("jobs", GROUP)
    await _add_all(bus, "jobs", 1)

    started = time.monotonic()
    entries = await bus.read({"jobs": ">"}, GROUP, "c1", block_ms=5_000)

    assert _numbers(entries) == [0]
    assert time.monotonic() - started < QUICK


async def test_read_several_streams_names_each_entry_by_its_stream(bus: Bus) -> None:
    for name in ("agent:{1}:input", "agent:{2}:input"):
        await bus.ensure_group(name, GROUP)
    await bus.add("agent:{1}:input", {"to": 1, "n": 0})
    await bus.add("agent:{2}:input", {"to": 2, "n": 0})
    await bus.add("agent:{1}:input", {"to": 1, "n": 1})

    entries = await bus.read(
        {"agent:{1}:input": ">", "agent:{2}:input": ">"}, GROUP, "c1"
    )

    by_stream: dict[str, list[dict[str, int]]] = {}
    for entry in entries:
        by_stream.setdefault(entry.stream, []).append(entry.payload)
    assert by_stream == {
        "agent:{1}:input": [{"to": 1, "n": 0}, {"to": 1, "n": 1}],
        "agent:{2}:input": [{"to": 2, "n": 0}],
    }


async def test_read_several_streams_mixing_new_and_history(bus: Bus) -> None:
    await bus.ensure_group("a", GROUP)
    await bus.ensure_group("b", GROUP)
    await bus.add("a", {"n": 0})
    await bus.read({"a": ">"}, GROUP, "c1")  # a:0 now pending for c1
    await bus.add("b", {"n": 1})

    entries = await bus.read({"a": "0", "b": ">"}, GROUP, "c1")

    assert sorted((entry.stream, entry.payload["n"]) for entry in entries) == [
        ("a", 0),
        ("b", 1),
    ]


async def test_streams_are_independent(bus: Bus) -> None:
    await bus.ensure_group("a", GROUP)
    await bus.ensure_group("b", GROUP)
    await bus.add("a", {"n": 0})

    assert await bus.read({"b": ">"}, GROUP, "c1") == []
    assert _numbers(await bus.read({"a": ">"}, GROUP, "c1")) == [0]


async def test_read_on_a_missing_group_creates_it_and_delivers_from_the_start(bus: Bus) -> None:
    """A group that vanished (Redis restarted without its data) is created again by the
    next read, which then gets every entry the stream holds."""
    await bus.add("jobs", {"n": 0})  # stream exists, group does not

    assert _numbers(await bus.read({"jobs": ">"}, "no-such-group", "c1")) == [0]
    assert await bus.pending_count("jobs", "no-such-group") == 1


async def test_read_on_a_missing_stream_creates_it(bus: Bus) -> None:
    assert await bus.read({"never-created": ">"}, GROUP, "c1") == []
    await bus.add("never-created", {"n": 1})
    assert _numbers(await bus.read({"never-created": ">"}, GROUP, "c1", block_ms=100)) == [1]


async def test_blocking_read_on_a_missing_group_returns_what_is_there(bus: Bus) -> None:
    await bus.add("jobs", {"n": 0})

    assert _numbers(await bus.read({"jobs": ">"}, "no-such-group", "c1", block_ms=100)) == [0]


async def test_claim_on_a_missing_group_finds_nothing_and_creates_it(bus: Bus) -> None:
    await bus.add("jobs", {"n": 0})

    assert await bus.claim_stale("jobs", "no-such-group", "c1", min_idle_ms=0) == []
    assert _numbers(await bus.read({"jobs": ">"}, "no-such-group", "c1")) == [0]


async def test_groups_on_different_streams_with_same_name_are_separate(bus: Bus) -> None:
    await bus.ensure_group("a", GROUP)
    await bus.add("a", {"n": 0})
    await bus.read({"a": ">"}, GROUP, "c1")
    await bus.ensure_group("b", GROUP)

    assert await bus.pending_count("a", GROUP) == 1
    assert await bus.pending_count("b", GROUP) == 0


# --- pub/sub -------------------------------------------------------------------------------


async def test_subscriber_receives_published_payloads_in_order(bus: Bus) -> None:
    subscription = await bus.subscribe("out")
    try:
        for n in range(5):
            await bus.publish("out", {"n": n, "nested": {"list": [n, {"x": "y"}]}})

        received = [await subscription.get(timeout=1) for _ in range(5)]

        assert received == [
            {"n": n, "nested": {"list": [n, {"x": "y"}]}} for n in range(5)
        ]
    finally:
        await subscription.close()


async def test_subscription_iterates_messages(bus: Bus) -> None:
    subscription = await bus.subscribe("out")
    try:
        for n in range(3):
            await bus.publish("out", {"n": n})

        received: list[int] = []

        async def collect() -> None:
            async for message in subscription:
                received.append(message["n"])
                if len(received) == 3:
                    return

        await asyncio.wait_for(collect(), 1)
        assert received == [0, 1, 2]
    finally:
        await subscription.close()


async def test_get_waits_for_a_message_published_later(bus: Bus) -> None:
    subscription = await bus.subscribe("out")
    try:

        async def publish_later() -> None:
            await asyncio.sleep(0.05)
            await bus.publish("out", {"late": True})

        publisher = asyncio.create_task(publish_later())
        started = time.monotonic()
        message = await subscription.get(timeout=2)
        await publisher

        assert message == {"late": True}
        assert time.monotonic() - started < QUICK
    finally:
        await subscription.close()


async def test_two_subscribers_both_receive(bus: Bus) -> None:
    first = await bus.subscribe("out")
    second = await bus.subscribe("out")
    try:
        await bus.publish("out", {"n": 1})
        await bus.publish("out", {"n": 2})

        assert [await first.get(timeout=1) for _ in range(2)] == [{"n": 1}, {"n": 2}]
        assert [await second.get(timeout=1) for _ in range(2)] == [{"n": 1}, {"n": 2}]
    finally:
        await first.close()
        await second.close()


async def test_subscription_to_several_channels(bus: Bus) -> None:
    subscription = await bus.subscribe("x", "y")
    try:
        await bus.publish("x", {"from": "x"})
        await bus.publish("y", {"from": "y"})
        await bus.publish("z", {"from": "z"})

        assert await subscription.get(timeout=1) == {"from": "x"}
        assert await subscription.get(timeout=1) == {"from": "y"}
        assert await subscription.get(timeout=0.2) is None
    finally:
        await subscription.close()


async def test_subscriber_does_not_receive_other_channels(bus: Bus) -> None:
    subscription = await bus.subscribe("mine")
    try:
        await bus.publish("other", {"n": 1})

        assert await subscription.get(timeout=0.2) is None
    finally:
        await subscription.close()


async def test_after_close_nothing_more_is_delivered(bus: Bus) -> None:
    closed = await bus.subscribe("out")
    witness = await bus.subscribe("out")
    try:
        await bus.publish("out", {"n": 0})
        assert await witness.get(timeout=1) == {"n": 0}
        await closed.close()  # with {"n": 0} still unread: dropped too
        await bus.publish("out", {"n": 1})

        # The publish went out (the open subscriber sees it) ...
        assert await witness.get(timeout=1) == {"n": 1}
        # ... but the closed one gets nothing.
        assert await closed.get(timeout=0.2) is None
    finally:
        await witness.close()


async def test_close_twice_is_harmless(bus: Bus) -> None:
    subscription = await bus.subscribe("out")
    await subscription.close()
    await subscription.close()


async def test_get_returns_none_when_nothing_comes(bus: Bus) -> None:
    subscription = await bus.subscribe("quiet")
    try:
        started = time.monotonic()
        assert await subscription.get(timeout=0.2) is None
        elapsed = time.monotonic() - started
        # None means the timeout passed, not that get gave up early.
        assert 0.15 <= elapsed < 0.2 + QUICK
    finally:
        await subscription.close()


async def test_message_published_before_subscribe_is_not_received(bus: Bus) -> None:
    await bus.publish("out", {"n": "early"})
    subscription = await bus.subscribe("out")
    try:
        await bus.publish("out", {"n": "late"})

        assert await subscription.get(timeout=1) == {"n": "late"}
        assert await subscription.get(timeout=0.2) is None
    finally:
        await subscription.close()


async def test_publish_with_no_subscribers_is_harmless(bus: Bus) -> None:
    await bus.publish("nobody-listens", {"n": 1})


# --- keys ----------------------------------------------------------------------------------


NESTED = {
    "status": "running",
    "count": 3,
    "ratio": 0.5,
    "ok": True,
    "missing": None,
    "tags": ["a", "b"],
    "inner": {"list": [1, {"deep": "x"}], "empty": {}},
    "unicode": "héllo ✓",
}


async def test_set_get_round_trips_nested_json(bus: Bus) -> None:
    assert await bus.set("status", NESTED) is True

    assert await bus.get("status") == NESTED


async def test_get_missing_key_is_none(bus: Bus) -> None:
    assert await bus.get("nope") is None


async def test_set_overwrites(bus: Bus) -> None:
    await bus.set("k", {"v": 1})
    assert await bus.set("k", {"v": 2}) is True

    assert await bus.get("k") == {"v": 2}


async def test_ttl_expires_the_key(bus: Bus) -> None:
    await bus.set("short", {"v": 1}, ttl=0.2)
    await bus.set("long", {"v": 2})
    assert await bus.get("short") == {"v": 1}

    await asyncio.sleep(0.35)

    assert await bus.get("short") is None
    assert await bus.get_many(["short", "long"]) == [None, {"v": 2}]


async def test_overwrite_without_ttl_keeps_key_forever(bus: Bus) -> None:
    await bus.set("k", {"v": 1}, ttl=0.2)
    await bus.set("k", {"v": 2})

    await asyncio.sleep(0.35)

    assert await bus.get("k") == {"v": 2}


async def test_only_if_absent_keeps_the_old_value(bus: Bus) -> None:
    assert await bus.set("lease", {"owner": "a"}, only_if_absent=True) is True
    assert await bus.set("lease", {"owner": "b"}, only_if_absent=True) is False

    assert await bus.get("lease") == {"owner": "a"}


async def test_only_if_absent_succeeds_once_the_old_value_expired(bus: Bus) -> None:
    assert await bus.set("lease", {"owner": "a"}, ttl=0.2, only_if_absent=True) is True
    await asyncio.sleep(0.35)

    assert await bus.set("lease", {"owner": "b"}, ttl=5, only_if_absent=True) is True
    assert await bus.get("lease") == {"owner": "b"}


async def test_only_if_absent_succeeds_after_delete(bus: Bus) -> None:
    await bus.set("lease", {"owner": "a"})
    await bus.delete("lease")

    assert await bus.set("lease", {"owner": "b"}, only_if_absent=True) is True
    assert await bus.get("lease") == {"owner": "b"}


async def test_get_many_returns_none_in_place_of_missing_keys(bus: Bus) -> None:
    await bus.set("a", {"v": "a"})
    await bus.set("c", {"v": "c"})

    assert await bus.get_many(["a", "b", "c", "d"]) == [{"v": "a"}, None, {"v": "c"}, None]
    assert await bus.get_many(["c", "a", "c"]) == [{"v": "c"}, {"v": "a"}, {"v": "c"}]
    assert await bus.get_many([]) == []


async def test_delete(bus: Bus) -> None:
    await bus.set("a", {"v": 1})
    await bus.set("b", {"v": 2})
    await bus.set("c", {"v": 3})

    await bus.delete("a", "b", "never-existed")

    assert await bus.get_many(["a", "b", "c"]) == [None, None, {"v": 3}]
    await bus.delete()  # no keys: harmless


async def test_compare_and_delete_deletes_only_on_a_matching_field(bus: Bus) -> None:
    await bus.set("lease", {"owner": "host-a", "since": 1})

    assert await bus.compare_and_delete("lease", "owner", "host-b") is False
    assert await bus.get("lease") == {"owner": "host-a", "since": 1}

    assert await bus.compare_and_delete("lease", "missing-field", "host-a") is False
    assert await bus.get("lease") is not None

    assert await bus.compare_and_delete("lease", "owner", "host-a") is True
    assert await bus.get("lease") is None

    assert await bus.compare_and_delete("lease", "owner", "host-a") is False
    assert await bus.compare_and_delete("never-existed", "owner", "host-a") is False


async def test_compare_and_delete_compares_strings_not_numbers(bus: Bus) -> None:
    await bus.set("lease", {"owner": 1})

    assert await bus.compare_and_delete("lease", "owner", "1") is False
    assert await bus.get("lease") == {"owner": 1}


async def test_expire_sets_a_ttl_on_an_existing_key(bus: Bus) -> None:
    await bus.set("k", {"v": 1})
    await bus.set("other", {"v": 2})

    await bus.expire("k", 0.2)
    assert await bus.get("k") == {"v": 1}
    await asyncio.sleep(0.35)

    assert await bus.get("k") is None
    assert await bus.get("other") == {"v": 2}


async def test_expire_extends_a_ttl(bus: Bus) -> None:
    """Renewing a lease keeps it alive past its first deadline."""
    await bus.set("lease", {"owner": "a"}, ttl=0.2)
    await bus.expire("lease", 5)

    await asyncio.sleep(0.35)

    assert await bus.get("lease") == {"owner": "a"}


async def test_expire_on_missing_key_does_not_create_it(bus: Bus) -> None:
    await bus.expire("ghost", 5)

    assert await bus.get("ghost") is None
    assert await bus.set("ghost", {"v": 1}, only_if_absent=True) is True


async def test_set_add_members_remove(bus: Bus) -> None:
    assert await bus.set_members("workers") == set()

    await bus.set_add("workers", "w1", "w2")
    await bus.set_add("workers", "w2", "w3")  # duplicates collapse
    assert await bus.set_members("workers") == {"w1", "w2", "w3"}

    await bus.set_remove("workers", "w2", "not-a-member")
    assert await bus.set_members("workers") == {"w1", "w3"}

    await bus.set_remove("workers", "w1", "w3")
    assert await bus.set_members("workers") == set()

    await bus.set_add("workers")  # no members: harmless
    await bus.set_remove("workers")
    assert await bus.set_members("workers") == set()


async def test_set_members_returns_a_copy(bus: Bus) -> None:
    await bus.set_add("workers", "w1")

    members = await bus.set_members("workers")
    members.add("intruder")

    assert await bus.set_members("workers") == {"w1"}


async def test_set_can_expire(bus: Bus) -> None:
    await bus.set_add("workers", "w1")
    await bus.expire("workers", 0.2)
    await asyncio.sleep(0.35)

    assert await bus.set_members("workers") == set()


async def test_set_add_keeps_the_sets_ttl(bus: Bus) -> None:
    await bus.set_add("workers", "w1")
    await bus.expire("workers", 0.2)
    await bus.set_add("workers", "w2")
    await asyncio.sleep(0.35)

    assert await bus.set_members("workers") == set()


async def test_delete_removes_a_set(bus: Bus) -> None:
    await bus.set_add("workers", "w1")
    await bus.delete("workers")

    assert await bus.set_members("workers") == set()


# --- payload isolation ---------------------------------------------------------------------


async def test_mutating_a_payload_after_add_does_not_change_the_entry(bus: Bus) -> None:
    await bus.ensure_group("jobs", GROUP)
    payload = {"text": "original", "inner": {"list": [1]}}
    await bus.add("jobs", payload)

    payload["text"] = "changed"
    payload["inner"]["list"].append(2)

    [entry] = await bus.read({"jobs": ">"}, GROUP, "c1")
    assert entry.payload == {"text": "original", "inner": {"list": [1]}}


async def test_mutating_a_read_payload_does_not_change_redelivery(bus: Bus) -> None:
    await bus.ensure_group("jobs", GROUP)
    await bus.add("jobs", {"text": "original", "inner": {"list": [1]}})

    [entry] = await bus.read({"jobs": ">"}, GROUP, "c1")
    entry.payload["text"] = "changed"
    entry.payload["inner"]["list"].append(2)

    [again] = await bus.read({"jobs": "0"}, GROUP, "c1")
    assert again.payload == {"text": "original", "inner": {"list": [1]}}


async def test_mutating_a_payload_after_publish_does_not_change_the_message(bus: Bus) -> None:
    first = await bus.subscribe("out")
    second = await bus.subscribe("out")
    try:
        payload = {"text": "original", "inner": {"list": [1]}}
        await bus.publish("out", payload)
        payload["text"] = "changed"
        payload["inner"]["list"].append(2)

        received = await first.get(timeout=1)
        assert received == {"text": "original", "inner": {"list": [1]}}
        # One subscriber mutating its copy doesn't affect another's.
        assert received is not None
        received["inner"]["list"].append(3)
        assert await second.get(timeout=1) == {"text": "original", "inner": {"list": [1]}}
    finally:
        await first.close()
        await second.close()


async def test_mutating_a_value_after_set_or_get_does_not_change_the_key(bus: Bus) -> None:
    value = {"text": "original", "inner": {"list": [1]}}
    await bus.set("k", value)
    value["text"] = "changed"
    value["inner"]["list"].append(2)

    got = await bus.get("k")
    assert got == {"text": "original", "inner": {"list": [1]}}
    assert got is not None
    got["inner"]["list"].append(3)
    [many] = await bus.get_many(["k"])
    assert many is not None
    many["text"] = "also changed"

    assert await bus.get("k") == {"text": "original", "inner": {"list": [1]}}


# --- lifecycle -----------------------------------------------------------------------------


async def test_ping(bus: Bus) -> None:
    await bus.ping()


async def test_name(bus: Bus) -> None:
    assert bus.name in {"memory", "redis"}


# --- batches ----------------------------------------------------------------------------------


async def test_a_batch_applies_its_writes_in_order(bus: Bus) -> None:
    await bus.ensure_group("in", "g")
    await bus.ensure_group("out", "g")
    await bus.add("in", {"n": 1})
    (delivered,) = await bus.read({"in": ">"}, "g", "c")
    subscription = await bus.subscribe("chan")
    try:
        await (
            bus.batch()
            .add("out", {"kind": "history"})
            .set("marker", {"done": True}, ttl=30)
            .publish("chan", {"kind": "final"})
            .ack("in", "g", delivered.id)
            .execute()
        )
        assert [e.payload for e in await bus.read({"out": ">"}, "g", "c")] == [{"kind": "history"}]
        assert await bus.get("marker") == {"done": True}
        assert await subscription.get(timeout=1) == {"kind": "final"}
        assert await bus.pending_count("in", "g") == 0
        assert await bus.read({"in": "0"}, "g", "c") == []
    finally:
        await subscription.close()


async def test_a_batch_adds_once_by_key_and_acknowledges_several_entries(bus: Bus) -> None:
    await bus.ensure_group("in", "g")
    await bus.ensure_group("out", "g")
    for n in range(3):
        await bus.add("in", {"n": n})
    delivered = await bus.read({"in": ">"}, "g", "c")
    for _ in range(2):  # a delivery retried: the second adds nothing
        await (bus.batch().add_once("out", {"n": 1}, key="out-added:m1", ttl=30)
               .ack("in", "g", *(entry.id for entry in delivered)).ack("in", "g").execute())
    assert [e.payload for e in await bus.read({"out": ">"}, "g", "c")] == [{"n": 1}]
    assert await bus.pending_count("in", "g") == 0


async def test_an_empty_batch_does_nothing(bus: Bus) -> None:
    await bus.batch().execute()
    assert await bus.get("anything") is None


async def test_a_batch_with_a_payload_that_cannot_be_encoded_applies_none_of_it(bus: Bus) -> None:
    await bus.ensure_group("out", "g")
    batch = (
        bus.batch()
        .add("out", {"n": 1})
        .add_once("out", {"n": 2}, key="out-added:m2", ttl=30)
        .add_once("out", {"text": "\ud800"}, key="out-added:m3", ttl=30)
    )
    with pytest.raises(TypeError):
        await batch.execute()
    assert await bus.read({"out": ">"}, "g", "c") == []
    assert await bus.get("out-added:m2") is None
    assert await bus.get("out-added:m3") is None
    # Nothing left behind: the same messages go on when written again.
    await bus.batch().add_once("out", {"n": 2}, key="out-added:m2", ttl=30).execute()
    assert [e.payload for e in await bus.read({"out": ">"}, "g", "c")] == [{"n": 2}]


# --- several readers, retention, dead-letter support ---------------------------------------


async def test_two_groups_on_one_stream_each_receive_every_entry(bus: Bus) -> None:
    """Acknowledging in one group deletes nothing another group still needs, even a group
    created after the first acknowledged everything."""
    await bus.ensure_group("events", "storage")
    ids = await _add_all(bus, "events", 3)
    stored = await bus.read({"events": ">"}, "storage", "s1")
    await bus.ack("events", "storage", stored[0].id)
    await bus.batch().ack("events", "storage", *(entry.id for entry in stored[1:])).execute()  # as a turn acks
    assert await bus.pending_count("events", "storage") == 0

    await bus.ensure_group("events", "channel")
    await bus.add("events", {"n": 3})

    assert _numbers(await bus.read({"events": ">"}, "channel", "c1")) == [0, 1, 2, 3]
    assert _numbers(await bus.read({"events": ">"}, "storage", "s1")) == [3]
    assert await bus.length("events") == 4
    assert [entry.id for entry in await bus.entries("events", count=3)] == ids


async def test_delivery_counts_grow_with_every_redelivery(bus: Bus) -> None:
    await bus.ensure_group("jobs", GROUP)
    ids = await _add_all(bus, "jobs", 2)
    await bus.read({"jobs": ">"}, GROUP, "c1")
    assert await bus.delivery_counts("jobs", GROUP, ids) == {ids[0]: 1, ids[1]: 1}

    await bus.read({"jobs": "0"}, GROUP, "c1")
    await bus.read({"jobs": "0"}, GROUP, "c1")
    await bus.ack("jobs", GROUP, ids[1])

    assert await bus.delivery_counts("jobs", GROUP, ids) == {ids[0]: 3}
    await asyncio.sleep(0.02)
    await bus.claim_stale("jobs", GROUP, "c2", min_idle_ms=10)
    assert await bus.delivery_counts("jobs", GROUP, [ids[0], "1-1"]) == {ids[0]: 4}
    assert await bus.delivery_counts("jobs", "other-group", ids) == {}


async def test_entries_can_be_listed_and_removed_without_a_group(bus: Bus) -> None:
    ids = await _add_all(bus, "dead", 3)

    assert _numbers(await bus.entries("dead")) == [0, 1, 2]
    await bus.remove("dead", ids[0], ids[2])
    assert _numbers(await bus.entries("dead")) == [1]
    assert await bus.length("dead") == 1
    assert await bus.length("never-written") == 0
    assert await bus.entries("never-written") == []


@pytest.fixture(params=["memory", "redis"])
async def short_bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    """A bus keeping about 50 entries per stream."""
    retention = StreamRetention(max_age=0, max_length=50)
    if request.param == "memory":
        instance = open_bus(None, retention=retention)
    else:
        instance = open_bus(
            request.getfixturevalue("redis_server_url"),
            prefix=request.getfixturevalue("redis_prefix"),
            retention=retention,
        )
    yield instance
    await instance.close()


async def test_streams_are_trimmed_to_their_retention_read_or_not(short_bus: Bus) -> None:
    await short_bus.ensure_group("jobs", GROUP)
    await _add_all(short_bus, "jobs", 300)
    await short_bus.batch().add("jobs", {"n": 300}).execute()
    await short_bus.add_once("jobs", {"n": 301}, key="jobs-added:x", ttl=10)

    length = await short_bus.length("jobs")
    entries = await short_bus.read({"jobs": ">"}, GROUP, "c1", count=1000)
    # Trimmed approximately (in whole blocks), the newest kept, in order.
    assert 50 <= length < 300
    assert _numbers(entries) == list(range(302 - length, 302))


@pytest.fixture
async def aged_bus(bus: Bus, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Bus]:
    """A bus of the same backend keeping entries 0.2 s by age, trimming at every add."""
    from agenthub.bus import redis as redis_backend

    monkeypatch.setattr(redis_backend, "AGE_TRIM_EVERY", 0.0)
    retention = StreamRetention(max_age=0.2, max_length=0)
    if bus.name == "memory":
        aged = open_bus(None, retention=retention)
    else:
        aged = open_bus(
            request.getfixturevalue("redis_server_url"),
            prefix=request.getfixturevalue("redis_prefix"),
            retention=retention,
        )
    yield aged
    await aged.close()


async def test_old_entries_every_group_acknowledged_are_trimmed_by_age(aged_bus: Bus) -> None:
    await aged_bus.ensure_group("old", "a")
    await aged_bus.ensure_group("old", "b")
    await _add_all(aged_bus, "old", 250)
    for group in ("a", "b"):
        read = await aged_bus.read({"old": ">"}, group, "c1", count=1000)
        await aged_bus.ack("old", group, *(entry.id for entry in read))
    await asyncio.sleep(0.3)  # the entries age past the retention
    await aged_bus.add("old", {"n": 250})

    # Trimmed in whole blocks (Redis keeps the block the newest old entries share).
    assert await aged_bus.length("old") <= 151
    assert _numbers(await aged_bus.entries("old", count=1000))[-1] == 250


async def test_age_never_trims_what_a_group_has_not_acknowledged(aged_bus: Bus) -> None:
    await aged_bus.ensure_group("old", "fast")
    await aged_bus.ensure_group("old", "slow")
    await aged_bus.ensure_group("busy", "fast")
    await _add_all(aged_bus, "old", 250)
    await _add_all(aged_bus, "busy", 250)
    await _add_all(aged_bus, "nobody-reads", 250)  # no group: kept (dead letters are such a stream)
    read = await aged_bus.read({"old": ">"}, "fast", "c1", count=1000)
    await aged_bus.ack("old", "fast", *(entry.id for entry in read))
    pending = await aged_bus.read({"busy": ">"}, "fast", "c1", count=1000)
    await aged_bus.ack("busy", "fast", *(entry.id for entry in pending[1:]))  # the first stays pending
    await asyncio.sleep(0.3)
    for stream in ("old", "busy", "nobody-reads"):
        await aged_bus.add(stream, {"n": 250})

    assert _numbers(await aged_bus.read({"old": ">"}, "slow", "c1", count=1000)) == list(range(251))
    assert _numbers(await aged_bus.read({"busy": "0"}, "fast", "c1")) == [0]
    assert await aged_bus.length("busy") == 251
    assert await aged_bus.length("nobody-reads") == 251


async def test_a_dropped_group_is_gone_and_the_others_keep_their_entries(bus: Bus) -> None:
    assert await bus.groups("s") == []  # no stream yet
    await bus.ensure_group("s", "keeps")
    await bus.ensure_group("s", "goes")
    await _add_all(bus, "s", 3)
    assert sorted(await bus.groups("s")) == ["goes", "keeps"]

    await bus.drop_group("s", "goes")
    await bus.drop_group("s", "goes")  # again: no error
    await bus.drop_group("no-such-stream", "goes")

    assert await bus.groups("s") == ["keeps"]
    assert _numbers(await bus.read({"s": ">"}, "keeps", "c1", count=10)) == [0, 1, 2]
