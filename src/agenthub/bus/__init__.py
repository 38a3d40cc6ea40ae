"""The message bus: one interface, an in-process default and a Redis backend."""

import asyncio

from agenthub.bus.base import Batch, Bus, Entry, Payload, StreamRetention, Subscription
from agenthub.errors import ServiceUnavailable, is_unavailable

REACH_TIMEOUT = 10.0
"""Seconds a starting process waits for the bus to answer."""


def open_bus(redis_url: str | None, *, prefix: str = "", retention: StreamRetention | None = None) -> Bus:
    """The entry points' single choice of backend: Redis when a URL is given."""
    retention = retention or StreamRetention()
    if redis_url:
        from agenthub.bus.redis import RedisBus

        return RedisBus.from_url(redis_url, prefix=prefix, retention=retention)
    from agenthub.bus.memory import MemoryBus

    return MemoryBus(retention=retention)


async def ensure_reachable(bus: Bus, *, shown_url: str) -> None:
    """ServiceUnavailable, in one line naming the bus (``shown_url``: its address with the
    password masked), when it does not answer within :data:`REACH_TIMEOUT` seconds. The
    in-process bus always does."""
    try:
        await asyncio.wait_for(bus.ping(), REACH_TIMEOUT)
    except Exception as error:
        if not (is_unavailable(error) or isinstance(error, OSError)):  # OSError: a timeout too
            raise
        reason = str(error) or f"no answer within {REACH_TIMEOUT:g} s"
        raise ServiceUnavailable(f"Cannot reach the bus at {shown_url}: {reason}") from error


__all__ = ["Batch", "Bus", "Entry", "Payload", "StreamRetention", "Subscription", "ensure_reachable", "open_bus"]
