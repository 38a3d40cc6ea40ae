"""The layers of the sandbox, each from the kernel or a maintained library, each on its own.

A sandboxed process goes through them in this order, all before it reads any user text:
its own session and process group, no inherited file descriptors, a private size-capped
``tmpfs`` (``tmpfs``), an unprivileged user (``identity``), rlimits (``rlimits``), no new
privileges, Landlock (``filesystem``), then the seccomp filter (``syscalls``). The fork server
itself may run in a bubblewrap jail (``jail``). ``Layers`` is what a process reports it has.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Layers:
    """Which layers are active, as a sandboxed process found them (a reason for each missing one)."""

    process: bool = True
    rlimits: bool = False
    language: bool = True
    seccomp: bool = False
    landlock: bool = False
    bubblewrap: bool = False
    unprivileged_user: bool = False
    private_tmpfs: bool = False
    missing: tuple[str, ...] = ()

    def active(self) -> list[str]:
        return [name for name, on in asdict(self).items() if on is True]

    def as_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["missing"] = list(self.missing)
        return body

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Layers:
        known = {name: bool(body.get(name)) for name in cls.__dataclass_fields__ if name != "missing"}
        missing = tuple(str(reason) for reason in body.get("missing") or ())
        return cls(**known, missing=missing)
