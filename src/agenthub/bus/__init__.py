"""The message bus: one interface, an in-process default and a Redis backend."""

from agenthub.bus.base import Batch, Bus, Entry, Payload, StreamRetention, Subscription


def open_bus(redis_url: str | None, *, prefix: str = "", retention: StreamRetention | None = None) -> Bus:
    """The entry points' single choice of backend: Redis when a URL is given."""
    retention = retention or StreamRetention()
    if redis_url:
        from agenthub.bus.redis import RedisBus

        return RedisBus.from_url(redis_url, prefix=prefix, retention=retention)
    from agenthub.bus.memory import MemoryBus

    return MemoryBus(retention=retention)


__all__ = ["Batch", "Bus", "Entry", "Payload", "StreamRetention", "Subscription", "open_bus"]
