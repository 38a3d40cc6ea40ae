"""What long-term memory adds to a turn: the same sequential SSE turns with the offline
`fake` model, on an agent without memory and on one with memory on (a memory tool listed,
core blocks of ~3,000 characters filled in, so each turn reads the user's blocks into the
system prompt and the chat's turns from the database within the context budget).

    PYTHONPATH=src .venv/bin/python bench/memory_blocks.py [--turns 300] [--turns-per-chat 10] [--rounds 2]

`agenthub serve` embedded (SQLite, the in-process bus) as a real process; each turn is one
authenticated `POST /api/v1/agents/{id}/chat` read to its end. The turns of the two agents
alternate (memory off, memory on, ...), so both see the same machine load. Reported: p50
and p99 of each, and the difference of the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import httpx

from _harness import agenthub, machine, percentile

PERSONA = "I am Memo, a patient assistant who keeps notes on what matters to each user. " * 12
HUMAN = "The user is called Ada; allergic to peanuts; works on project Heron; prefers short answers. " * 16


async def _turn(client: httpx.AsyncClient, agent: str, chat_id: str, text: str) -> float:
    start = time.perf_counter()
    async with client.stream("POST", f"/api/v1/agents/{agent}/chat", json={"content": text, "chat_id": chat_id}) as r:
        r.raise_for_status()
        async for _ in r.aiter_bytes():
            pass
    return time.perf_counter() - start


async def _run(url: str, headers: dict[str, str], turns: int, per_chat: int) -> dict[str, list[float]]:
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        for agent_id, tools in (("plain", []), ("memo", ["core_memory_append", "conversation_search"])):
            created = await client.post("/api/v1/agents", json={
                "id": agent_id, "name": agent_id,
                "settings": {"provider": "fake", "model_id": "demo", "system_prompt": "Be brief.", "tools": tools},
            })
            created.raise_for_status()
        put = await client.put("/api/v1/agents/memo/memory", json={"blocks": [
            {"label": "persona", "value": PERSONA[:2000]}, {"label": "human", "value": HUMAN[:2000]},
        ]})
        put.raise_for_status()
        times: dict[str, list[float]] = {"plain": [], "memo": []}
        for n in range(20):  # warm-up: both agents started, their first turns done
            for agent in times:
                await _turn(client, agent, f"warm-{n}", "Hello there, how are you today?")
        for n in range(turns):
            for agent in times:
                times[agent].append(await _turn(
                    client, agent, f"chat-{n // per_chat}", f"Message {n}: tell me something about the weather."
                ))
        return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--turns-per-chat", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(machine())
    for round_ in range(1, args.rounds + 1):
        with agenthub(redis_url=None, database_url=None) as server:
            times = asyncio.run(_run(server.url, server.headers, args.turns, args.turns_per_chat))
        p50 = {agent: statistics.median(values) * 1000 for agent, values in times.items()}
        p99 = {agent: percentile(values, 99) * 1000 for agent, values in times.items()}
        print(
            f"round {round_}: memory off p50 {p50['plain']:.2f} ms p99 {p99['plain']:.2f} ms | "
            f"memory on p50 {p50['memo']:.2f} ms p99 {p99['memo']:.2f} ms | "
            f"added p50 {p50['memo'] - p50['plain']:.2f} ms ({args.turns} turns each, {args.turns_per_chat} a chat)"
        )


if __name__ == "__main__":
    main()
