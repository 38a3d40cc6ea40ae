"""The message bus: one interface, an in-process default and a Redis backend."""

from agenthub.bus.base import Batch, Bus, Entry, Payload, Subscription


def open_bus(redis_url: str | None, *, prefix: str = "") -> Bus:
    """The entry points' single choice of backend: Redis when a URL is given."""
    if redis_url:
        from agenthub.bus.redis import RedisBus

        return RedisBus.from_url(redis_url, prefix=prefix)
    from agenthub.bus.memory import MemoryBus

    return MemoryBus()


__all__ = ["Batch", "Bus", "Entry", "Payload", "Subscription", "open_bus"]
