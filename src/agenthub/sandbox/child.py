"""One sandboxed process: lock down, say which layers hold, read one run, answer, exit.

It is forked by the fork server (``forkserver.py``) and never returns: every path ends in
``os._exit``. Nothing of the user's is read before every layer is in place.
"""

from __future__ import annotations

import gc
import json
import os
import re
import signal
import socket
import sys
import time
import types
from dataclasses import dataclass
from typing import Any, NoReturn

from agenthub.sandbox import frames, language
from agenthub.sandbox.layers import Layers, filesystem, libc, rlimits, syscalls, tmpfs
from agenthub.sandbox.layers.identity import Identity, become
from agenthub.sandbox.limits import MB
from agenthub.sandbox.result import ErrorKind, Result

MAX_JOB_BYTES = 32 * MB
# What a run left behind (its globals, its value, its exception) lives until the process exits
# through ``os._exit``: freeing it would run the code's own ``finally`` blocks of suspended
# generators while the answer is sent.
_KEPT: list[Any] = []


class CpuLimitExceeded(BaseException):
    """SIGXCPU: the run used its CPU time (not catchable as ``Exception``)."""


@dataclass(frozen=True)
class Setup:
    """What the fork server prepared for its children (built once, before any fork)."""

    identity: Identity | None
    seccomp_filter: Any
    landlock_abi: int
    readable: tuple[str, ...]
    jailed: bool
    baseline_bytes: int
    max_cpu_seconds: float
    max_memory_bytes: int
    tmp_bytes: int
    devnull: int


def serve_one(channel: socket.socket, setup: Setup, tmp_dir: str) -> NoReturn:
    status = 0
    try:
        try:
            layers = lock_down(channel.fileno(), setup, tmp_dir)
        except Exception as error:  # noqa: BLE001 - reported to the pool, which logs it
            frames.send(channel, {"failed": f"{type(error).__name__}: {error}"})
            os._exit(1)
        frames.send(channel, {"ready": layers.as_dict()})
        job = frames.receive(channel, max_bytes=MAX_JOB_BYTES)
        frames.send(channel, execute(job, setup).as_dict())
    except BaseException:  # noqa: BLE001 - the platform sees the closed socket and reports it
        status = 1
    os._exit(status)


def lock_down(channel_fd: int, setup: Setup, tmp_dir: str) -> Layers:
    """Every layer this machine allows, in order; the missing ones are named with a reason."""
    missing: list[str] = []
    os.setsid()
    libc.prctl(libc.PR_SET_PDEATHSIG, signal.SIGKILL)
    for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGPIPE):
        signal.signal(number, signal.SIG_DFL)
    for fd in (0, 1, 2):
        os.dup2(setup.devnull, fd)
    os.closerange(3, channel_fd)
    os.closerange(channel_fd + 1, os.sysconf("SC_OPEN_MAX"))

    rules = filesystem.ruleset(readable=setup.readable, writable=tmp_dir) if setup.landlock_abi > 0 else None
    private_tmpfs = False
    if setup.identity is not None:
        try:
            tmpfs.mount_private(tmp_dir, size_bytes=setup.tmp_bytes, uid=setup.identity.uid,
                                gid=setup.identity.gid)
            private_tmpfs = True
        except OSError as error:
            missing.append(f"private_tmpfs: {error.strerror or error}")
        os.chdir(tmp_dir)
        parent = os.getppid()
        become(setup.identity)
        # The kernel forgets the death signal when the user changes: set it again, and go now
        # if the fork server already died in between.
        libc.prctl(libc.PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)
    else:
        os.chdir(tmp_dir)
        missing.append("unprivileged_user: the platform does not run as root, so runs share its user")
        missing.append("private_tmpfs: needs the platform to run as root")

    signal.signal(signal.SIGXCPU, _cpu_limit_exceeded)
    rlimits.apply(cpu_seconds=setup.max_cpu_seconds, memory_bytes=setup.baseline_bytes + setup.max_memory_bytes,
                  file_bytes=setup.tmp_bytes)
    libc.prctl(libc.PR_SET_NO_NEW_PRIVS, 1)

    landlock = False
    if rules is not None:
        filesystem.apply(rules)
        landlock = True
    else:
        missing.append("landlock: this kernel has no Landlock")
    seccomp = False
    if setup.seccomp_filter is not None:
        syscalls.load(setup.seccomp_filter)
        seccomp = True
    else:
        missing.append("seccomp: libseccomp is not installed (Debian: libseccomp2)")
    if not setup.jailed:
        missing.append("bubblewrap: bwrap is not installed (Debian: bubblewrap) or SANDBOX_BUBBLEWRAP=off")
    return Layers(
        process=True, rlimits=True, language=True, seccomp=seccomp, landlock=landlock,
        bubblewrap=setup.jailed, unprivileged_user=setup.identity is not None, private_tmpfs=private_tmpfs,
        missing=tuple(missing),
    )


def _cpu_limit_exceeded(signum: int, frame: Any) -> None:
    raise CpuLimitExceeded()


def execute(job: dict[str, Any], setup: Setup) -> Result:
    """Compile and run ``main`` of the job's code; every failure becomes an error result."""
    started = time.perf_counter()
    limits = job["limits"]
    rlimits.lower(cpu_seconds=limits["cpu_seconds"],
                  memory_bytes=setup.baseline_bytes + int(limits["memory_mb"]) * MB)
    printed = language.Printed(int(limits["output_bytes"]))
    try:
        code, errors = language.compile_code(job["code"])
    except (MemoryError, RecursionError):  # the parser's own limits: nesting thousands deep
        return Result.failed("syntax", "the code is nested too deeply to compile")
    except (ValueError, TypeError) as error:  # e.g. a NUL byte in the source
        return Result.failed("syntax", f"the code could not be compiled: {_text(error)}")
    if code is None:
        return _compile_error(errors)
    namespace = language.run_globals(printed)
    _KEPT.append(namespace)
    result = _call_main(code, namespace, job.get("message"), job.get("variables") or {}, limits, printed)
    return Result(value=result.value, error=result.error, output=printed.text(),
                  duration_ms=(time.perf_counter() - started) * 1000)


