"""The unprivileged user a sandboxed process runs as, where the platform runs as root."""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    uid: int
    gid: int


def resolve(user: str) -> Identity | None:
    """The user to become (by name or number), or None when this process cannot change user."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
    except (KeyError, ValueError):
        raise ValueError(f"SANDBOX_USER {user!r} is not a user of this machine") from None
    if entry.pw_uid == 0:
        raise ValueError("SANDBOX_USER must not be root")
    return Identity(entry.pw_uid, entry.pw_gid)


def become(identity: Identity) -> None:
    """Drop every group, then the group and the user, for good (real, effective and saved ids)."""
    os.setgroups([])
    os.setresgid(identity.gid, identity.gid, identity.gid)
    os.setresuid(identity.uid, identity.uid, identity.uid)
    if os.getuid() != identity.uid or os.geteuid() != identity.uid:
        raise OSError("the sandbox could not change user")
