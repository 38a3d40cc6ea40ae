"""Agent statuses as clients see them: ``agent_status:{id}`` written by the supervisor and
the host, merged with the host's heartbeat and the agent's last activity.

Several processes write a status (the supervisors of every gateway, the host that runs the
agent), so every change is a compare-and-set on the value's ``version``: a write decides
from what it read and lands only if nothing was written since, else it reads and decides
again. Each start begins a new ``generation``; what a host or a supervisor reports for an
agent it was asked to run carries that generation, and is refused once a stop was recorded
for it or a newer start began. A stop always lands. So a late ``running`` can't overwrite a
``stop``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

from agenthub.bus import Bus, keys
from agenthub.errors import ServiceUnavailable

Status = Literal["starting", "running", "stopped", "error"]
STATUS_TTL = 7 * 24 * 3600.0
MAX_WRITE_ATTEMPTS = 100
"""Compare-and-set attempts before giving up (each failed one means another write landed)."""


def activity_key(agent_id: str) -> str:
    return f"agent:{{{agent_id}}}:activity"


def _changed(current: dict[str, Any], status: Status, fields: dict[str, Any]) -> dict[str, Any]:
    """The status after a change to ``status``: the restart count, isolation, placement,
    config version and generation carry over unless given; the process fields only while
    it stays running."""
    value = {
        "status": status,
        "restart_count": current.get("restart_count", 0),
        "pid": None,
        "host": None,
        "host_id": None,
        "isolation": current.get("isolation"),
        "placement": current.get("placement"),
        "config_version": current.get("config_version"),
        "generation": current.get("generation", 0),
        "error": None,
        "changed_at": time.time(),
    }
    if status == "running":
        value |= {k: current.get(k) for k in ("pid", "host", "host_id", "started_at")}
    value.update(fields)
    return value


def still_valid(current: dict[str, Any], status: Status, generation: int | None) -> bool:
    """Whether a change to ``status``, made for the start of ``generation`` (None: the
    current one), may land on ``current``. A stop always may. Anything else is refused
    once a stop was recorded or a newer start began; ``running`` also needs a start. With
    nothing recorded (a host started by hand: ``agenthub runner``) any report lands."""
    if status == "stopped" or not current:
        return True
    if generation is not None and generation != current.get("generation", 0):
        return False
    if current.get("status", "stopped") == "stopped":
        return False
    return status != "running" or current.get("status") in ("starting", "running")


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

    async def begin(self, agent_id: str, **fields: Any) -> dict[str, Any]:
        """Record a start: 'starting' in a new generation. The restart count starts again
        from 0 unless the agent was starting or running (a start while it restarts)."""

        def decide(current: dict[str, Any]) -> dict[str, Any]:
            active = current.get("status") in ("starting", "running")
            return _changed(current, "starting", {
                "generation": int(current.get("generation", 0)) + 1,
                "restart_count": current.get("restart_count", 0) if active else 0,
                **fields,
            })

        written = await self._update(agent_id, decide, ttl=STATUS_TTL)
        assert written is not None
        return written

    async def write(
        self, agent_id: str, status: Status, *, generation: int | None = None, ttl: float = STATUS_TTL,
        **fields: Any,
    ) -> dict[str, Any] | None:
        """Change the status, keeping the restart count unless given. ``generation``: the
        start this change reports on. Returns the new status, or None when the change is
        no longer valid (see :func:`still_valid`) and nothing was written."""

        def decide(current: dict[str, Any]) -> dict[str, Any] | None:
            if not still_valid(current, status, generation):
                return None
            return _changed(current, status, fields)

        return await self._update(agent_id, decide, ttl=ttl)

    async def _update(
        self, agent_id: str, decide: Callable[[dict[str, Any]], dict[str, Any] | None], *, ttl: float
    ) -> dict[str, Any] | None:
        key = keys.agent_status(agent_id)
        for _attempt in range(MAX_WRITE_ATTEMPTS):
            current = await self._bus.get(key) or {}
            version = int(current.get("version") or 0)
            value = decide(current)
            if value is None:
                return None
            if await self._bus.compare_and_set(key, value, version=version, ttl=ttl):
                return {**value, "version": version + 1}
        raise ServiceUnavailable(f"the status of agent {agent_id!r} keeps changing; try again")

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
