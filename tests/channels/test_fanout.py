"""What a gateway itself tells the clients waiting for answers when the agent's host dies
or the agent is stopped: each status or error names the chat and the message it is about.
On both bus backends."""

from __future__ import annotations

import time

from agenthub.bus import Bus, keys
from agenthub.channels.fanout import RESTARTING_MESSAGE, STOPPED_MESSAGE, OutputRouter

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
