"""The gateway's output fan-out: what it tells the clients waiting for answers when the
agent's host dies or the agent is stopped (each status or error names the chat and the
message it is about), and how long an agent's subscription outlives its last listener. On
both bus backends."""

from __future__ import annotations

import time

import redis.asyncio as aioredis

from agenthub.bus import Bus, keys, open_bus
from agenthub.channels.fanout import RESTARTING_MESSAGE, STOPPED_MESSAGE, OutputRouter
from agenthub.chats.service import PUSH_PREFIX
from tests.channels.helpers import eventually

AGENT = "fanned"


async def test_restart_and_stop_notices_name_the_chat_and_message(bus: Bus) -> None:
    router = OutputRouter(bus)
    listener = await router.listen(AGENT)
    try:
        listener.expect("m-1", "chat-a")
        listener.expect("m-2", "chat-b")
        await bus.publish(keys.agent_output(AGENT), {"type": "restarting", "agent_id": AGENT, "at": time.time()})
        restarting = [await listener.get(timeout=10) for _ in range(2)]
        assert sorted((e["reply_to"], e["chat_id"], e["message"]) for e in restarting if e) == [
            ("m-1", "chat-a", RESTARTING_MESSAGE), ("m-2", "chat-b", RESTARTING_MESSAGE),
        ]

        listener.answered("m-2")
        await bus.publish(keys.agent_output(AGENT), {"type": "stopped", "agent_id": AGENT, "at": time.time()})
        stopped = await listener.get(timeout=10)
        assert stopped is not None
        assert (stopped["type"], stopped["reply_to"], stopped["chat_id"]) == ("error", "m-1", "chat-a")
        assert stopped["response"] == STOPPED_MESSAGE
    finally:
        await listener.close()
        await router.close()


async def test_the_next_listener_of_an_agent_takes_over_the_lingering_subscription(bus: Bus) -> None:
    """An SSE request listens for one answer; the next request to the agent finds the
    subscription still there and gets its answer through it."""
    router = OutputRouter(bus, linger=30)
    try:
        first = await router.listen(AGENT)
        await first.close()
        second = await router.listen(AGENT)
        second.expect("m-2", "chat-a")
        await bus.publish(keys.agent_output(AGENT), {"type": "message", "reply_to": "m-2", "chat_id": "chat-a"})
        answer = await second.get(timeout=10)
        assert answer is not None and answer["reply_to"] == "m-2"
        await second.close()
    finally:
        await router.close()


async def test_an_agents_subscription_is_closed_once_it_had_no_listener_for_the_linger_period(
    redis_server_url: str, redis_prefix: str
) -> None:
    bus = open_bus(redis_server_url, prefix=redis_prefix)
    client = aioredis.Redis.from_url(redis_server_url)
    channel = redis_prefix + keys.agent_output(AGENT)
    router = OutputRouter(bus, linger=0.3)

    async def subscribers() -> int:
        return int(dict(await client.pubsub_numsub(channel))[channel.encode()])

    async def closed() -> bool:
        return await subscribers() == 0

    try:
        listener = await router.listen(AGENT)
        await listener.close()
        assert await subscribers() == 1  # kept for the next request
        await eventually(closed, timeout=10, what="the subscription to be closed")
        again = await router.listen(AGENT)  # a new one when it is needed again
        assert await subscribers() == 1
        await again.close()
    finally:
        await router.close()
        assert await subscribers() == 0
        await client.aclose()
        await bus.close()


async def test_a_pushed_message_s_answer_goes_to_the_listeners_watching_its_chat(bus: Bus) -> None:
    """A scenario bot's delayed message answers no client's message: every listener watching
    its chat gets it, no other; an ordinary answer nobody waits for goes to no one."""
    router = OutputRouter(bus)
    watching, elsewhere = await router.listen(AGENT), await router.listen(AGENT)
    try:
        watching.watch("chat-a")
        elsewhere.watch("chat-b")
        output = keys.agent_output(AGENT)
        await bus.publish(output, {"type": "message", "reply_to": "m-9", "chat_id": "chat-a", "response": "lost"})
        await bus.publish(output, {"type": "message", "reply_to": f"{PUSH_PREFIX}dmv_1", "chat_id": "chat-a",
                                   "response": "Still there?"})
        pushed = await watching.get(timeout=10)
        assert pushed is not None and pushed["response"] == "Still there?"
        assert await elsewhere.get(timeout=0.2) is None
    finally:
        await watching.close()
        await elsewhere.close()
        await router.close()
