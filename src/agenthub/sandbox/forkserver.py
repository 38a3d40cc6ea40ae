"""The fork server: imports and prepares everything once, then forks one process per slot.

Started by the pool (``pool.py``) with an environment that holds no secret and one
inherited socket (a ``SOCK_SEQPACKET`` pair end), optionally inside the bubblewrap jail.
Messages are JSON, one per packet:

- from the pool: ``{"op": "spawn", "slot": n}`` with the slot's socket attached (SCM_RIGHTS),
  and ``{"op": "kill", "pid": p}``;
- to the pool: ``{"op": "hello"}``, ``{"op": "spawned", "slot": n, "pid": p}``,
  ``{"op": "failed", "slot": n, "error": text}`` (the fork failed),
  ``{"op": "exited", "pid": p, "signal": s, "code": c, "cpu_seconds": t}``.

The server reaps its children, removes their temporary folders, and kills a slot's whole
process group only while that process is its own unreaped child (a pid that cannot have
been reused). It exits, and its children die with it, when the pool's end closes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sys
import tempfile
from typing import Any

from agenthub.sandbox import language
from agenthub.sandbox.child import Setup, serve_one
from agenthub.sandbox.layers import filesystem, libc, rlimits, syscalls
from agenthub.sandbox.layers.identity import Identity
from agenthub.sandbox.limits import MB

PACKET = 64 * 1024


class ForkServer:
    def __init__(self, control: socket.socket, setup: Setup, tmp_base: str) -> None:
        self.control = control
        self.setup = setup
        self.tmp_base = tmp_base
        self.children: dict[int, str] = {}

    def send(self, body: dict[str, Any]) -> None:
        try:
            self.control.send(json.dumps(body).encode())
        except OSError:
            self.stop()

    def serve(self) -> None:
        signal.signal(signal.SIGCHLD, lambda signum, frame: self.reap())
        self.send({"op": "hello", "pid": os.getpid()})
        while True:
            try:
                data, fds, _flags, _address = socket.recv_fds(self.control, PACKET, 1)
            except OSError:
                break
            if not data:
                break
            message = json.loads(data)
            if message.get("op") == "spawn" and fds:
                self.spawn(int(message["slot"]), fds[0])
            elif message.get("op") == "kill":
                self.kill(int(message["pid"]))
            for fd in fds[1:]:
                os.close(fd)
        self.stop()

    def spawn(self, slot: int, channel_fd: int) -> None:
        tmp_dir = tempfile.mkdtemp(prefix=f"run-{slot}-", dir=self.tmp_base)
        if self.setup.identity is not None:
            os.chown(tmp_dir, self.setup.identity.uid, self.setup.identity.gid)
        # SIGCHLD waits until the child is on the books, so its exit is never reported first.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        try:
            pid = os.fork()
            if pid == 0:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
                serve_one(socket.socket(fileno=channel_fd), self.setup, tmp_dir)
            self.children[pid] = tmp_dir
            self.send({"op": "spawned", "slot": slot, "pid": pid})
        except OSError as error:
            shutil.rmtree(tmp_dir, ignore_errors=True)
            self.send({"op": "failed", "slot": slot, "error": str(error)})
        finally:
            os.close(channel_fd)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})

    def kill(self, pid: int) -> None:
        if pid in self.children:  # still ours and not reaped: the pid is its own
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def reap(self) -> None:
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            tmp_dir = self.children.pop(pid, None)
            if tmp_dir:
                shutil.rmtree(tmp_dir, ignore_errors=True)
            self.send({
                "op": "exited", "pid": pid,
                "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
            })

    def stop(self) -> None:
        for pid in list(self.children):
            self.kill(pid)
        shutil.rmtree(self.tmp_base, ignore_errors=True)
        os._exit(0)


def prepare(options: dict[str, Any]) -> tuple[Setup, str]:
    """Everything the children share, done once: imports, the filter, the user, the folders."""
    language.preload()
    identity = Identity(options["uid"], options["gid"]) if options.get("uid") is not None else None
    tmp_base = options["tmp_dir"]
    os.makedirs(tmp_base, mode=0o711, exist_ok=True)
    setup = Setup(
        identity=identity,
        seccomp_filter=syscalls.build() if options.get("seccomp", True) else None,
        landlock_abi=filesystem.abi_version() if options.get("landlock", True) else 0,
        readable=tuple(filesystem.readable_paths()),
        jailed=bool(options.get("jailed")),
        baseline_bytes=rlimits.address_space_in_use(),
        max_cpu_seconds=float(options["max_cpu_seconds"]),
        max_memory_bytes=int(options["max_memory_mb"]) * MB,
        tmp_bytes=int(options["tmp_bytes"]),
        devnull=os.open(os.devnull, os.O_RDWR),
    )
    return setup, tmp_base


def main(argv: list[str]) -> None:
    control_fd, options = int(argv[1]), json.loads(argv[2])
    libc.prctl(libc.PR_SET_PDEATHSIG, signal.SIGKILL)
    control = socket.socket(fileno=control_fd)
    setup, tmp_base = prepare(options)
    ForkServer(control, setup, tmp_base).serve()


if __name__ == "__main__":
    main(sys.argv)
