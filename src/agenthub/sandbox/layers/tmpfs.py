"""A private, size-capped tmpfs for one run, in a mount namespace of its own (root only).

No other process sees it, and it disappears with the process that mounted it.
"""

from __future__ import annotations

from agenthub.sandbox.layers import libc


def mount_private(path: str, *, size_bytes: int, uid: int, gid: int) -> None:
    libc.unshare(libc.CLONE_NEWNS)
    # Keep the new mount from propagating back into the platform's namespace.
    libc.mount("none", "/", None, libc.MS_REC | libc.MS_PRIVATE, None)
    libc.mount("tmpfs", path, "tmpfs", libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC,
               f"size={size_bytes},mode=0700,uid={uid},gid={gid}")
