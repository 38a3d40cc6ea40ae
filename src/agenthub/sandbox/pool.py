"""The pool: a fork server and warm, locked-down processes waiting for one run each.

A run takes a warm process (every layer already in place), sends it the code, and waits
for the answer up to its wall-clock limit; then the process is gone and a fresh one is
already being forked in its place. Nothing a run does can raise into, block or crash the
caller: every failure, the fork server's own death included, becomes an error result.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from typing import Any

from agenthub.sandbox import frames
from agenthub.sandbox.layers import Layers, filesystem, jail
from agenthub.sandbox.layers.identity import resolve
from agenthub.sandbox.limits import DEFAULT_LIMITS, Limits, asked
from agenthub.sandbox.result import Result
from agenthub.sandbox.slots import (
    Slot,
    ended,
    forget_stale_entry,
    open_pidfd,
    signal_slot,
    wait_exited,
)

logger = logging.getLogger("agenthub.sandbox")

READY_TIMEOUT = 30.0
EXIT_REPORT_TIMEOUT = 2.0
PACKET = 64 * 1024
MAX_JOB_BYTES = 32 * 1024 * 1024  # what a sandboxed process reads at most (child.MAX_JOB_BYTES)


class SandboxUnavailable(Exception):
    """The sandbox could not start with the layers it needs."""


@dataclass(frozen=True)
class PoolConfig:
    size: int = 2
    maxima: Limits = field(default_factory=lambda: Limits(wall_seconds=30.0, cpu_seconds=10.0,
                                                          memory_mb=1024, output_bytes=8 * 1024 * 1024,
                                                          result_bytes=8 * 1024 * 1024))
    user: str = "nobody"
    tmp_bytes: int = 16 * 1024 * 1024
    bubblewrap: str = "auto"  # "auto": where bwrap is installed; "on": required; "off"
    # Checked by the service (service.py), which still reports the layers when one is missing.
    required_layers: tuple[str, ...] = ()
    python: str = sys.executable


class SandboxPool:
    """Runs code in the sandbox; ``start()`` before the first run, ``close()`` at the end."""

    def __init__(self, config: PoolConfig) -> None:
        self.config = config
        self.layers: Layers | None = None
        self.status = "stopped"
        self._numbers = itertools.count(1)
        self._warm: asyncio.Queue[Slot] = asyncio.Queue()
        self._running = asyncio.Semaphore(config.size)
        self._spawning: dict[int, Slot] = {}
        self._by_pid: dict[int, Slot] = {}
        self._busy: set[Slot] = set()
        self._generation = 0
        self._process: asyncio.subprocess.Process | None = None
        self._control: socket.socket | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._first_ready: asyncio.Future[Layers] | None = None
        self._tmp_dir = ""
        self._jailed = False
        self._jail_error = ""
        self.replacements = 0

    # -- life cycle ------------------------------------------------------------------------

    async def start(self) -> Layers:
        """Start the fork server and the warm processes; the layers the first one reports.

        With ``bubblewrap="auto"``, a ``bwrap`` that is installed but cannot make its
        namespaces (a container's seccomp profile, say) does not stop the sandbox: it starts
        again without the jail, and the layers say why bubblewrap is missing."""
        try:
            layers = await self._start_once()
        except SandboxUnavailable as error:
            if not (self.config.bubblewrap == "auto" and self._jailed):
                raise
            self._jail_error = str(error)
            logger.warning("sandbox: bubblewrap could not start the fork server (%s); starting without it", error)
            layers = await self._start_once()
        if self._jail_error:
            missing = tuple(reason for reason in layers.missing if not reason.startswith("bubblewrap:"))
            layers = replace(layers, missing=(*missing, f"bubblewrap: bwrap could not run here ({self._jail_error})"))
        self.layers = layers
        self.status = "ready"
        return layers

    async def _start_once(self) -> Layers:
        self.status = "starting"
        self._first_ready = asyncio.get_running_loop().create_future()
        try:
            await self._start_fork_server()
            for _ in range(self.config.size):
                self._spawn()
            return await asyncio.wait_for(asyncio.shield(self._first_ready), READY_TIMEOUT)
        except (TimeoutError, OSError, SandboxUnavailable) as error:
            self.status = "unavailable"
            await self.close()
            raise SandboxUnavailable(f"the sandbox did not start: {error}") from error

    async def close(self) -> None:
        """Stop the fork server and every sandboxed process (awaited), remove the folders."""
        if self.status != "unavailable":
            self.status = "stopped"
        if self._reader_task:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task
        for task in list(self._tasks):
            task.cancel()
        slots = {*self._by_pid.values(), *self._busy}
        while not self._warm.empty():
            slots.add(self._warm.get_nowait())
        for slot in slots:
            signal_slot(slot, signal.SIGKILL)
            if slot.exited is not None and not slot.exited.done():
                slot.exited.set_result({"op": "exited", "lost": True})
        if self._control:
            self._control.close()
            self._control = None
        await wait_exited(list(slots), EXIT_REPORT_TIMEOUT)
        for slot in slots - self._busy:  # a run in flight closes its own slot
            self._close_slot(slot)
        for slot in self._spawning.values():
            self._close_slot(slot)
        self._spawning.clear()
        self._by_pid.clear()
        if self._process and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            await self._process.wait()
        if self._tmp_dir:
            shutil.rmtree(self._tmp_dir, ignore_errors=True)

    def health(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status, "pool_size": self.config.size,
                                "warm": self._warm.qsize()}
        if self.layers is not None:
            body["layers"] = self.layers.active()
            body["missing"] = list(self.layers.missing)
        return body

    # -- running code ----------------------------------------------------------------------

    async def run(self, code: str, *, message: Any = None, variables: dict[str, Any] | None = None,
                  limits: dict[str, Any] | Limits | None = None) -> Result:
        """Run ``main(message, variables)`` of ``code``; always a result, never an exception."""
        started = time.perf_counter()
        try:
            run_limits = asked(limits, maxima=self.config.maxima)
        except ValueError as error:
            return Result.failed("exception", str(error))
        if self.status != "ready":
            return Result.failed("exception", f"the sandbox is not ready ({self.status})")
        code = code.removeprefix("\ufeff")  # a byte-order mark, as Python itself ignores it
        async with self._running:
            try:
                slot = await asyncio.wait_for(self._warm_slot(), READY_TIMEOUT)
            except TimeoutError:
                return Result.failed("exception", "no sandboxed process became free; try again")
            slot.running = True
            self._busy.add(slot)
            self._spawn()  # the replacement forks while this run goes on
            try:
                result = await self._run_in(slot, code, message, variables or {}, run_limits)
            finally:
                self._busy.discard(slot)
                self._close_slot(slot)
        return Result(value=result.value, error=result.error, output=result.output,
                      duration_ms=(time.perf_counter() - started) * 1000)

    async def _warm_slot(self) -> Slot:
        """The next warm slot whose process is still alive (one that died waiting is dropped)."""
        while True:
            slot = await self._warm.get()
            if slot.generation == self._generation and not ended(slot):
                return slot
            self._close_slot(slot)

    async def _run_in(self, slot: Slot, code: str, message: Any, variables: dict[str, Any],
                      limits: Limits) -> Result:
        assert slot.reader is not None and slot.writer is not None
        try:
            job = frames.encode({"code": code, "message": message, "variables": variables,
                                 "limits": limits.as_dict()})
        except (TypeError, ValueError, RecursionError) as error:
            return Result.failed("exception", f"message and variables must be JSON: {error}")
        if len(job) > MAX_JOB_BYTES:
            return Result.failed("exception", f"the code, message and variables are over {MAX_JOB_BYTES} bytes")
        slot.writer.write(job)
        # Printed text may grow when it is escaped as JSON (a control character: 6 bytes).
        max_reply = limits.result_bytes + limits.output_bytes * 6 + 64 * 1024
        try:
            reply = await asyncio.wait_for(frames.read(slot.reader, max_bytes=max_reply), limits.wall_seconds)
        except TimeoutError:
            self._kill(slot)
            return Result.failed("timeout", f"the code ran longer than {limits.wall_seconds:g} s")
        except frames.FrameTooLarge:
            self._kill(slot)
            return Result.failed("output", f"the code's output and result are over {max_reply} bytes")
        except frames.FrameError:
            return await self._died(slot, limits)
        if not isinstance(reply, dict):
            return Result.failed("exception", "the sandboxed process answered something unexpected")
        return Result.from_dict(reply, duration_ms=0.0)

    async def _died(self, slot: Slot, limits: Limits) -> Result:
        """The process ended without an answer: say why, from what the fork server saw."""
        if slot.generation != self._generation:
            return Result.failed("exception", "the sandbox was restarted during the run; try again")
        report: dict[str, Any] = {}
        if slot.exited is not None:
            with contextlib.suppress(TimeoutError):
                report = await asyncio.wait_for(asyncio.shield(slot.exited), EXIT_REPORT_TIMEOUT)
        cpu = float(report.get("cpu_seconds") or 0.0)
        if report.get("signal") in (signal.SIGXCPU, signal.SIGKILL) and cpu >= limits.cpu_seconds - 0.05:
            return Result.failed("timeout", f"the code used more than {limits.cpu_seconds:g} s of CPU time")
        if report.get("signal") == signal.SIGKILL:
            return Result.failed("memory", f"the code was stopped by the kernel (over {limits.memory_mb} MB of memory?)")
        if report.get("signal") == signal.SIGSYS:
            return Result.failed("forbidden", "the code made a system call the sandbox does not allow")
        if self.status == "stopped":
            return Result.failed("exception", "the sandbox was stopped during the run")
        if self.status != "ready":
            return Result.failed("exception", "the sandbox was restarted during the run; try again")
        return Result.failed("exception", "the code stopped the sandboxed process without an answer")

    # -- the fork server -------------------------------------------------------------------

    async def _start_fork_server(self) -> None:
        parent_end, server_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._tmp_dir = tempfile.mkdtemp(prefix="agenthub-sandbox-")
        os.chmod(self._tmp_dir, 0o711)
        try:
            identity = resolve(self.config.user)
        except ValueError as error:
            raise SandboxUnavailable(str(error)) from None
        options = {
            "uid": identity.uid if identity else None, "gid": identity.gid if identity else None, "tmp_dir": os.path.join(self._tmp_dir, "runs"),
            "tmp_bytes": self.config.tmp_bytes, "max_cpu_seconds": self.config.maxima.cpu_seconds,
            "max_memory_mb": self.config.maxima.memory_mb,
        }
        command = [self.config.python, "-P", "-s", "-m", "agenthub.sandbox.forkserver", str(server_end.fileno())]
        bwrap = jail.bwrap_path() if self.config.bubblewrap != "off" and not self._jail_error else None
        self._jailed = bwrap is not None
        if self.config.bubblewrap == "on" and bwrap is None:
            raise SandboxUnavailable("SANDBOX_BUBBLEWRAP=on but bwrap is not installed (Debian: bubblewrap)")
        if bwrap:
            options["jailed"] = True
            readable = filesystem.readable_paths()
            command = [*jail.command(bwrap, readable=readable, tmp_dir=self._tmp_dir,
                                     tmp_bytes=self.config.tmp_bytes * (self.config.size * 2 + 1)), *command]
        command.append(json.dumps(options))
        self._process = await asyncio.create_subprocess_exec(
            *command, env=clean_environment(), pass_fds=(server_end.fileno(),),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, start_new_session=True, cwd="/",
        )
        server_end.close()
        parent_end.setblocking(False)
        self._control = parent_end
        self._reader_task = asyncio.create_task(self._read_control())
        self._track(asyncio.create_task(self._log_stderr()))

    async def _read_control(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._control is not None
        while True:
            try:
                data = await loop.sock_recv(self._control, PACKET)
            except OSError:
                data = b""
            if not data:
                self._fork_server_lost()
                return
            self._on_message(json.loads(data))

    def _on_message(self, message: dict[str, Any]) -> None:
        op = message.get("op")
        if op == "spawned":
            slot = self._spawning.pop(int(message["slot"]), None)
            if slot is None:
                return
            slot.pid = int(message["pid"])
            slot.pidfd = open_pidfd(slot.pid, server_pid=self._process.pid if self._process else None)
            slot.exited = asyncio.get_running_loop().create_future()
            self._by_pid[slot.pid] = slot
            self._track(asyncio.create_task(self._await_ready(slot)))
        elif op == "failed":
            slot = self._spawning.pop(int(message["slot"]), None)
            if slot is not None:
                self._close_slot(slot)
                self._slot_failed(f"the fork server could not fork: {message.get('error')}")
        elif op == "exited":
            slot = self._by_pid.pop(int(message["pid"]), None)
            if slot is not None and slot.exited is not None and not slot.exited.done():
                slot.exited.set_result(message)
            if slot is not None and slot.warm and not slot.running:
                self._drop_warm(slot)

    def _drop_warm(self, dead: Slot) -> None:
        """A warm process died before any run (killed from outside): replace it now."""
        kept = []
        while not self._warm.empty():
            slot = self._warm.get_nowait()
            if slot is dead:
                self._close_slot(slot)
            else:
                kept.append(slot)
        for slot in kept:
            self._warm.put_nowait(slot)
        if self.status == "ready":
            self._spawn()

    async def _await_ready(self, slot: Slot) -> None:
        try:
            forget_stale_entry(slot.sock.fileno())
            slot.reader, slot.writer = await asyncio.open_unix_connection(sock=slot.sock, limit=2**20)
            ready = await asyncio.wait_for(frames.read(slot.reader), READY_TIMEOUT)
            if "failed" in ready:
                raise SandboxUnavailable(ready["failed"])
            layers = Layers.from_dict(ready["ready"])
        except (SandboxUnavailable, frames.FrameError, TimeoutError, KeyError, TypeError, OSError) as error:
            self._close_slot(slot)
            if slot.generation == self._generation:
                self._slot_failed(f"a sandboxed process did not get ready ({error or type(error).__name__})")
            return
        if self._first_ready is not None and not self._first_ready.done():
            self._first_ready.set_result(layers)
        if slot.generation != self._generation or self.status in ("stopped", "unavailable"):
            self._close_slot(slot)  # forked by a fork server that is gone
            return
        slot.warm = True
        self._warm.put_nowait(slot)

    def _slot_failed(self, reason: str) -> None:
        logger.error("sandbox: %s", reason)
        if self._first_ready is not None and not self._first_ready.done():
            self._first_ready.set_exception(SandboxUnavailable(reason))
        elif self.status == "ready":
            self._spawn()

    def _spawn(self) -> None:
        if self._control is None:
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        slot = Slot(next(self._numbers), ours, generation=self._generation)
        self._spawning[slot.number] = slot
        try:
            socket.send_fds(self._control, [json.dumps({"op": "spawn", "slot": slot.number}).encode()],
                            [theirs.fileno()])
        except OSError as error:
            self._spawning.pop(slot.number, None)
            ours.close()
            logger.error("sandbox: could not ask the fork server for a process: %s", error)
        finally:
            theirs.close()
        if self.status == "ready":
            self.replacements += 1

    def _kill(self, slot: Slot) -> None:
        signal_slot(slot, signal.SIGKILL)
        if self._control is not None and slot.pid and slot.generation == self._generation:
            with contextlib.suppress(OSError):
                self._control.send(json.dumps({"op": "kill", "pid": slot.pid}).encode())

    def _close_slot(self, slot: Slot) -> None:
        if slot.writer is not None:
            slot.writer.close()
        else:
            # A transport may be registering the socket right now (the slot was closed while
            # getting ready): take it out of the event loop first, or the loop keeps a stale
            # entry for the number and never watches the next file that reuses it.
            if slot.sock.fileno() >= 0:
                with contextlib.suppress(ValueError, OSError, RuntimeError):
                    asyncio.get_running_loop().remove_reader(slot.sock.fileno())
            slot.sock.close()
        if slot.pidfd is not None:
            os.close(slot.pidfd)
            slot.pidfd = None

    def _fork_server_lost(self) -> None:
        if self.status in ("stopped", "unavailable"):
            return
        if self._first_ready is not None and not self._first_ready.done():
            self._first_ready.set_exception(SandboxUnavailable("the fork server stopped while starting"))
            return
        logger.error("sandbox: the fork server stopped; starting a new one")
        self.status = "restarting"
        self._track(asyncio.create_task(self._restart()))

    async def _restart(self) -> None:
        self._generation += 1
        # The runs in flight lose their process: kill it (it may outlive its fork server) and
        # let them answer now rather than wait for an exit report that will never come.
        for slot in list(self._busy):
            signal_slot(slot, signal.SIGKILL)
            if slot.exited is not None and not slot.exited.done():
                slot.exited.set_result({"op": "exited", "lost": True})
        while not self._warm.empty():
            self._close_slot(self._warm.get_nowait())
        for slot in self._spawning.values():
            self._close_slot(slot)
        self._spawning.clear()
        self._by_pid.clear()
        if self._control:
            self._control.close()
            self._control = None
        if self._process and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
        shutil.rmtree(self._tmp_dir, ignore_errors=True)
        try:
            await self._start_fork_server()
        except OSError as error:
            logger.error("sandbox: could not restart the fork server: %s", error)
            self.status = "unavailable"
            return
        self.status = "ready"
        for _ in range(self.config.size):
            self._spawn()

    async def _log_stderr(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        async for line in self._process.stderr:
            logger.warning("sandbox fork server: %s", line.decode("utf-8", "replace").rstrip()[:2000])

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def clean_environment() -> dict[str, str]:
    """An environment with no secret: only what Python needs to start and find AgentHub."""
    return {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONPATH": filesystem.package_root(),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
    }


__all__ = ["DEFAULT_LIMITS", "PoolConfig", "SandboxPool", "SandboxUnavailable"]
