"""Shared by the benchmarks: start `agenthub serve` (and workers) as real processes on a
scratch data directory, talk to them, stop them."""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
AGENTHUB = str(Path(sys.executable).parent / "agenthub")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    return f"{os.cpu_count()} cores ({cpu}){mem}, Python {platform.python_version()}"


OWNER_EMAIL = "bench@example.com"
OWNER_PASSWORD = "bench-password-1"


@dataclass
class Server:
    url: str
    env: dict[str, str]
    process: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)
    token: str = ""
    """An access token of the default organisation's owner: every turn is authenticated."""
    more_gateways: list[tuple[str, subprocess.Popen]] = field(default_factory=list)
    """Further `agenthub serve` processes on the same database and Redis (their URL, process)."""

    @property
    def urls(self) -> list[str]:
        """Every gateway's URL, this one first."""
        return [self.url, *(url for url, _ in self.more_gateways)]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://")


@contextlib.contextmanager
def scratch_database(server_url: str | None) -> Iterator[str | None]:
    """A fresh PostgreSQL database on the server of ``server_url`` (dropped afterwards), or
    None (SQLite in the scratch directory) when no URL is given."""
    if not server_url:
        yield None
        return
    import asyncio

    import asyncpg
    from sqlalchemy.engine import make_url

    server = make_url(server_url.replace("postgresql+asyncpg://", "postgresql://"))
    name = f"agenthub_bench_{uuid.uuid4().hex[:8]}"
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)

    async def run(sql: str) -> None:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def agenthub(
    *, redis_url: str | None, database_url: str | None, workers: int = 0, gateways: int = 1, **env: str
) -> Iterator[Server]:
    with tempfile.TemporaryDirectory(prefix="agenthub-bench-") as scratch:
        environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        environment.update({
            "DATA_DIR": str(Path(scratch) / "data"),
            "LOG_LEVEL": "WARNING",
            "DEMO_AGENT": "true",
            "REDIS_KEY_PREFIX": f"bench:{uuid.uuid4().hex[:8]}:",
            "ADMIN_EMAIL": OWNER_EMAIL,
            "ADMIN_PASSWORD": OWNER_PASSWORD,
            # Every turn passes the budget check (a budget far from spent).
            "USER_DEFAULT_BUDGET": "1000000",
            "USER_BUDGET_DURATION": "1mo",
            # Every request is counted (the cost is in every figure measured), none refused.
            "RATE_LIMIT_PER_MINUTE": "1000000000",
            "RATE_LIMIT_ANONYMOUS_PER_MINUTE": "1000000000",
            **env,
        })
        if redis_url:
            environment["REDIS_URL"] = redis_url
        if database_url:
            environment["DATABASE_URL"] = database_url
            subprocess.run([AGENTHUB, "migrate"], env=environment, check=True, capture_output=True)
        port = free_port()
        log = open(Path(scratch) / "serve.log", "w")  # noqa: SIM115
        process = subprocess.Popen([AGENTHUB, "serve", "--port", str(port)], env=environment, stdout=log, stderr=log, cwd=scratch)
        extra = [
            subprocess.Popen([AGENTHUB, "worker"], env=environment, stdout=log, stderr=log, cwd=scratch)
            for _ in range(workers)
        ]
        url = f"http://127.0.0.1:{port}"
        more: list[tuple[str, subprocess.Popen]] = []
        try:
            _wait_ready(url, process)
            for _ in range(gateways - 1):  # started once the first has made the owner and the demo agent
                other = free_port()
                more.append((f"http://127.0.0.1:{other}", subprocess.Popen(
                    [AGENTHUB, "serve", "--port", str(other)], env=environment, stdout=log, stderr=log, cwd=scratch)))
            for other_url, other_process in more:
                _wait_ready(other_url, other_process)
            if workers:
                time.sleep(1.0)  # workers register with their first heartbeat
            yield Server(url, environment, process, extra, token=_log_in(url), more_gateways=more)
        finally:
            everything = [process, *(proc for _, proc in more), *extra]
            for proc in everything:
                proc.send_signal(signal.SIGTERM)
            for proc in everything:
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
            log.close()


def _log_in(url: str) -> str:
    response = httpx.post(
        f"{url}/api/v1/auth/login", json={"email": OWNER_EMAIL, "password": OWNER_PASSWORD}, timeout=30
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _wait_ready(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("agenthub serve exited during start-up")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("agenthub serve did not become healthy")


FAKE_MODEL = {"provider": "fake", "model_id": "demo"}


def http_model(base_url: str) -> dict[str, str]:
    """Agent settings for the scripted model server at ``base_url``."""
    return {"provider": "openai_compatible", "model_id": "bench-model", "base_url": base_url}


def create_agent(server: Server, *, agent_id: str, isolation: str, model: dict[str, str] | None = None) -> None:
    response = httpx.post(f"{server.url}/api/v1/agents", json={
        "id": agent_id, "name": agent_id,
        "settings": {**(model or FAKE_MODEL), "isolation": isolation},
    }, headers=server.headers, timeout=30)
    response.raise_for_status()


@contextlib.contextmanager
def model_server(*, words: int = 12, delay: float = 0.0) -> Iterator[tuple[str, subprocess.Popen]]:
    """The scripted OpenAI-compatible server (bench/model_server.py) in its own process:
    its base URL and the process."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "model_server.py"), "--words", str(words), "--delay", str(delay)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError("the model server did not start")
        yield url, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def redis_available(url: str) -> bool:
    import redis

    try:
        redis.Redis.from_url(url).ping()
        return True
    except Exception:  # noqa: BLE001
        return False
