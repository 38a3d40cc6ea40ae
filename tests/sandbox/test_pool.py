"""The pool as a component: concurrency, replaced slots, a lost fork server, closing, health.

Real pools, real fork servers and sandboxed processes; every wait is for a condition (a
result, a warm count, a process gone), never for a fixed time.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agenthub.sandbox import ERROR_KINDS, PoolConfig, SandboxPool

SIZE = 2
HONEST = "def main(message, variables):\n    return {'echo': message, 'n': variables.get('n')}\n"
SPIN = "def main(message, variables):\n    while True:\n        pass\n"
SLEEP = "import time\n\ndef main(message, variables):\n    while True:\n        time.sleep(0.05)\n"
WAIT = 20.0  # the most any condition below may take on a loaded machine before the test fails


@pytest.fixture
async def pool() -> AsyncIterator[SandboxPool]:
    sandbox = SandboxPool(PoolConfig(size=SIZE))
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.close()


def _processes() -> dict[int, tuple[str, int]]:
    """Every process now: pid -> (state, parent pid)."""
    found: dict[int, tuple[str, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        state, parent = text[text.rindex(")") + 2:].split()[:2]
        found[int(entry.name)] = (state, int(parent))
    return found


def _descendants(pid: int) -> set[int]:
    table = _processes()
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for child, (_state, ppid) in table.items():
            if ppid == parent and child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (a zombie has ended; only its parent's reaping is left)."""
    table = _processes()
    return {pid for pid in pids if pid in table and table[pid][0] not in ("Z", "X")}


def _sandboxed(pool: SandboxPool) -> set[int]:
    """The running sandboxed processes: the leaves under the fork server (they cannot fork)."""
    assert pool._process is not None
    below = _alive(_descendants(pool._process.pid))
    table = _processes()
    return {pid for pid in below if not any(table.get(other, ("", 0))[1] == pid for other in below)}


async def _until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    try:
        await asyncio.wait_for(poll(), WAIT)
    except TimeoutError:
        pytest.fail(f"waited {WAIT} s for {what}")


async def _full(pool: SandboxPool) -> None:
    await _until(lambda: pool.status == "ready" and pool.health()["warm"] == SIZE,
                 f"the pool to be ready with {SIZE} warm processes")


async def test_more_callers_than_slots_are_all_answered(pool: SandboxPool) -> None:
    results = await asyncio.gather(*(pool.run(HONEST, message=f"m{n}", variables={"n": n}) for n in range(12)))

    assert [result.value for result in results] == [{"echo": f"m{n}", "n": n} for n in range(12)]
    await _full(pool)


async def test_a_slot_killed_for_its_time_is_replaced_and_the_pool_keeps_its_size(pool: SandboxPool) -> None:
    await _full(pool)
    before = _sandboxed(pool)

    result = await pool.run(SLEEP, limits={"wall_seconds": 0.3})

    assert result.error is not None and result.error.kind == "timeout"
    await _full(pool)
    await _until(lambda: not _alive(before - _sandboxed(pool)) and len(_sandboxed(pool)) == SIZE,
                 "the killed process to be gone and the pool back to its size")
    assert pool.replacements >= 1
    assert (await pool.run(HONEST, message="after")).value == {"echo": "after", "n": None}


async def test_a_warm_process_killed_from_outside_is_never_given_a_run(pool: SandboxPool) -> None:
    await _full(pool)
    victim = next(iter(_sandboxed(pool)))
    os.kill(victim, signal.SIGKILL)
    await _until(lambda: not _alive({victim}), "the killed process to end")

    results = [await pool.run(HONEST, message=n) for n in range(SIZE + 1)]

    assert all(result.ok for result in results), [result.error for result in results]
    await _full(pool)


