"""Time from `POST /start` to status `running` for a process runner.

    python bench/start.py [--runs 10] [--redis-url redis://127.0.0.1:6379/0]

`agenthub serve` runs as a real process with Redis; an `isolation: process` agent is
started and stopped repeatedly; the status is polled every 2 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import httpx

from _harness import agenthub, create_agent, percentile, redis_available


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    if not redis_available(args.redis_url):
        raise SystemExit(f"Redis at {args.redis_url} is not reachable")
    timings = []
    with agenthub(redis_url=args.redis_url, database_url=None) as server, httpx.Client(base_url=server.url, headers=server.headers, timeout=30) as client:
        create_agent(server, agent_id="start-bench", isolation="process")
        for _ in range(args.runs):
            started = time.perf_counter()
            client.post("/api/v1/agents/start-bench/start").raise_for_status()
            while client.get("/api/v1/agents/start-bench/status").json()["status"] != "running":
                time.sleep(0.002)
            timings.append((time.perf_counter() - started) * 1000)
            client.post("/api/v1/agents/start-bench/stop").raise_for_status()
    result = {"runs": len(timings), "p50_ms": statistics.median(timings), "max_ms": max(timings),
              "p90_ms": percentile(timings, 90)}
    print(json.dumps(result))
    print("all runs (ms):", [round(t) for t in timings])
    print(f"| process runner: start -> running | p50 {result['p50_ms']:.0f} ms, p90 {result['p90_ms']:.0f} ms, max {result['max_ms']:.0f} ms ({len(timings)} runs) |")


if __name__ == "__main__":
    main()
