"""A kind of agent other than ``llm``, implemented here, runs through the same host and
delivery: its answer streams, is stored in the chat's history and reaches WebSocket and
SSE clients; its own event types reach the agent's output in order; its failures are
reported like any other. On the in-process bus and on Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from agenthub.agents.models import DEFAULT_ORG, Agent
from agenthub.bus import Bus, keys
from agenthub.chats import service as chats_service
from agenthub.config import Settings
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.engines.base import Answer, Engine, Turn, TurnEvents
from agenthub.engines.registry import EngineRegistry, UnknownKind, build_engines
from agenthub.runtime.assembly import build_host
from agenthub.runtime.host import AgentHost, new_host_id
from agenthub.workers.history import HistorySaverWorker
from tests.channels.helpers import chat_messages, chunks, turn
from tests.runtime.helpers import chat, eventually, migrated_sessions
from tests.support.server import make_settings, running_app, settings_on_each_bus
from tests.support.ws import connect

REVERSER = "reverser"
PROBE = "probe"


class ReverseEngine(Engine):
    """Answers with the message backwards, a word at a time, after a ``tool_call`` event
    saying so (unless ``announce`` is off); fails on ``fail``. Keeps the turns it was given.
    No model, no LangChain."""

    kind = "reverse"

    def __init__(self, *, announce: bool = True) -> None:
        self.announce = announce
        self.turns: list[Turn] = []

    async def answer(self, turn: Turn, events: TurnEvents) -> Answer:
        self.turns.append(turn)
        if turn.text == "fail":
            raise LookupError("nothing to reverse")
        if self.announce:
            await events.emit({"type": "tool_call", "name": "reverse", "arguments": {"text": turn.text}})
        backwards = turn.text[::-1]
        for word in backwards.split(" "):
            events.text(word + " ")
        return Answer(text=backwards)


def _engines(reverse: ReverseEngine):  # type: ignore[no-untyped-def]
    def make(settings: Settings, sessions: SessionFactory, bus: Bus | None = None, **more: Any) -> EngineRegistry:
        return build_engines(settings, sessions, bus, **more).with_engine(reverse)

    return make


async def _add_agent(sessions: SessionFactory, agent_id: str, kind: str) -> None:
    """An agent of a kind the API does not create (the test's own), stored as the API would."""
    async with session_scope(sessions) as session:
        session.add(Agent(
            id=agent_id, org_id=DEFAULT_ORG, name=agent_id, kind=kind,
            settings={"isolation": "shared", "integrations": []}, config_version=1,
        ))


def _inbound(text: str, *, chat_id: str) -> dict[str, Any]:
    return {
        "message_id": uuid.uuid4().hex, "agent_id": REVERSER, "chat_id": chat_id, "text": text,
        "platform_user_id": "user-1", "user_data": {}, "channel": "web", "position": 1,
    }


@pytest.fixture
async def world(bus: Bus, sqlite_url: str) -> AsyncIterator[tuple[Bus, SessionFactory, AgentHost, ReverseEngine]]:
    engine, sessions = await migrated_sessions(sqlite_url)
    await _add_agent(sessions, REVERSER, "reverse")
    for queue in (keys.HISTORY_QUEUE, keys.TOKEN_USAGE_QUEUE):
        await bus.ensure_group(queue, PROBE)
    settings = make_settings(database_url=sqlite_url)
    reverse = ReverseEngine()
    host = build_host(
        host_id=new_host_id("local"), role="local", bus=bus, session_factory=sessions, settings=settings,
        engines=_engines(reverse)(settings, sessions, bus),
    )
    await host.start()
    try:
        yield bus, sessions, host, reverse
    finally:
        await host.close()
        await engine.dispose()


async def _answer(bus: Bus, message: dict[str, Any]) -> list[dict[str, Any]]:
    """Every output event for ``message`` up to its answer or error."""
    output = await bus.subscribe(keys.agent_output(REVERSER))
    seen: list[dict[str, Any]] = []

    async def final() -> bool:
        event = await output.get(timeout=0.2)
        if event is not None and event.get("reply_to") == message["message_id"]:
            seen.append(event)
        return bool(seen) and seen[-1]["type"] in ("message", "error")

    try:
        await bus.add(keys.agent_input(REVERSER), message)
        await eventually(final, interval=0, what="the answer")
    finally:
        await output.close()
    return seen


async def _all_acknowledged(bus: Bus) -> bool:
    return await bus.pending_count(keys.agent_input(REVERSER), keys.INPUT_GROUP) == 0


async def test_an_agent_of_another_kind_answers_through_the_shared_delivery(world) -> None:  # type: ignore[no-untyped-def]
    bus, sessions, host, reverse = world
    await host.host(REVERSER)
    message = _inbound("tea for two", chat_id="c1")

    events = await _answer(bus, message)

    assert events[0] == {
        "type": "tool_call", "name": "reverse", "arguments": {"text": "tea for two"},
        "reply_to": message["message_id"], "chat_id": "c1",
    }
    final = events[-1]
    assert final["type"] == "message" and final["response"] == "owt rof aet"
    assert "".join(e["content"] for e in events if e["type"] == "chunk") == "owt rof aet "
    assert "usage" not in final
    assert [(t.text, t.chat_id, t.position) for t in reverse.turns] == [("tea for two", "c1", 1)]
    await eventually(lambda: _all_acknowledged(bus), what="the message to be acknowledged")

    # Stored in the chat's history; nothing billed.
    assert await bus.read({keys.TOKEN_USAGE_QUEUE: ">"}, PROBE, "test") == []
    saver = HistorySaverWorker(bus, sessions)
    await saver.setup()
    while await saver.run_once():
        pass
    async with sessions() as session:
        rows = await chats_service.list_messages(session, org_id=DEFAULT_ORG, agent_id=REVERSER, chat_id="c1")
    assert [(row.role, row.content, row.reply_to) for row in rows] == [
        ("assistant", "owt rof aet", message["message_id"])
    ]


async def test_a_failing_engine_is_reported_and_the_next_message_answered(world) -> None:  # type: ignore[no-untyped-def]
    bus, _sessions, host, _reverse = world
    await host.host(REVERSER)

    failed = await _answer(bus, _inbound("fail", chat_id="c1"))
    answered = await _answer(bus, _inbound("ok", chat_id="c1"))

    assert [e["type"] for e in failed] == ["error"]
    assert failed[0]["response"] == "The agent could not answer (LookupError)."
    assert answered[-1]["response"] == "ko"
    await eventually(lambda: _all_acknowledged(bus), what="both messages to be acknowledged")


async def test_a_host_refuses_an_agent_of_a_kind_it_has_no_engine_for(world) -> None:  # type: ignore[no-untyped-def]
    _bus, sessions, host, _reverse = world
    await _add_agent(sessions, "oracle", "oracle")

    with pytest.raises(UnknownKind, match="oracle"):
        await host.host("oracle")
    assert "oracle" not in host.agents


@pytest.fixture(params=["memory", "redis"])
def app_settings(request: pytest.FixtureRequest, sqlite_url: str) -> Settings:
    return settings_on_each_bus(request, sqlite_url)


async def test_its_answers_reach_websocket_and_sse_clients(app_settings: Settings) -> None:
    reverse = ReverseEngine(announce=False)
    settings = app_settings
    async with running_app(settings, engines=_engines(reverse)) as app:
        await _add_agent(app.app.state.session_factory, REVERSER, "reverse")
        async with connect(app.ws(f"/ws/agents/{REVERSER}")) as socket:
            events = await turn(socket, "stressed desserts", chat_id="ws-chat")
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
            reply = await chat(client, REVERSER, "live evil", chat_id="sse-chat")

            async def both_stored() -> list[dict[str, Any]] | None:
                rows = await chat_messages(client, REVERSER, "ws-chat")
                return rows if len(rows) == 2 else None

            stored = await eventually(both_stored, what="the WebSocket chat's history")

    assert [(m["role"], m["content"]) for m in stored] == [
        ("user", "stressed desserts"), ("assistant", "stressed desserts"[::-1]),
    ]

    assert events[-1]["type"] == "message" and events[-1]["content"] == "stressed desserts"[::-1]
    assert "".join(chunks(events)).strip() == "stressed desserts"[::-1]
    assert reply.content == "live evil"[::-1]
    assert "".join(data["content"] for data in reply.of("chunk")).strip() == "live evil"[::-1]
