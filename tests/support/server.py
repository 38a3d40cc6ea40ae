"""Run AgentHub for a test: the real app under uvicorn on 127.0.0.1, in this event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from agenthub.app import create_app
from agenthub.channels.hosts import host_allowed
from agenthub.channels.limits import websocket_server_options
from agenthub.config import Settings

OWNER_EMAIL = "owner@example.com"
OWNER_PASSWORD = "owner-password-1"
"""The default organisation's owner in every test server (``ADMIN_EMAIL``/``ADMIN_PASSWORD``)."""


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
        # Passwords hashed at the lowest cost: each test server makes and logs in an owner.
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "argon2_parallelism": 1,
        "admin_email": OWNER_EMAIL,
        "admin_password": OWNER_PASSWORD,
        # Each test server starts a sandbox (in the background): one warm process is enough.
        "sandbox_pool_size": 1,
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
    token: str = ""
    """An access token of the default organisation's owner."""

    @property
    def headers(self) -> dict[str, str]:
        """``Authorization`` of the default organisation's owner."""
        return {"Authorization": f"Bearer {self.token}"}

    def ws(self, path: str) -> str:
        """The WebSocket URL of ``path`` (``/ws/agents/x?chat_id=c``), as the owner (``token=``)."""
        return f"{self.ws_url}{path}{'&' if '?' in path else '?'}token={self.token}"


async def log_in(
    url: str, email: str = OWNER_EMAIL, password: str = OWNER_PASSWORD, *, host: str | None = None
) -> str:
    """An access token for this account on the server at ``url`` (``host``: the ``Host``
    header, for a server that doesn't answer to its address, see ``ALLOWED_HOSTS``)."""
    headers = {"Host": host} if host else {}
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as client:
        response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
        response.raise_for_status()
        return str(response.json()["access_token"])


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
        running = RunningApp(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", app, settings)
        if settings.admin_email == OWNER_EMAIL:
            allowed = settings.hosts
            host = None if host_allowed("127.0.0.1", allowed) else sorted(allowed)[0]
            running.token = await log_in(running.url, host=host)
        yield running
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
