"""Running ``agenthub`` as real processes for the end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.server import OWNER_EMAIL, OWNER_PASSWORD, free_port, log_in

AGENTHUB = str(Path(sys.executable).parent / "agenthub")
# What the test process's environment must not leak into a server or CLI under test.
SCRUBBED = (
    "DATABASE_URL", "REDIS_URL", "REDIS_KEY_PREFIX", "DEMO_AGENT", "MANAGER_PORT", "MANAGER_HOST",
    "DATA_DIR", "OPENAI_API_KEY", "OPENROUTER_API_KEY", "OPENAI_BASE_URL", "SECRET_BOX_KEY", "NEW_SECRET_BOX_KEY",
    "ADMIN_EMAIL", "ADMIN_PASSWORD", "JWT_SECRET",
    "REGISTRATION", "AGENTHUB_TOKEN", "AGENTHUB_CONFIG_DIR",
    "SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM", "SMTP_TLS",
    "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "PUBLIC_URL", "SCHEDULER_INTERVAL",
    "NOTIFICATION_MAX_ATTEMPTS", "NOTIFICATION_RETRY_BASE",
)


def clean_env(**values: str) -> dict[str, str]:
    """The test's environment without what would change the process under test, plus
    ``values``; the default organisation's owner is the tests' (``ADMIN_EMAIL``/``ADMIN_PASSWORD``)."""
    env = {k: v for k, v in os.environ.items() if k.upper() not in SCRUBBED and not k.upper().startswith("SANDBOX_")}
    env.update(SANDBOX_POOL_SIZE="1")  # one warm sandboxed process per server under test
    env.update(ADMIN_EMAIL=OWNER_EMAIL, ADMIN_PASSWORD=OWNER_PASSWORD)
    env.update(ARGON2_TIME_COST="1", ARGON2_MEMORY_KIB="1024", ARGON2_PARALLELISM="1")  # fast test logins
    env.update(values)
    return env


def first_start_env(**values: str) -> dict[str, str]:
    """:func:`clean_env` without ``ADMIN_EMAIL``/``ADMIN_PASSWORD``: a fresh install as a user
    starts it, whose first owner's password is generated."""
    return {k: v for k, v in clean_env(**values).items() if k not in ("ADMIN_EMAIL", "ADMIN_PASSWORD")}


def run_cli(*args: str, env: Mapping[str, str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AGENTHUB, *args], env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    ws_url: str
    log: Path
    token: str = ""
    """An access token of the default organisation's owner (when ``ADMIN_PASSWORD`` was set)."""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def ws(self, path: str) -> str:
        """The WebSocket URL of ``path``, as the owner (``token=``)."""
        return f"{self.ws_url}{path}{'&' if '?' in path else '?'}token={self.token}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def terminate(self, *, timeout: float = 15.0) -> int:
        """SIGTERM, then wait (in a thread, so the loop goes on) for the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.to_thread(self.process.wait, timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"agenthub serve did not exit within {timeout}s of SIGTERM\n{self.output()[-4000:]}"
            ) from None


@asynccontextmanager
async def serve(*, env: Mapping[str, str], cwd: Path, ready_timeout: float = 60.0) -> AsyncIterator[Served]:
    """``agenthub serve --port P`` as a real process, ready (health answers) when yielded;
    killed at the end if the test did not stop it."""
    port = free_port()
    log = cwd / f"serve-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [AGENTHUB, "serve", "--port", str(port)], env=dict(env), cwd=cwd,
            stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )
    served = Served(process, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", log)
    try:
        deadline = asyncio.get_running_loop().time() + ready_timeout
        async with httpx.AsyncClient(base_url=served.url, timeout=5) as client:
            while True:
                if process.poll() is not None:
                    raise AssertionError(f"agenthub serve exited with {process.returncode}\n{served.output()[-4000:]}")
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError(f"agenthub serve was not healthy within {ready_timeout}s\n{served.output()[-4000:]}")
                await asyncio.sleep(0.1)
        if env.get("ADMIN_EMAIL") and env.get("ADMIN_PASSWORD"):
            served.token = await log_in(served.url, env["ADMIN_EMAIL"], env["ADMIN_PASSWORD"])
        yield served
    finally:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(10)
