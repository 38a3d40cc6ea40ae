"""Run AgentHub for a test: the real app under uvicorn on 127.0.0.1, in this event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from agenthub.app import create_app
from agenthub.channels.limits import websocket_server_options
from agenthub.config import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_settings(
    *, database_url: str, redis_url: str | None = None, redis_prefix: str = "", **overrides: Any
) -> Settings:
    """Settings for a test: fast checks and heartbeats, no demo agent unless asked."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "redis_url": redis_url,
        "redis_key_prefix": redis_prefix,
        "demo_agent": False,
        "process_check_interval": 0.2,
        "agent_runner_heartbeat_interval": 0.5,
        "restart_backoff_base": 0.1,
        "restart_backoff_max": 1.0,
        "stop_grace_period": 2.0,
        "turn_timeout": 20.0,
        "log_json": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def settings_on_each_bus(request: Any, database_url: str) -> Settings:
    """Settings for a fixture parametrised ``["memory", "redis"]``: the in-process bus, or
    Redis with the test's own key prefix."""
    if request.param == "memory":
        return make_settings(database_url=database_url)
    return make_settings(
        database_url=database_url,
        redis_url=request.getfixturevalue("redis_server_url"),
        redis_prefix=request.getfixturevalue("redis_prefix"),
    )


@dataclass
class RunningApp:
    url: str
    ws_url: str
    app: Any
    settings: Settings


@asynccontextmanager
async def running_app(settings: Settings, **app_options: Any) -> AsyncIterator[RunningApp]:
    """``app_options``: more arguments of ``create_app`` (``engines``)."""
    app = create_app(settings, **app_options)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", ws="websockets-sansio",
        **websocket_server_options(),
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the server stopped during start-up")
        await asyncio.sleep(0.02)
    try:
        yield RunningApp(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", app, settings)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
