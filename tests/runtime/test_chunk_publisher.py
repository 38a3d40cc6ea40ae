"""How an answer's text is streamed to the output channel: pieces that come fast merged,
slow ones one by one, the rest with the answer. Both bus backends."""

from __future__ import annotations

import asyncio

import pytest

from agenthub.bus import Bus, Payload, open_bus
from agenthub.errors import is_unavailable
from agenthub.runtime.turns import CHUNK_INTERVAL, ChunkPublisher
from tests.support.server import free_port

CHANNEL = "agent:{a}:output"


async def _drain(subscription, *, until_type: str = "message") -> list[Payload]:  # type: ignore[no-untyped-def]
    events: list[Payload] = []
    while True:
        event = await subscription.get(timeout=5)
        assert event is not None, f"no {until_type!r} event; got {events}"
        events.append(event)
        if event["type"] == until_type:
            return events


async def test_an_answer_faster_than_the_interval_goes_out_whole_with_the_answer(bus: Bus) -> None:
    subscription = await bus.subscribe(CHANNEL)
    publisher = ChunkPublisher(bus, CHANNEL, "m1", "c1")
    words = ["The", " quick", " brown", " fox", " jumps"]
    for word in words:
        publisher.text(word)
        await asyncio.sleep(0)  # a model yields between tokens
    batch = await publisher.finish_into(bus.batch())
    await batch.publish(CHANNEL, {"type": "message", "reply_to": "m1", "response": "".join(words)}).execute()

    events = await _drain(subscription)
    await subscription.close()
    assert [e["type"] for e in events] == ["chunk", "message"]
    assert events[0] == {"type": "chunk", "reply_to": "m1", "chat_id": "c1", "content": "The quick brown fox jumps"}


async def test_a_steady_stream_is_merged_per_interval_in_order(bus: Bus) -> None:
    subscription = await bus.subscribe(CHANNEL)
    publisher = ChunkPublisher(bus, CHANNEL, "m1", "c1")
    words = [f" w{i}" for i in range(40)]
    for word in words:  # 40 tokens over about four intervals
        publisher.text(word)
        await asyncio.sleep(CHUNK_INTERVAL / 10)
    await (await publisher.finish_into(bus.batch())).publish(CHANNEL, {"type": "message"}).execute()

    events = await _drain(subscription)
    await subscription.close()
    chunks = [e["content"] for e in events if e["type"] == "chunk"]
    assert "".join(chunks) == "".join(words), "no text lost, none repeated, in order"
    assert 2 <= len(chunks) <= 12, f"merged per interval, yet streamed before the end: {chunks}"


async def test_tokens_slower_than_the_interval_stream_one_by_one(bus: Bus) -> None:
    subscription = await bus.subscribe(CHANNEL)
    publisher = ChunkPublisher(bus, CHANNEL, "m1", "c1")
    for word in ["one", " two", " three"]:
        publisher.text(word)
        await asyncio.sleep(CHUNK_INTERVAL * 2.5)  # each published an interval after it came
    await (await publisher.finish_into(bus.batch())).publish(CHANNEL, {"type": "message"}).execute()

    events = await _drain(subscription)
    await subscription.close()
    assert [e["content"] for e in events if e["type"] == "chunk"] == ["one", " two", " three"]


async def test_an_engines_own_event_comes_after_the_text_before_it(bus: Bus) -> None:
    subscription = await bus.subscribe(CHANNEL)
    publisher = ChunkPublisher(bus, CHANNEL, "m1", "c1")
    publisher.text("Let me look")
    publisher.text(" that up.")
    await publisher.emit({"type": "tool_call", "name": "search"})
    publisher.text("Found it.")
    await (await publisher.finish_into(bus.batch())).publish(CHANNEL, {"type": "message"}).execute()

    events = await _drain(subscription)
    await subscription.close()
    assert events == [
        {"type": "chunk", "reply_to": "m1", "chat_id": "c1", "content": "Let me look that up."},
        {"type": "tool_call", "name": "search", "reply_to": "m1", "chat_id": "c1"},
        {"type": "chunk", "reply_to": "m1", "chat_id": "c1", "content": "Found it."},
        {"type": "message"},
    ]


async def test_a_failed_publish_surfaces_when_the_answer_is_finished() -> None:
    unreachable = open_bus(f"redis://127.0.0.1:{free_port()}/0")
    watched = _PublishWatched(unreachable)
    publisher = ChunkPublisher(watched, CHANNEL, "m1", "c1")  # type: ignore[arg-type]
    try:
        publisher.text("hello")
        await asyncio.wait_for(watched.publishing.wait(), 10)  # its publish has begun
        with pytest.raises(Exception) as raised:
            await publisher.finish_into(unreachable.batch())
        assert is_unavailable(raised.value), raised.value
    finally:
        await unreachable.close()


class _PublishWatched:
    """A bus as the publisher uses it (``publish``, ``batch``), telling when a publish begins."""

    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self.publishing = asyncio.Event()

    async def publish(self, channel: str, payload: Payload) -> None:
        self.publishing.set()
        await self._bus.publish(channel, payload)

    def batch(self):  # type: ignore[no-untyped-def]
        return self._bus.batch()


async def test_nothing_pushed_adds_nothing_to_the_batch() -> None:
    bus = open_bus(None)
    batch = await ChunkPublisher(bus, CHANNEL, "m1", "c1").finish_into(bus.batch())
    assert batch.ops == []
