"""Redis unreachable for a few seconds during a turn: the answer can't be delivered; the
host waits for the bus and delivers it then, once, and no task dies with an error nobody
sees. The host's bus goes through a proxy the test cuts; the test watches the agent's
output and queues on a bus of its own, straight to Redis."""

from __future__ import annotations

import asyncio
import logging

import pytest

from agenthub.agents import service as agents_service
from agenthub.agents.models import DEFAULT_ORG
from agenthub.agents.schemas import AgentCreate
from agenthub.bus import Bus, keys, open_bus
from agenthub.db.engine import session_scope
from agenthub.engines.registry import build_engines
from agenthub.runtime.assembly import build_host
from agenthub.runtime.host import new_host_id
from tests.runtime.helpers import eventually, migrated_sessions
from tests.support.fake_openai import FakeOpenAI
from tests.support.server import make_settings
from tests.support.tcp_proxy import proxied_redis

pytestmark = [pytest.mark.redis]
AGENT = "steady"
WORDS = " ".join(f"word{n}" for n in range(12))


async def next_event(subscription, kind: str) -> dict:  # type: ignore[no-untyped-def]
    while True:
        event = await asyncio.wait_for(subscription.get(timeout=30), 35)
        assert event is not None, f"no {kind} event within 30 s"
        if event["type"] == kind:
            return event


async def test_an_answer_held_up_by_a_bus_outage_is_delivered_once_it_is_back(
    sqlite_url: str, redis_server_url: str, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    proxy, url = await proxied_redis(redis_server_url)
    engine, sessions = await migrated_sessions(sqlite_url)
    watcher: Bus = open_bus(redis_server_url, prefix=redis_prefix)
    host_bus = open_bus(url, prefix=redis_prefix)
    settings = make_settings(database_url=sqlite_url, redis_url=url, redis_prefix=redis_prefix)
    host = build_host(
        host_id=new_host_id("runner"), role="runner", bus=host_bus, session_factory=sessions, settings=settings,
        engines=build_engines(settings, sessions, host_bus),
    )
    with FakeOpenAI() as model:
        model.add_answer(WORDS, delay=0.15)  # streams for about two seconds
        async with session_scope(sessions) as session:
            await agents_service.create(session, org_id=DEFAULT_ORG, data=AgentCreate.model_validate({
                "id": AGENT, "name": AGENT,
                "settings": {"provider": "openai_compatible", "model_id": "m", "base_url": model.url},
            }))
        output = await watcher.subscribe(keys.agent_output(AGENT))
        try:
            await host.start()
            await host.host(AGENT, isolation="process")
            await watcher.add(keys.agent_input(AGENT), {
                "message_id": "question-1", "agent_id": AGENT, "chat_id": "c1", "text": "talk to me",
                "platform_user_id": "u1", "user_data": {}, "channel": "web", "position": 1,
            })

            await next_event(output, "chunk")  # the turn is under way: Redis goes away
            await proxy.cut()
            await eventually(
                lambda: any("turn not delivered" in r.getMessage() for r in caplog.records),
                timeout=30, what="the host to notice the outage",
            )
            await proxy.start()  # Redis is back

            answer = await next_event(output, "message")
            assert answer["reply_to"] == "question-1"
            assert answer["response"] in (WORDS, "echo: talk to me")
            await eventually(
                lambda: _pending_is_zero(watcher), what="the question acknowledged"
            )
            history = [e.payload for e in await watcher.entries(keys.HISTORY_QUEUE, count=100)]
            assert [(h["reply_to"], h["content"]) for h in history] == [("question-1", answer["response"])]
            assert await watcher.get(keys.agent_reply(AGENT, "question-1")) is not None
            # The host still answers what comes next.
            await watcher.add(keys.agent_input(AGENT), {
                "message_id": "question-2", "agent_id": AGENT, "chat_id": "c1", "text": "again",
                "platform_user_id": "u1", "user_data": {}, "channel": "web", "position": 3,
            })
            assert (await next_event(output, "message"))["response"] == "echo: again"
            assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]
            assert not [r for r in caplog.records if "ended by an error" in r.getMessage()]
        finally:
            await host.close(grace=0.5)
            await output.close()
            await host_bus.close()
            await watcher.close()
            await engine.dispose()
            await proxy.cut()


async def _pending_is_zero(bus: Bus) -> bool:
    return await bus.pending_count(keys.agent_input(AGENT), keys.INPUT_GROUP) == 0
