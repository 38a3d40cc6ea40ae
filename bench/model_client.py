"""The model client alone: one streamed call's latency and CPU, langchain-openai's ChatOpenAI
(through the openai SDK) against AgentHub's StreamingChatOpenAI, for a conversation of 1 and
of 40 messages (40 is the default AGENT_CONTEXT_MESSAGES), against bench/model_server.py.

    python bench/model_client.py [--calls 300] [--sizes 1,40]

No AgentHub process: this is what the model client costs the event loop that runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_openai import ChatOpenAI

from _harness import machine, model_server, percentile
from agenthub.llm.streaming import StreamingChatOpenAI


def conversation(size: int) -> list[BaseMessage]:
    earlier: list[BaseMessage] = [
        (HumanMessage if i % 2 == 0 else AIMessage)(content=f"message {i} of the conversation, a few words long")
        for i in range(size - 1)
    ]
    return [*earlier, HumanMessage("hello")]


async def measure(model: ChatOpenAI, messages: list[BaseMessage], calls: int) -> tuple[float, float, float]:
    for _ in range(20):  # warm up: connections, caches
        [chunk async for chunk in model.astream(messages)]
    latencies = []
    cpu = time.process_time()
    for _ in range(calls):
        started = time.perf_counter()
        [chunk async for chunk in model.astream(messages)]
        latencies.append((time.perf_counter() - started) * 1000)
    return percentile(latencies, 50), percentile(latencies, 99), (time.process_time() - cpu) / calls * 1000


async def run(url: str, calls: int, sizes: list[int]) -> None:
    print("| client | messages | p50 | p99 | CPU per call |")
    print("|---|---|---|---|---|")
    for size in sizes:
        for cls in (ChatOpenAI, StreamingChatOpenAI):
            model = cls(model="bench-model", base_url=url, api_key="bench", streaming=True, stream_usage=True,
                        max_retries=1, timeout=120)
            p50, p99, cpu = await measure(model, conversation(size), calls)
            print(f"| {cls.__name__} | {size} | {p50:.2f} ms | {p99:.2f} ms | {cpu:.2f} ms |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--sizes", default="1,40", help="conversation lengths, comma-separated")
    args = parser.parse_args()
    print(f"{machine()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    with model_server() as (url, _):
        asyncio.run(run(url, args.calls, [int(n) for n in args.sizes.split(",")]))


if __name__ == "__main__":
    main()
