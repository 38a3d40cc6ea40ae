"""Starting runner processes from a warm fork server.

The fork server imports :mod:`agenthub.runtime.runner_main` (and with it LangGraph and the
model clients) once, through :mod:`agenthub.runtime.runner_preload`, which also freezes it
out of garbage collection; every runner is then a fork of that process rather than a fresh
interpreter importing everything again, and shares its memory.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any

from agenthub.config import Settings

PRELOAD = ["agenthub.runtime.runner_preload"]


class ProcessLauncher:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._context: BaseContext = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD)  # type: ignore[attr-defined]

    def warm(self) -> None:
        """Start the fork server and wait until it has imported what runners use (one
        empty fork proves it), so even the first agent start doesn't pay for it. Also
        imports the runner's module here, which :meth:`spawn` names as the target."""
        from agenthub.runtime import runner_main  # noqa: F401
        process = self._context.Process(target=_nothing, name="agenthub-warm-up")  # type: ignore[attr-defined]
        process.start()
        process.join(60)

    def spawn(self, agent_id: str, host_id: str) -> BaseProcess:
        from agenthub.runtime import runner_main

        process = self._context.Process(  # type: ignore[attr-defined]
            target=runner_main.run_child,
            args=(self._settings, agent_id, host_id, os.getpid()),
            name=f"agenthub-runner-{agent_id}",
            daemon=False,
        )
        process.start()
        return process


    def spawn_target(self, target: Callable[..., None], args: tuple[Any, ...], name: str) -> BaseProcess:
        """Another kind of process forked from the same warm server (a Telegram bot's):
        ``target`` (a module-level function) runs with ``args`` in it."""
        process = self._context.Process(target=target, args=args, name=name, daemon=False)  # type: ignore[attr-defined]
        process.start()
        return process


async def end_process(process: BaseProcess, *, grace: float) -> None:
    """SIGTERM, then SIGKILL when it has not exited after ``grace`` seconds; reaped."""
    signal_process(process, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while process.exitcode is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    if process.exitcode is None:
        signal_process(process, signal.SIGKILL)
    await asyncio.to_thread(process.join, 5)


def _nothing() -> None:
    return None


def signal_process(process: BaseProcess, signum: int) -> None:
    if process.pid is None or process.exitcode is not None:
        return
    try:
        os.kill(process.pid, signum)
    except ProcessLookupError:
        pass


def describe_exit(exitcode: int | None) -> str:
    if exitcode is None:
        return "still running"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exited with code {exitcode}"
