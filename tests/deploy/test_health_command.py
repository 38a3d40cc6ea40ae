"""``agenthub health``: what the Dockerfile's HEALTHCHECK and compose's health checks run,
against a real ``agenthub serve`` and a real ``agenthub worker``."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

import pytest

from tests.channels.helpers import eventually
from tests.e2e.processes import AGENTHUB, clean_env, run_cli, serve

pytestmark = pytest.mark.e2e


async def _health(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(run_cli, "health", *args, env=env, cwd=cwd)


async def test_health_says_whether_the_gateway_answers(tmp_path: Path) -> None:
    env = clean_env(DEMO_AGENT="false", DATA_DIR=str(tmp_path / "data"), ROOT_PATH="/web")
    async with serve(env=env, cwd=tmp_path) as server:
        port = server.url.rsplit(":", 1)[1]
        checked = await _health(env={**env, "MANAGER_PORT": port, "MANAGER_HOST": "0.0.0.0"}, cwd=tmp_path)
        assert checked.returncode == 0, checked.stderr
        assert "healthy" in checked.stdout
        await server.terminate()
    gone = await _health(env={**env, "MANAGER_PORT": port}, cwd=tmp_path)
    assert gone.returncode == 1
    assert f"http://127.0.0.1:{port}/health" in gone.stderr and "ConnectError" in gone.stderr


@pytest.mark.postgres
@pytest.mark.redis
async def test_health_worker_follows_the_heartbeat_of_this_hosts_worker(
    postgres_url: str, redis_server_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    env = clean_env(
        DATABASE_URL=postgres_url, REDIS_URL=redis_server_url, REDIS_KEY_PREFIX=redis_prefix,
        AGENT_RUNNER_HEARTBEAT_INTERVAL="0.5", STOP_GRACE_PERIOD="2", LOG_JSON="false",
    )
    migrated = await asyncio.to_thread(run_cli, "migrate", env=env, cwd=tmp_path)  # compose's one-shot
    assert migrated.returncode == 0, migrated.stderr
    none_yet = await _health("--worker", env=env, cwd=tmp_path)
    assert none_yet.returncode == 1 and "no worker on" in none_yet.stderr

    with (tmp_path / "worker.log").open("wb") as out:
        worker = subprocess.Popen([AGENTHUB, "worker"], env=env, cwd=tmp_path, stdout=out, stderr=out)
    try:
        async def _healthy() -> bool:
            return (await _health("--worker", env=env, cwd=tmp_path)).returncode == 0

        await eventually(_healthy, timeout=60, interval=0.3, what="the worker's heartbeat")
        worker.send_signal(signal.SIGTERM)  # a stopping worker removes its heartbeat
        assert await asyncio.to_thread(worker.wait, 30) == 0
        stopped = await _health("--worker", env=env, cwd=tmp_path)
        assert stopped.returncode == 1 and "no worker on" in stopped.stderr
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)

    no_bus = await _health("--worker", env={**env, "REDIS_URL": ""}, cwd=tmp_path)
    assert no_bus.returncode == 1 and "REDIS_URL" in no_bus.stderr