def _call_main(code: types.CodeType, namespace: dict[str, Any], message: Any, variables: Any,
               limits: dict[str, Any], printed: language.Printed) -> Result:
    """Every way the code can end, user code run while its value is checked included (a dict
    subclass's ``items``), becomes a result; after ``main`` returns, no collection runs."""
    sys.setrecursionlimit(language.RECURSION_LIMIT)
    try:
        exec(code, namespace)
        main = namespace.get("main")
        if not callable(main):
            return Result.failed("exception", "the code must define main(message, variables)")
        value = main(message, variables)
        if isinstance(value, types.CoroutineType):
            value = _drive(value)
        gc.disable()
        _KEPT.append(value)
        sys.setrecursionlimit(1000)
        if printed.exceeded:
            return _output_exceeded(limits)
        return _checked_value(value, limits)
    except BaseException as error:  # noqa: BLE001 - the bot builder's exception, reported to them
        gc.disable()
        _KEPT.append(error)
        return _failure(error, limits)
    finally:
        sys.setrecursionlimit(1000)


def _failure(error: BaseException, limits: dict[str, Any]) -> Result:
    if isinstance(error, CpuLimitExceeded):
        return Result.failed("timeout", f"the code used more than {limits['cpu_seconds']} s of CPU time")
    if isinstance(error, language.OutputLimitExceeded):
        return _output_exceeded(limits)
    if isinstance(error, MemoryError):
        return Result.failed("memory", f"the code used more than {limits['memory_mb']} MB of memory")
    if isinstance(error, language.SandboxViolation):
        return Result.failed("forbidden", _text(error), line=_user_line(error))
    if isinstance(error, PermissionError):
        reason = _text(error.strerror) if isinstance(error.strerror, str) else _text(error)
        return Result.failed("forbidden", f"not allowed in a code step: {reason}", line=_user_line(error))
    return Result.failed("exception", _describe(error), line=_user_line(error))


def _drive(coroutine: types.CoroutineType[Any, Any, Any]) -> Any:
    """Run ``async def main`` to its end; there is no event loop to wait on anything."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise language.SandboxViolation("main awaited something that needs an event loop; code steps have none")


def _checked_value(value: Any, limits: dict[str, Any]) -> Result:
    """The value as plain JSON data, read back from the text that was checked: what is sent is
    what was measured, and sending it runs nothing of the code's (a dict subclass's ``items``
    runs once, here, under the run's limits)."""
    if not isinstance(value, dict):
        return Result.failed("exception", f"main must return a dict, not {_text(type(value).__name__)}")
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)  # NaN and Infinity are not JSON
    except (TypeError, ValueError) as error:
        return Result.failed("exception", f"main returned something that is not JSON: {_text(error)}")
    except RecursionError:
        return Result.failed("exception", "main returned a value nested too deeply to be JSON")
    size = len(text.encode("utf-8"))
    if size > limits["result_bytes"]:
        return Result.failed("output", f"the returned value is {size} bytes, over the limit of "
                                       f"{limits['result_bytes']} bytes")
    plain = json.loads(text)
    if not isinstance(plain, dict):  # a dict subclass whose items() gave something else
        return Result.failed("exception", "main must return a dict")
    return Result(value=plain)


def _output_exceeded(limits: dict[str, Any]) -> Result:
    return Result.failed("output", f"the code printed more than {limits['output_bytes']} bytes")


_LINE = re.compile(r"^Line (\d+)")
_LINE_PREFIX = re.compile(r"^Line (\d+|None): ")


MAX_ERROR_CHARS = 300
MAX_MESSAGE_CHARS = 2000


def _compile_error(errors: list[str]) -> Result:
    """RestrictedPython's errors as one message for a bot builder: the line goes in its own
    field (the first error's), each error is said once, without the library's name."""
    line = None
    shown = []
    for error in errors[:5]:
        match = _LINE.match(error)
        if match and line is None:
            line = int(match.group(1))
        text = _LINE_PREFIX.sub("", error).replace(" in RestrictedPython", "").replace(" at statement: None", "")
        text = text.rstrip(".")
        if match and len(errors) > 1:
            text = f"line {match.group(1)}: {text}"
        shown.append(text if len(text) <= MAX_ERROR_CHARS else text[:MAX_ERROR_CHARS] + "...")
    message = "; ".join(shown) or "the code could not be compiled"
    kind: ErrorKind = "syntax" if "SyntaxError" in message or "IndentationError" in message else "forbidden"
    return Result.failed(kind, message, line=line)


def _user_line(error: BaseException) -> int | None:
    """The last line of the bot builder's code the traceback passes through."""
    line = None
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == language.CODE_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _describe(error: BaseException) -> str:
    text = _text(error)
    name = _text(type(error).__name__)
    return f"{name}: {text}" if text else name


def _text(thing: Any) -> str:
    """``str(thing)`` as a plain, short ``str``; it may run the code's own methods (a Counter
    subclass's ``most_common`` in an exception's ``repr``), so any failure there, the CPU
    limit's signal included, gives an empty text instead of escaping."""
    try:
        text = str.__str__(str(thing))
    except BaseException:  # noqa: BLE001 - the code's own method failed while we described it
        return ""
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + "..."
