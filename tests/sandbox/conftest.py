"""Shared fixtures of the sandbox tests: real pools, and the system layers a test needs.

A test that needs bubblewrap, libseccomp or Landlock skips with the reason when this machine
lacks it; under ``TEST_REQUIRE_SYSTEM_PACKAGES`` (CI sets it) it fails instead, so CI never
passes a suite that did not run. Layers that need root (a private tmpfs, another user) skip
when the tests do not run as root.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from agenthub.sandbox import Limits, PoolConfig, SandboxPool
from agenthub.sandbox.layers import filesystem, syscalls

REQUIRE_ENV = "TEST_REQUIRE_SYSTEM_PACKAGES"
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2] / "src")
# Small maxima keep the bomb cases quick; honest code needs far less.
MAXIMA = Limits(wall_seconds=3.0, cpu_seconds=2.0, memory_mb=256, output_bytes=64 * 1024,
                result_bytes=64 * 1024)
BOMB_LIMITS = {"wall_seconds": 1.0, "cpu_seconds": 1.0, "memory_mb": 64}


def _missing(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV):
        pytest.fail(f"{reason} ({REQUIRE_ENV} is set, so this layer must be tested here)")
    pytest.skip(reason)


def require_bwrap() -> str:
    path = shutil.which("bwrap")
    if path is None:
        _missing("install bubblewrap (Debian: apt-get install bubblewrap)")
    assert path is not None
    return path


def require_seccomp() -> None:
    if syscalls.build() is None:
        _missing("install libseccomp (Debian: apt-get install libseccomp2) and its Python binding")


def require_landlock() -> None:
    if filesystem.abi_version() <= 0:
        _missing("this kernel has no Landlock (Linux 5.13 or later with CONFIG_SECURITY_LANDLOCK and "
                 "landlock in the lsm= list), or the landlock Python package is missing")


def require_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("this layer needs the tests to run as root (it mounts or changes user)")


def run_isolated(code: str, *, stdin: str | None = None, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh Python process (a layer applied there cannot harm the tests)."""
    return subprocess.run(
        [sys.executable, "-c", code], input=stdin, capture_output=True, text=True, timeout=timeout,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": PACKAGE_ROOT, "LANG": "C.UTF-8"},
    )


def isolated_json(code: str) -> Any:
    """Run ``code`` isolated; it prints one JSON line last, which is returned."""
    done = run_isolated(code)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


async def open_pool(**options: Any) -> SandboxPool:
    config = PoolConfig(**{"size": 1, "maxima": MAXIMA, **options})
    pool = SandboxPool(config)
    await pool.start()
    return pool


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pool() -> AsyncIterator[SandboxPool]:
    """One real pool of one slot per test module: every run goes through the same slot."""
    instance = await open_pool()
    yield instance
    await instance.close()
