"""Inactivity monitor: stops agents idle for AGENT_INACTIVITY_TIMEOUT (scale to zero)."""

from __future__ import annotations

import asyncio
import logging
import time

from agenthub.config import Settings
from agenthub.runtime.supervisor import Supervisor
from agenthub.runtime.tasks import raise_if_cancel_requested
from agenthub.workers.base import Component

log = logging.getLogger(__name__)


class InactivityMonitorWorker(Component):
    name = "inactivity-monitor"

    def __init__(self, supervisor: Supervisor, settings: Settings) -> None:
        self._supervisor = supervisor
        self._settings = settings

    async def run_once(self) -> list[str]:
        """Stop every idle agent; returns their ids."""
        now = time.time()
        stopped: list[str] = []
        for agent_id, managed in list(self._supervisor.managed.items()):
            if not managed.running:
                continue
            last = await self._supervisor.statuses.last_activity(agent_id)
            since = max(last or 0.0, managed.running_since or now)
            if now - since >= self._settings.agent_inactivity_timeout:
                log.info("stopping idle agent", extra={"agent_id": agent_id, "idle_seconds": round(now - since)})
                await self._supervisor.stop(agent_id)
                stopped.append(agent_id)
        return stopped

    async def run(self) -> None:
        while True:
            raise_if_cancel_requested()
            await asyncio.sleep(self._settings.agent_inactivity_check_interval)
            try:
                await self.run_once()
            except Exception:  # noqa: BLE001 - keep monitoring
                log.exception("inactivity check failed")
