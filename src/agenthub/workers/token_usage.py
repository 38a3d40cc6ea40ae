"""Token usage: ``token_usage_queue`` -> usage logs (tokens, provider, model, and the cost
where that provider charges a known price for the model)."""

from __future__ import annotations

from collections.abc import Sequence

from agenthub.billing import service as billing_service
from agenthub.bus import Bus, Entry, keys
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.workers.base import DEFAULT_MAX_DELIVERIES, QueueWorker


class TokenUsageWorker(QueueWorker):
    name = "token-usage"
    stream = keys.TOKEN_USAGE_QUEUE

    def __init__(self, bus: Bus, session_factory: SessionFactory, *, max_deliveries: int = DEFAULT_MAX_DELIVERIES) -> None:
        super().__init__(bus, max_deliveries=max_deliveries)
        self._sessions = session_factory

    async def process(self, entries: Sequence[Entry]) -> None:
        async with session_scope(self._sessions) as session:
            await billing_service.record_usage(session, [entry.payload for entry in entries])
