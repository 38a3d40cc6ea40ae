"""Agent statuses as clients see them: ``agent_status:{id}`` written by the supervisor and
the host, merged with the host's heartbeat and the agent's last activity."""

from __future__ import annotations

import time
from typing import Any, Literal

from agenthub.bus import Bus, keys

Status = Literal["starting", "running", "stopped", "error"]
STATUS_TTL = 7 * 24 * 3600.0


def activity_key(agent_id: str) -> str:
    return f"agent:{{{agent_id}}}:activity"


class StatusStore:
    def __init__(
        self, bus: Bus, *, stale_after: float | None = None, restarts_reset_after: float | None = None
    ) -> None:
        """``stale_after``: seconds without a heartbeat after which :meth:`describe` no
        longer shows a 'running' agent as running (its host died without a word).
        ``restarts_reset_after``: shown with the restart count (RESTARTS_RESET_AFTER)."""
        self._bus = bus
        self._stale_after = stale_after
        self._restarts_reset_after = restarts_reset_after

    async def get(self, agent_id: str) -> dict[str, Any]:
        raw = await self._bus.get(keys.agent_status(agent_id))
        return raw or {"status": "stopped", "restart_count": 0}

    async def write(self, agent_id: str, status: Status, **fields: Any) -> dict[str, Any]:
        """Replace the status, keeping the restart count unless given."""
        current = await self.get(agent_id)
        value = {
            "status": status,
            "restart_count": current.get("restart_count", 0),
            "pid": None,
            "host": None,
            "host_id": None,
            "isolation": current.get("isolation"),
            "placement": current.get("placement"),
            "config_version": current.get("config_version"),
            "error": None,
            "changed_at": time.time(),
        }
        if status == "running":
            value |= {k: current.get(k) for k in ("pid", "host", "host_id", "started_at")}
        value.update(fields)
        await self._bus.set(keys.agent_status(agent_id), value, ttl=STATUS_TTL)
        return value

    async def touch_activity(self, agent_id: str, at: float | None = None) -> None:
        await self._bus.set(activity_key(agent_id), {"at": at or time.time()}, ttl=STATUS_TTL)

    async def last_activity(self, agent_id: str) -> float | None:
        raw = await self._bus.get(activity_key(agent_id))
        return raw["at"] if raw else None

    async def describe(self, agent_id: str) -> dict[str, Any]:
        """The full picture for the status API: status, pid, host, heartbeat, restarts,
        last activity."""
        status = await self.get(agent_id)
        heartbeat = None
        if status.get("host_id"):
            beat = await self._bus.get(keys.host_heartbeat(status["host_id"]))
            heartbeat = beat["at"] if beat else None
        shown = status.get("status", "stopped")
        error = status.get("error")
        if shown == "running" and self._host_gone(heartbeat):
            shown = "stopped"
            error = "its host stopped sending heartbeats (it was killed or lost); the next message starts it again"
        return {
            "agent_id": agent_id,
            "status": shown,
            "pid": status.get("pid"),
            "host": status.get("host"),
            "host_id": status.get("host_id"),
            "isolation": status.get("isolation"),
            "placement": status.get("placement"),
            "restart_count": status.get("restart_count", 0),
            "restarts_reset_after": self._restarts_reset_after,
            "last_heartbeat": heartbeat,
            "last_activity": await self.last_activity(agent_id),
            "config_version": status.get("config_version"),
            "error": error,
        }

    def _host_gone(self, heartbeat: float | None) -> bool:
        if self._stale_after is None:
            return False
        return heartbeat is None or time.time() - heartbeat > self._stale_after
