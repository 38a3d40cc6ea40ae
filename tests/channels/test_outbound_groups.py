"""Each gateway reads the durable outbound stream with a group of its own. A gateway that
stops removes its group; the group of one that was killed (no alive key any more) is
removed by the next gateway to start, so no abandoned group keeps the stream from being
trimmed. On both bus backends."""

from __future__ import annotations

from agenthub.bus import Bus, keys
from agenthub.channels.fanout import OutputRouter
from agenthub.channels.outbox import OutboundFeed, RecentOutbound


def _feed(bus: Bus, gateway_id: str) -> OutboundFeed:
    return OutboundFeed(bus=bus, router=OutputRouter(bus), recent=RecentOutbound(), gateway_id=gateway_id)


async def test_a_stopped_gateway_removes_its_group(bus: Bus) -> None:
    feed = _feed(bus, "g-stops")
    await feed.setup()
    assert keys.gateway_outbound_group("g-stops") in await bus.groups(keys.OUTBOUND_QUEUE)

    await feed.cleanup()

    assert keys.gateway_outbound_group("g-stops") not in await bus.groups(keys.OUTBOUND_QUEUE)
    assert await bus.get(keys.gateway_alive("g-stops")) is None


async def test_the_group_of_a_killed_gateway_is_removed_by_the_next_one_to_start(bus: Bus) -> None:
    killed, running = _feed(bus, "g-killed"), _feed(bus, "g-running")
    await killed.setup()
    await running.setup()
    await bus.ensure_group(keys.OUTBOUND_QUEUE, keys.channel_outbound_group("telegram"))  # not a gateway's
    await bus.delete(keys.gateway_alive("g-killed"))  # what its expiry does once it is killed

    await _feed(bus, "g-new").setup()

    groups = await bus.groups(keys.OUTBOUND_QUEUE)
    assert keys.gateway_outbound_group("g-killed") not in groups
    assert keys.gateway_outbound_group("g-running") in groups  # alive: kept
    assert keys.gateway_outbound_group("g-new") in groups
    assert keys.channel_outbound_group("telegram") in groups
