"""Landlock: a read-only view of what Python needs, and writes to one folder only."""

from __future__ import annotations

import os
import site
import sys
import sysconfig
import zoneinfo
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def abi_version() -> int:
    """The kernel's Landlock ABI version, 0 where it has none."""
    try:
        import landlock
    except ImportError:
        return 0
    try:
        return int(landlock.landlock_abi_version())
    except (OSError, Exception):  # noqa: BLE001 - no Landlock in this kernel
        return 0


def readable_paths() -> list[str]:
    """Folders Python reads from: its installation and libraries, AgentHub's own package and
    the time-zone data. Never the import path as such: it can hold the current folder (a
    project's ``.env``, its data)."""
    installed = sysconfig.get_paths()
    candidates: Iterable[str] = (
        sys.prefix, sys.base_prefix, sys.exec_prefix, installed["stdlib"], installed["platstdlib"],
        installed["purelib"], installed["platlib"], *site.getsitepackages(), package_root(),
        *zoneinfo.TZPATH,
    )
    paths: list[str] = []
    for path in candidates:
        if path and os.path.isdir(path) and path not in paths:
            paths.append(path)
    return paths


def package_root() -> str:
    """The folder that holds the ``agenthub`` package."""
    return str(Path(__file__).resolve().parents[3])


def ruleset(*, readable: Iterable[str], writable: str) -> Any:
    """The rules: read only ``readable``, write only under ``writable`` (made while the
    process may still open every path; ``apply`` it once privileges are dropped)."""
    import landlock

    rules = landlock.Ruleset()
    read = landlock.FSAccess.READ_FILE | landlock.FSAccess.READ_DIR
    for path in readable:
        rules.allow(path, rules=read)
    rules.allow(writable, rules=landlock.FSAccess.all())
    return rules


def apply(rules: Any) -> None:
    """From now on, for good, this process touches the file system only as ``rules`` say."""
    rules.apply()
