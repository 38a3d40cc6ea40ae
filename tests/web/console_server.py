"""``agenthub serve`` as a real process for the browser tests, started and stopped from
synchronous code (Playwright's sync API runs no asyncio loop of ours).

It reuses the end-to-end tests' :func:`tests.e2e.processes.serve`, run on an event loop in
a thread of its own, so the loops of the asyncio tests in the same pytest process never
meet it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.processes import Served, clean_env, serve
from tests.notifications.mailserver import mail_server
from tests.support.server import OWNER_EMAIL, OWNER_PASSWORD

START_TIMEOUT = 90.0


@dataclass(frozen=True)
class ConsoleServer:
    url: str
    """``http://127.0.0.1:<port>``: the console's origin."""
    admin_email: str
    admin_password: str
    """The default organisation's owner (``ADMIN_EMAIL``/``ADMIN_PASSWORD``)."""
    data_dir: Path
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def console_env(data_dir: Path) -> dict[str, str]:
    """SQLite in ``data_dir``, the demo agent on, the tests' owner. Every browser test of a
    process registers and logs in from 127.0.0.1 without credentials: the anonymous rate
    limit is off so that the tests sharing one server don't share a budget of 60 requests a
    minute (the console's page and assets are never limited anyway)."""
    return clean_env(
        DATA_DIR=str(data_dir), DEMO_AGENT="true", RATE_LIMIT_ANONYMOUS_PER_MINUTE="0",
        ADMIN_EMAIL=OWNER_EMAIL, ADMIN_PASSWORD=OWNER_PASSWORD,
    )


@contextmanager
def console_server(workdir: Path) -> Iterator[ConsoleServer]:
    """A healthy ``agenthub serve`` on a free port of 127.0.0.1 until the block ends."""
    data_dir = workdir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = console_env(data_dir)
    started: dict[str, Served | BaseException] = {}
    ready, stop, done = threading.Event(), threading.Event(), threading.Event()

    async def run() -> None:
        try:
            # A server that sends e-mail (to a local SMTP server), as e-mail channels need.
            async with mail_server() as mail, serve(env={
                **env, "SMTP_HOST": mail.host, "SMTP_PORT": str(mail.port), "SMTP_TLS": "false",
                "SMTP_FROM": "console@example.com",
            }, cwd=workdir) as served:
                started["served"] = served
                ready.set()
                await asyncio.to_thread(stop.wait)
                await served.terminate()
        except BaseException as error:  # noqa: BLE001 - handed to the test's thread
            started.setdefault("error", error)
        finally:
            ready.set()
            done.set()

    thread = threading.Thread(target=asyncio.run, args=(run(),), name="console-server", daemon=True)
    thread.start()
    ready.wait(START_TIMEOUT)
    if "served" not in started:
        stop.set()
        error = started.get("error")
        raise AssertionError(f"agenthub serve did not start: {error}") from (
            error if isinstance(error, BaseException) else None
        )
    served = started["served"]
    assert isinstance(served, Served)
    try:
        yield ConsoleServer(served.url, OWNER_EMAIL, OWNER_PASSWORD, data_dir, served.log)
    finally:
        stop.set()
        done.wait(30)
        thread.join(5)
        if isinstance(started.get("error"), BaseException):
            raise AssertionError(f"agenthub serve did not stop cleanly: {started['error']}")
