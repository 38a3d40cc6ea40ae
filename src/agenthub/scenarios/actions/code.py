"""``code`` groups: ``async def main(message, variables)`` (or ``def main``) run in the code
sandbox (``agenthub.sandbox``, see ``docs/sandbox.md``).

``message`` is the inbound message's ``message.*`` scope (``text``, ``button``,
``attachments``, ``channel``, ``user_id``, ``user_data``); ``variables`` holds every scope
(``{"bot": {...}, "user": {...}, "session": {...}, "channel": {...}}``). The dict ``main``
returns is the result; a failure is ``{"error": "<kind> at line N: <message>"}`` (kinds:
``syntax``, ``exception``, ``timeout``, ``memory``, ``output``, ``forbidden``).

The app's sandbox starts with the app (``app.state.sandbox``); runner and worker processes
use a :class:`LazySandbox`, started on the first code step and closed at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from agenthub.config import Settings
from agenthub.sandbox.result import Result
from agenthub.sandbox.service import SandboxService
from agenthub.sandbox.settings import pool_config
from agenthub.scenarios.actions.base import ActionCall, ActionDeps

log = logging.getLogger(__name__)


class LazySandbox:
    """A :class:`SandboxService` made from the settings (``SANDBOX_POOL_SIZE`` warm processes)
    on the first :meth:`run` of the process, not before: a runner or worker whose bots have
    no code step never starts a fork server."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._service: SandboxService | None = None
        self._lock = asyncio.Lock()

    @property
    def started(self) -> bool:
        return self._service is not None

    async def _ensure(self) -> SandboxService:
        async with self._lock:
            if self._service is None:
                service = SandboxService(pool_config(self._settings))
                await service.start()  # a failure is recorded: its runs are refused saying why
                self._service = service
            return self._service

    async def run(self, code: str, *, message: Any = None, variables: dict[str, Any] | None = None,
                  limits: dict[str, Any] | None = None) -> Result:
        try:
            service = await self._ensure()
        except Exception as error:  # noqa: BLE001 - a SANDBOX_REQUIRED_LAYERS naming no layer
            return Result.failed("exception", f"code steps cannot run here: {error}")
        return await service.run(code, message=message, variables=variables, limits=limits)

    async def close(self) -> None:
        async with self._lock:
            if self._service is not None:
                await self._service.close()
                self._service = None


def describe(result: Result) -> str:
    """A failed run as a rule can test it: ``timeout: ...``, ``exception at line 3: ...``."""
    error = result.error
    assert error is not None
    where = f" at line {error.line}" if error.line else ""
    return f"{error.kind}{where}: {error.message}"


def variables_of(call: ActionCall) -> dict[str, Any]:
    scopes = call.scopes
    return {"bot": scopes.bot, "user": scopes.user, "session": scopes.session, "channel": scopes.channel}


async def run_code(call: ActionCall, deps: ActionDeps) -> dict[str, Any]:
    """The ``code`` action (see the module); never raises."""
    if not call.group.code:
        return {"error": "the group has no code"}
    if deps.sandbox is None:
        return {"error": "code steps cannot run here: no sandbox in this process"}
    try:
        result: Result = await deps.sandbox.run(
            call.group.code, message=dict(call.scopes.message), variables=variables_of(call)
        )
    except Exception as error:  # noqa: BLE001 - the sandbox never raises; a session never crashes either way
        log.warning("the sandbox failed unexpectedly", exc_info=True, extra={"bot_id": call.bot_id})
        return {"error": f"the sandbox failed: {type(error).__name__}"}
    if not result.ok:
        return {"error": describe(result)}
    return dict(result.value or {})
