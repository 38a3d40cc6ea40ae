"""The sandbox as part of a running AgentHub: one pool, started in the background, reported on.

The app's lifespan builds a ``SandboxService`` from settings, starts it without waiting
(start-up is not slowed by the fork server), keeps it on ``app.state`` and closes it at
shutdown; ``/health`` shows :meth:`SandboxService.health`; code steps call
:meth:`SandboxService.run`. ``agenthub sandbox check|run`` use it too.

``SANDBOX_REQUIRED_LAYERS`` is checked here, against the layers the first sandboxed process
reports: when one is missing the sandbox is *unavailable* (every run is refused with an
error result) but AgentHub itself goes on serving, and ``/health`` is degraded. The same
holds when the sandbox could not start at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from agenthub.sandbox.layers import Layers
from agenthub.sandbox.limits import Limits
from agenthub.sandbox.pool import PoolConfig, SandboxPool
from agenthub.sandbox.result import Result

logger = logging.getLogger(__name__)

HEALTHY = ("starting", "ready", "restarting")
"""Statuses ``/health`` counts as ok: a sandbox on its way up (or restarting its fork server) is."""
COULD_NOT_START = "the sandbox could not start (the server's log says why)"


class SandboxService:
    """Runs code in the sandbox once it is ready with every required layer; never raises from
    ``start``, ``run`` or ``health``. ``report``: log once which layers are active (the app);
    the CLI prints them itself."""

    def __init__(self, config: PoolConfig, *, report: bool = True) -> None:
        self.required = config.required_layers
        # The required layers are checked here, not by the pool, so the report (and /health)
        # can still say which layers are active and which are missing.
        self.pool = SandboxPool(config)
        self.report = report
        self.layers: Layers | None = None
        self.lacking: list[str] = []
        self.error: str | None = None
        """Why the sandbox is unavailable, in full (for the log and the CLI)."""
        self._state = "stopped"
        self._starting: asyncio.Task[None] | None = None

    # -- life cycle ------------------------------------------------------------------------

    def start_in_background(self) -> None:
        """Start the pool in a task of its own; ``run`` waits for it, ``health`` says "starting"."""
        self._state = "starting"
        self._starting = asyncio.create_task(self.start(), name="sandbox-start")

    async def start(self) -> None:
        """Start the pool and check the required layers; a failure is recorded, not raised."""
        self._state = "starting"
        try:
            layers = await self.pool.start()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - SandboxUnavailable, OSError, a bad SANDBOX_USER
            self._unavailable(str(error) or type(error).__name__)
            await self.pool.close()
            return
        self.layers = layers
        self.lacking = [name for name in self.required if not getattr(layers, name, False)]
        if self.lacking:
            reasons = [reason for reason in layers.missing if reason.split(":", 1)[0] in self.lacking]
            self._unavailable(
                f"SANDBOX_REQUIRED_LAYERS names layers that are not active: {', '.join(self.lacking)}"
                + (f" ({'; '.join(reasons)})" if reasons else "")
            )
            await self.pool.close()
            return
        self._state = "ready"
        if self.report:
            logger.info("sandbox ready, layers active: %s", ", ".join(layers.active()))
            if layers.missing:
                logger.warning("sandbox layers missing (code steps run without them): %s", "; ".join(layers.missing))

    def _unavailable(self, error: str) -> None:
        self.error = error
        self._state = "unavailable"
        if self.report:
            logger.error("sandbox unavailable, code steps will be refused: %s", error)

    async def ready(self) -> bool:
        """Wait for the start under way (if any) to end: whether the sandbox is ready."""
        if self._starting is not None and not self._starting.done():
            await asyncio.wait({self._starting})  # the caller's cancellation still reaches the caller
        return self.status == "ready"

    async def close(self) -> None:
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._starting
        await self.pool.close()
        if self._state != "unavailable":
            self._state = "stopped"

    # -- what others see -------------------------------------------------------------------

    @property
    def status(self) -> str:
        """``starting``, ``ready``, ``restarting`` (the fork server is replaced), ``unavailable``
        or ``stopped``."""
        if self._state == "ready":
            return self.pool.status  # "unavailable" when a restart of the fork server failed
        return self._state

    def health(self) -> dict[str, Any]:
        """For ``/health``, which is public: layer names and reasons, nothing of any run's."""
        status = self.status
        pool = self.pool.health()
        body: dict[str, Any] = {
            "ok": status in HEALTHY,
            "status": status,
            "layers": self.layers.active() if self.layers else [],
            "missing": list(self.layers.missing) if self.layers else [],
            "required": list(self.required),
            "pool_size": pool["pool_size"],
            "warm": pool["warm"],
        }
        if status == "unavailable":
            body["problem"] = (
                f"required layers are not active: {', '.join(self.lacking)}" if self.lacking else COULD_NOT_START
            )
        return body

    # -- running code ----------------------------------------------------------------------

    async def run(self, code: str, *, message: Any = None, variables: dict[str, Any] | None = None,
                  limits: dict[str, Any] | Limits | None = None) -> Result:
        """As :meth:`SandboxPool.run`; while the sandbox starts, the run waits for it; when it
        is unavailable, the run is refused with an error result saying why."""
        if self._state == "starting":
            await self.ready()
        if self._state != "ready":
            reason = self.health().get("problem") or f"the sandbox is {self.status}"
            return Result.failed("exception", f"code steps cannot run here now: {reason}")
        return await self.pool.run(code, message=message, variables=variables, limits=limits)


__all__ = ["HEALTHY", "SandboxService"]
