"""A pool slot: one sandboxed process, its socket, and the handle (a pidfd) the pool kills it by.

The pool never registers a pidfd with its event loop; it waits for processes in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import signal
import socket
import time
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("agenthub.sandbox")


@dataclass(eq=False)
class Slot:
    number: int
    sock: socket.socket
    generation: int = 0  # which fork server forked it (a restart starts a new generation)
    pid: int = 0
    # A handle on the process that no other process can reuse; the pool kills through it even
    # when the fork server is gone. None where the pid is not one the pool can verify as ours.
    pidfd: int | None = None
    warm: bool = False
    running: bool = False
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    exited: asyncio.Future[dict[str, Any]] | None = None


def open_pidfd(pid: int, *, server_pid: int | None) -> int | None:
    """A pidfd for ``pid`` once it is checked to descend from the fork server ``server_pid`` (no
    pid namespace between us and it, so the number names the same process here)."""
    try:
        pidfd = os.pidfd_open(pid)
    except (OSError, AttributeError):
        return None
    if server_pid is not None and server_pid in ancestors(pid, depth=3):
        return pidfd
    os.close(pidfd)
    return None


def signal_slot(slot: Slot, number: int) -> None:
    if slot.pidfd is not None:
        with contextlib.suppress(OSError):
            signal.pidfd_send_signal(slot.pidfd, number)


def ended(slot: Slot) -> bool:
    """The slot's process has ended (reported by the fork server, or seen on its pidfd)."""
    if slot.exited is not None and slot.exited.done():
        return True
    return slot.pidfd is not None and bool(select.select([slot.pidfd], [], [], 0)[0])


def ancestors(pid: int, *, depth: int) -> list[int]:
    """The parent, grandparent, ... of ``pid`` (up to ``depth`` of them), from /proc."""
    found: list[int] = []
    for _ in range(depth):
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                text = stat.read()
        except OSError:
            break
        pid = int(text[text.rindex(b")") + 2:].split()[1])
        found.append(pid)
    return found


async def wait_exited(slots: list[Slot], timeout: float) -> None:
    """Wait until the process of every slot has ended (its pidfd turns readable), at most
    ``timeout``. The wait runs in a thread: pidfds are never registered with the event loop."""
    # Copies of the pidfds: a run in flight closes its own slot (and its pidfd) meanwhile.
    pending = {os.dup(slot.pidfd): slot for slot in slots if slot.pidfd is not None}
    deadline = time.monotonic() + timeout
    try:
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                logger.error("sandbox: sandboxed processes did not end when killed: %s",
                             ", ".join(str(slot.pid) for slot in pending.values()))
                return
            ready, _, _ = await asyncio.to_thread(select.select, list(pending), [], [], left)
            for fd in ready:
                pending.pop(fd, None)
                os.close(fd)
    finally:
        for fd in pending:
            os.close(fd)


def forget_stale_entry(fd: int) -> None:
    """Drop what the event loop may still hold for ``fd`` from a file closed under it, so
    registering the new file of that number really watches it."""
    loop = asyncio.get_running_loop()
    with contextlib.suppress(ValueError, OSError, RuntimeError):
        loop.remove_reader(fd)
    with contextlib.suppress(ValueError, OSError, RuntimeError):
        loop.remove_writer(fd)
