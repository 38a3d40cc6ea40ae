"""Channels without an open connection read the durable outbound stream with a consumer
group of their own: each event of the channel is delivered at least once and shown once,
on both bus backends."""

from __future__ import annotations

import uuid
from typing import Any

from agenthub.bus import Bus, Payload, keys
from agenthub.channels.delivery import ChannelDeliveryWorker, OutboundSender


class RecordingSender(OutboundSender):
    """A channel that shows events by recording them; fails the next ``failures`` sends."""

    channel = "telegram"

    def __init__(self, failures: int = 0) -> None:
        self.shown: list[Payload] = []
        self.failures = failures

    async def send(self, event: Payload) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the channel's server is down")
        self.shown.append(event)


def answer(text: str, *, channel: str = "telegram", message_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "message", "message_id": message_id or uuid.uuid4().hex, "reply_to": uuid.uuid4().hex,
        "chat_id": "c1", "response": text, "channel": channel, "agent_id": "a1",
    }


async def _worker(bus: Bus, sender: OutboundSender, consumer: str = "one", **options: Any) -> ChannelDeliveryWorker:
    worker = ChannelDeliveryWorker(bus=bus, sender=sender, consumer=consumer, **options)
    await worker.setup()
    return worker


async def test_the_events_of_its_channel_are_shown_once_in_order(bus: Bus) -> None:
    sender = RecordingSender()
    worker = await _worker(bus, sender)
    repeated = answer("twice added", message_id="same-id")
    for event in (answer("first"), answer("for the web", channel="web"), repeated, answer("last"), repeated):
        await bus.add(keys.OUTBOUND_QUEUE, event)
    assert await worker.run_once() == 5  # every entry done with
    assert [e["response"] for e in sender.shown] == ["first", "twice added", "last"]
    assert await bus.pending_count(keys.OUTBOUND_QUEUE, worker.group) == 0


async def test_a_failed_delivery_is_tried_again_and_shown_once(bus: Bus) -> None:
    sender = RecordingSender(failures=1)
    worker = await _worker(bus, sender)
    await bus.add(keys.OUTBOUND_QUEUE, answer("hello"))
    assert await worker.run_once() == 0
    assert sender.shown == []
    assert await bus.pending_count(keys.OUTBOUND_QUEUE, worker.group) == 1
    assert await worker.run_once(recover=True) == 1
    assert [e["response"] for e in sender.shown] == ["hello"]
    assert await worker.run_once(recover=True) == 0  # nothing left, nothing shown again
    assert len(sender.shown) == 1


async def test_what_a_dead_worker_left_is_delivered_by_another(bus: Bus) -> None:
    first = RecordingSender()
    dead = await _worker(bus, first, consumer="dead")
    await bus.add(keys.OUTBOUND_QUEUE, answer("in flight"))
    taken = await bus.read({keys.OUTBOUND_QUEUE: ">"}, dead.group, "dead")  # read, then the worker dies
    assert len(taken) == 1

    second = RecordingSender()
    survivor = await _worker(bus, second, consumer="survivor", claim_idle_ms=0)
    assert await survivor.run_once(recover=True) == 1
    assert [e["response"] for e in second.shown] == ["in flight"]


async def test_replicas_share_the_work_and_show_each_event_once(bus: Bus) -> None:
    sender = RecordingSender()
    one, two = await _worker(bus, sender, consumer="one"), await _worker(bus, sender, consumer="two")
    texts = [f"answer {n}" for n in range(6)]
    for text in texts:
        await bus.add(keys.OUTBOUND_QUEUE, answer(text))
    one.batch_size = two.batch_size = 2
    while await one.run_once() + await two.run_once():
        pass
    assert sorted(e["response"] for e in sender.shown) == sorted(texts)
