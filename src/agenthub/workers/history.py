"""History saver: ``history_queue`` -> chat messages."""

from __future__ import annotations

from collections.abc import Sequence

from agenthub.bus import Bus, Entry, keys
from agenthub.chats import service as chats_service
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.workers.base import DEFAULT_MAX_DELIVERIES, QueueWorker


class HistorySaverWorker(QueueWorker):
    name = "history-saver"
    stream = keys.HISTORY_QUEUE

    def __init__(self, bus: Bus, session_factory: SessionFactory, *, max_deliveries: int = DEFAULT_MAX_DELIVERIES) -> None:
        super().__init__(bus, max_deliveries=max_deliveries)
        self._sessions = session_factory

    async def process(self, entries: Sequence[Entry]) -> None:
        async with session_scope(self._sessions) as session:
            await chats_service.save_history(session, [entry.payload for entry in entries])
