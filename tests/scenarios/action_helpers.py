"""What the action tests share: a group to run, the deps of a process, a local HTTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

from aiohttp import web

from agenthub.config import Settings
from agenthub.db.engine import SessionFactory
from agenthub.outbound.guard import OutboundGuard
from agenthub.scenarios.actions.base import ActionCall, ActionDeps
from agenthub.scenarios.document import parse
from agenthub.scenarios.variables import Scopes
from tests.support.server import make_settings

LOCAL = OutboundGuard.from_allowlist(["127.0.0.1"])
"""A guard that lets requests reach this machine's test servers (as OUTBOUND_ALLOWLIST would)."""


def settings(**overrides: Any) -> Settings:
    return make_settings(database_url="sqlite+aiosqlite:///:memory:", **overrides)


def deps(**overrides: Any) -> ActionDeps:
    values: dict[str, Any] = {"settings": settings(), "sessions": cast(SessionFactory, None), "guard": LOCAL}
    values.update(overrides)
    return ActionDeps(**values)


def call(group: dict[str, Any], *, requests: list[dict[str, Any]] | None = None, scopes: Scopes | None = None,
         message: dict[str, Any] | None = None, org_id: str = "default") -> ActionCall:
    """``group`` as a bot-level group of a one-step bot (with ``requests``)."""
    document = parse({
        "name": "test", "first_step": "start", "steps": [{"key": "start"}],
        "connection_groups": [group], "requests": requests or [],
    })
    message = message or {"text": "hi", "agent_id": "bot1", "chat_id": "c1", "channel": "web"}
    return ActionCall(
        org_id=org_id, bot_id="bot1", document=document, group=document.connection_groups[0],
        scopes=scopes or Scopes(message={"text": message.get("text", "")}), message=message,
    )


@asynccontextmanager
async def local_server(setup: Callable[[web.Application], None]) -> AsyncIterator[str]:
    """An aiohttp server on 127.0.0.1 with the routes ``setup`` adds; its base URL."""
    app = web.Application()
    setup(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