@pytest.mark.parametrize("code", [SPIN, SLEEP], ids=["spinning", "sleeping"])
async def test_losing_the_fork_server_ends_runs_in_flight_and_later_runs_work(
        pool: SandboxPool, code: str) -> None:
    await _full(pool)
    assert pool._process is not None
    server, old = pool._process.pid, _sandboxed(pool)
    in_flight = asyncio.create_task(pool.run(code, limits={"wall_seconds": 10}))
    await _until(lambda: bool(pool._busy), "the run to take a process")

    os.kill(server, signal.SIGKILL)
    result = await asyncio.wait_for(in_flight, WAIT)

    assert result.error is not None and result.error.kind in ERROR_KINDS
    await _full(pool)
    assert pool._process.pid != server
    assert (await pool.run(HONEST, message="again")).value == {"echo": "again", "n": None}
    # The process of the run in flight does not outlive its fork server, sleeping or not.
    await _until(lambda: not _alive(old), "the old fork server's processes to end")


async def test_close_leaves_no_process_and_no_folder_behind() -> None:
    pool = SandboxPool(PoolConfig(size=SIZE))
    await pool.start()
    await _full(pool)
    assert pool._process is not None
    server, folder = pool._process.pid, pool._tmp_dir
    in_flight = asyncio.create_task(pool.run(SLEEP, limits={"wall_seconds": 10}))
    await _until(lambda: bool(pool._busy), "the run to take a process")
    processes = _descendants(server) | {server}
    assert len(processes) > SIZE

    await pool.close()

    result = await asyncio.wait_for(in_flight, WAIT)
    assert result.error is not None and result.error.kind == "exception"
    # close() kills them all and waits (a bounded time) for them to end; the kernel may still be
    # tearing down the last one's mount namespace when it returns.
    await _until(lambda: not _alive(processes), "every process of the pool to end")
    assert not os.path.exists(folder)
    assert pool.health()["status"] == "stopped"


async def test_health_reports_the_status_and_the_active_layers(pool: SandboxPool) -> None:
    await _full(pool)
    health = pool.health()

    assert health["status"] == "ready" and health["pool_size"] == SIZE and health["warm"] == SIZE
    assert {"process", "rlimits", "language"} <= set(health["layers"])
    assert all(isinstance(reason, str) for reason in health["missing"])
    if shutil.which("bwrap") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("bwrap is not installed; CI runs the sandbox with bubblewrap")
        assert "bubblewrap" not in health["layers"]
        assert any(reason.startswith("bubblewrap") for reason in health["missing"])
    else:
        assert "bubblewrap" in health["layers"]


async def test_a_pool_that_is_not_started_answers_with_an_error() -> None:
    pool = SandboxPool(PoolConfig(size=SIZE))

    result = await pool.run(HONEST)

    assert result.error is not None and result.error.kind == "exception"
    assert "not ready" in result.error.message
    assert pool.health() == {"status": "stopped", "pool_size": SIZE, "warm": 0}


@pytest.mark.parametrize("message, variables", [
    (object(), {}),
    ("text", {"when": {1, 2}}),
    (b"bytes", {}),
], ids=["object", "set", "bytes"])
async def test_a_message_or_variables_that_are_not_json_give_an_error(
        pool: SandboxPool, message: object, variables: dict[str, object]) -> None:
    result = await pool.run(HONEST, message=message, variables=variables)

    assert result.error is not None and result.error.kind == "exception"
    assert "JSON" in result.error.message
    assert (await pool.run(HONEST, message="next")).ok
    await _full(pool)


async def test_limits_a_step_cannot_have_give_an_error(pool: SandboxPool) -> None:
    result = await pool.run(HONEST, limits={"wall_seconds": -1})

    assert result.error is not None and result.error.kind == "exception"
    assert "wall_seconds" in result.error.message


async def test_output_that_grows_when_escaped_still_comes_back(pool: SandboxPool) -> None:
    code = "def main(message, variables):\n    print(chr(1) * 200000)\n    return {'done': True}\n"

    result = await pool.run(code, limits={"output_bytes": 300_000})

    assert result.value == {"done": True} and len(result.output) == 200_001
