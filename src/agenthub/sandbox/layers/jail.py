"""Bubblewrap: the fork server and every run in a namespace jail of their own.

The jail has no network (an empty network namespace), no IPC or host name of the
platform's, and a read-only view of only what Python needs; the temporary folders live on a
size-capped tmpfs inside it. It is used where ``bwrap`` is installed (Debian: bubblewrap).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable

# ldconfig (in /sbin) is how ctypes finds libseccomp; the rest is what Python links and reads.
SYSTEM_PATHS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc/ld.so.cache", "/etc/localtime",
                "/usr/share/zoneinfo")


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def command(bwrap: str, *, readable: Iterable[str], tmp_dir: str, tmp_bytes: int) -> list[str]:
    """The ``bwrap`` arguments that run a command in the jail (the command goes after them)."""
    args = [
        bwrap, "--die-with-parent", "--unshare-net", "--unshare-ipc", "--unshare-uts",
        "--unshare-cgroup-try", "--hostname", "sandbox", "--dev", "/dev", "--proc", "/proc",
    ]
    bound: list[str] = []
    for path in (*SYSTEM_PATHS, *readable):
        real = os.path.realpath(path)
        if not os.path.exists(real):
            continue
        if not any(real == done or real.startswith(done.rstrip("/") + "/") for done in bound):
            bound.append(real)
            args += ["--ro-bind", real, real]
        if os.path.islink(path) and os.path.dirname(path) == "/":
            args += ["--symlink", real, path]
    args += ["--size", str(tmp_bytes), "--tmpfs", tmp_dir, "--chdir", "/"]
    return args
