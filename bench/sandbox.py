"""The code sandbox: a trivial code step through a warm pool, the pool saturated, memory per
slot, and the time to replace a killed slot.

    python bench/sandbox.py [--runs 500] [--pool-size 4] [--callers 32] [--seconds 5] [--kills 10]

The pool is a real ``SandboxPool`` in this process (a fork server, in bubblewrap where it is
installed, and warm, locked-down processes); the step is ``def main(message, variables):
return {"n": message + 1}``. Latency: one caller, each run waiting for the pool to be full
again first (a warm process ready, as in a pool that is not saturated). Saturated: many
callers running steps back to back for a few seconds. Memory: PSS and USS (Private_*) of a
warm sandboxed process and of the fork server, from /proc/<pid>/smaps_rollup. Replacement:
a warm process is killed with SIGKILL; the time until the pool has a full set of warm
processes again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import time
from pathlib import Path

from _harness import machine, percentile
from agenthub.sandbox import PoolConfig, SandboxPool

STEP = "def main(message, variables):\n    return {'n': message + 1}\n"


async def _until(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise RuntimeError("the pool did not get back to full")
        await asyncio.sleep(0.0005)


def _full(pool: SandboxPool, size: int):  # type: ignore[no-untyped-def]
    return lambda: pool.status == "ready" and pool.health()["warm"] == size


async def latency(pool: SandboxPool, size: int, runs: int) -> list[float]:
    timings = []
    for n in range(runs):
        await _until(_full(pool, size))
        started = time.perf_counter()
        result = await pool.run(STEP, message=n)
        timings.append((time.perf_counter() - started) * 1000)
        if result.value != {"n": n + 1}:
            raise RuntimeError(f"the step failed: {result.error}")
    return timings


async def saturated(pool: SandboxPool, callers: int, seconds: float) -> tuple[int, float]:
    done = 0
    failed = 0
    stop = time.perf_counter() + seconds

    async def caller() -> None:
        nonlocal done, failed
        while time.perf_counter() < stop:
            result = await pool.run(STEP, message=1)
            if result.ok:
                done += 1
            else:
                failed += 1

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    elapsed = time.perf_counter() - started
    if failed:
        print(f"warning: {failed} runs failed while saturated", file=sys.stderr)
    return done, elapsed


def _memory(pid: int) -> dict[str, float]:
    """PSS and USS (private clean + dirty) of ``pid`` in MB."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return {"pss_mb": fields["Pss"] / 1024, "uss_mb": uss / 1024, "rss_mb": fields["Rss"] / 1024}


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            if int(text[text.rindex(")") + 2:].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def memory(pool: SandboxPool) -> dict[str, dict[str, float]]:
    assert pool._process is not None
    server = pool._process.pid
    # In bubblewrap the fork server is bwrap's child; the sandboxed processes are its children.
    while len(_children(server)) == 1 and _children(_children(server)[0]):
        server = _children(server)[0]
    slots = _children(server)
    per_slot = [_memory(pid) for pid in slots]
    return {
        "slot": {key: statistics.mean(entry[key] for entry in per_slot) for key in per_slot[0]},
        "fork_server": _memory(server),
    }


async def replacement(pool: SandboxPool, size: int, kills: int) -> list[float]:
    timings = []
    for _ in range(kills):
        await _until(_full(pool, size))
        victim = pool._warm._queue[0]  # type: ignore[attr-defined]
        started = time.perf_counter()
        os.kill(victim.pid, signal.SIGKILL)
        await _until(lambda victim=victim: victim not in pool._warm._queue)  # type: ignore[attr-defined]
        await _until(_full(pool, size))
        timings.append((time.perf_counter() - started) * 1000)
    return timings


async def bench(args: argparse.Namespace) -> dict[str, object]:
    pool = SandboxPool(PoolConfig(size=args.pool_size))
    layers = await pool.start()
    try:
        await latency(pool, args.pool_size, 20)  # warm-up
        timings = await latency(pool, args.pool_size, args.runs)
        await _until(_full(pool, args.pool_size))
        mem = memory(pool)
        done, elapsed = await saturated(pool, args.callers, args.seconds)
        replaced = await replacement(pool, args.pool_size, args.kills)
    finally:
        await pool.close()
    return {
        "machine": machine(), "layers": layers.active(), "pool_size": args.pool_size,
        "p50_ms": statistics.median(timings), "p99_ms": percentile(timings, 99), "runs": len(timings),
        "steps_per_s": done / elapsed, "callers": args.callers,
        "slot_pss_mb": mem["slot"]["pss_mb"], "slot_uss_mb": mem["slot"]["uss_mb"],
        "slot_rss_mb": mem["slot"]["rss_mb"],
        "server_pss_mb": mem["fork_server"]["pss_mb"], "server_uss_mb": mem["fork_server"]["uss_mb"],
        "replace_p50_ms": statistics.median(replaced), "replace_max_ms": max(replaced),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--pool-size", type=int, default=4)
    parser.add_argument("--callers", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--kills", type=int, default=10)
    args = parser.parse_args()
    result = asyncio.run(bench(args))
    print(json.dumps(result))
    print(f"machine: {result['machine']}; layers: {', '.join(result['layers'])}")  # type: ignore[arg-type]
    print("| measure | result |")
    print("|---|---|")
    print(f"| trivial step, warm pool of {result['pool_size']}: p50 | {result['p50_ms']:.2f} ms |")
    print(f"| trivial step, warm pool: p99 | {result['p99_ms']:.2f} ms ({result['runs']} runs) |")
    print(f"| steps per second, pool saturated ({result['callers']} callers) | {result['steps_per_s']:.0f} |")
    print(f"| memory per warm slot: PSS / USS (RSS) | {result['slot_pss_mb']:.1f} MB / "
          f"{result['slot_uss_mb']:.1f} MB ({result['slot_rss_mb']:.1f} MB) |")
    print(f"| fork server: PSS / USS | {result['server_pss_mb']:.1f} MB / {result['server_uss_mb']:.1f} MB |")
    print(f"| killed slot to a full warm pool again: p50 / max | {result['replace_p50_ms']:.0f} ms / "
          f"{result['replace_max_ms']:.0f} ms ({args.kills} kills) |")
    print(f"goal p50 <= 5 ms: {'met' if result['p50_ms'] <= 5 else 'not met'}")  # type: ignore[operator]


if __name__ == "__main__":
    main()
