"""Purge: agents deleted more than DELETED_RETENTION_DAYS ago are removed for good, with
their chats and messages; their token usage stays. Every gateway runs it; with several, a
pass that finds nothing left to remove does nothing."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from agenthub.agents import service as agents_service
from agenthub.config import Settings
from agenthub.db.base import utcnow
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.runtime.tasks import raise_if_cancel_requested
from agenthub.workers.base import Component

log = logging.getLogger(__name__)

PURGE_INTERVAL = 3600.0
"""Seconds between passes: a day's retention is kept to within an hour."""
PURGE_BATCH = 100


class DeletedAgentsPurgeWorker(Component):
    name = "deleted-agents-purge"

    def __init__(self, session_factory: SessionFactory, settings: Settings) -> None:
        self._sessions = session_factory
        self._retention = timedelta(days=settings.deleted_retention_days)

    async def run_once(self) -> list[str]:
        """Purge every agent whose retention has passed; returns their ids."""
        purged: list[str] = []
        while True:
            async with session_scope(self._sessions) as session:
                due = await agents_service.deleted_before(session, utcnow() - self._retention, limit=PURGE_BATCH)
                await agents_service.purge(session, due)
            purged += due
            if len(due) < PURGE_BATCH:
                break
        if purged:
            log.info("purged deleted agents", extra={"agents": len(purged)})
        return purged

    async def run(self) -> None:
        while True:
            raise_if_cancel_requested()
            try:
                await self.run_once()
            except Exception:  # noqa: BLE001 - try again on the next pass
                log.exception("purging deleted agents failed")
            await asyncio.sleep(PURGE_INTERVAL)
