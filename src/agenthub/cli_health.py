"""``agenthub health``: exit 0 when the AgentHub process of this machine works, 1 when not;
what a container's health check (Docker's ``HEALTHCHECK``, compose's ``healthcheck``) runs.

The gateway (``agenthub serve``) is asked its ``/health`` on the loopback address of
``MANAGER_PORT``, straight, without the ``ROOT_PATH`` a proxy in front adds. A worker
(``agenthub worker``) has no port: ``--worker`` looks on the bus for the heartbeat of a
worker on this host name (a container's host name is its own), fresh as the supervisor
wants it. ``cli.py`` registers the command.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Annotated

import typer

from agenthub.cli_output import console, fail, read_settings
from agenthub.config import Settings

LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}
"""Where to reach a server that listens on every address."""
TIMEOUT = 5.0


def health(
    worker: Annotated[
        bool, typer.Option("--worker", help="Check an `agenthub worker` on this host instead of the gateway")
    ] = False,
) -> None:
    """Exit 0 when AgentHub on this machine is healthy, else 1 saying why (for health checks)."""
    settings = read_settings()
    problem = asyncio.run(_worker_problem(settings)) if worker else _gateway_problem(settings)
    if problem:
        fail(problem)
    console.print("healthy")


def gateway_url(settings: Settings) -> str:
    host = settings.manager_host.strip()
    host = LOOPBACK.get(host, f"[{host}]" if ":" in host and not host.startswith("[") else host)
    return f"http://{host}:{settings.manager_port}/health"


def _gateway_problem(settings: Settings) -> str | None:
    import httpx  # here: every other command starts without it

    url = gateway_url(settings)
    try:
        response = httpx.get(url, timeout=TIMEOUT)
    except httpx.HTTPError as error:
        return f"{url}: {type(error).__name__}: {error}"
    if response.status_code == 200:
        return None
    try:
        checks = response.json().get("checks", {})
        failing = ", ".join(sorted(name for name, check in checks.items() if not check.get("ok", True)))
    except (ValueError, AttributeError):
        failing = ""
    return f"{url} answered {response.status_code}" + (f" (failing: {failing})" if failing else "")


async def _worker_problem(settings: Settings) -> str | None:
    from agenthub.bus import StreamRetention, keys, open_bus

    if settings.redis_url is None:
        return "REDIS_URL is not set: workers need the Redis bus"
    retention = StreamRetention(settings.stream_retention_seconds, settings.stream_max_length)
    bus = open_bus(settings.redis_url, prefix=settings.redis_key_prefix, retention=retention)
    mine = f"worker-{socket.gethostname()}-"
    try:
        members = sorted(m for m in await asyncio.wait_for(bus.set_members(keys.WORKERS_SET), TIMEOUT)
                         if m.startswith(mine))
        beats = await bus.get_many([keys.host_heartbeat(m) for m in members]) if members else []
    except Exception as error:  # noqa: BLE001 - a health check reports, never raises
        return f"cannot read the bus: {type(error).__name__}"
    finally:
        await bus.close()
    now = time.time()  # as fresh as the supervisor wants a host's heartbeat (runtime/liveness.py)
    if any(beat is not None and now - beat["at"] <= settings.heartbeat_stale_after for beat in beats):
        return None
    return f"no worker on {socket.gethostname()} has a fresh heartbeat"
