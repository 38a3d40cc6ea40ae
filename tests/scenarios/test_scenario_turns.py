"""Scenario bots answering end to end: over the WebSocket, SSE and the OpenAI API, on the
in-process bus and on Redis; several messages per turn, buttons, a session per (user, bot,
channel), history, a new version published, and a redelivered message moving nothing twice."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from agenthub.bus import Bus, keys
from agenthub.config import Settings
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.engines.registry import build_engines
from agenthub.runtime.assembly import build_host
from agenthub.runtime.host import AgentHost, new_host_id
from agenthub.scenarios import sessions as scenario_sessions
from agenthub.scenarios.models import Bot, ScenarioSession, StepEvent
from agenthub.scenarios.sessions import BotCache
from tests.channels.helpers import chat_messages
from tests.runtime.helpers import eventually, migrated_sessions
from tests.scenarios.helpers import PIZZA, add_bot, go, publish, ws_turn
from tests.support.server import make_settings, running_app, settings_on_each_bus
from tests.support.sse import parse_sse
from tests.support.ws import connect


@pytest.fixture(params=["memory", "redis"])
def app_settings(request: pytest.FixtureRequest, sqlite_url: str) -> Settings:
    return settings_on_each_bus(request, sqlite_url)


def texts(events: list[dict[str, Any]]) -> list[str]:
    return [event["content"] for event in events]


async def test_a_bot_answers_over_the_websocket_with_several_messages_and_buttons(app_settings: Settings) -> None:
    async with running_app(app_settings) as app:
        sessions = app.app.state.session_factory
        bot_id = await add_bot(sessions, PIZZA)
        async with connect(app.ws(f"/ws/agents/{bot_id}?chat_id=ws-chat")) as socket:
            first = await ws_turn(socket, "hi")  # new session at `hello`: the else branch enters it again
            pressed = await ws_turn(socket, "pizza", button="pizza")
            nothing = await ws_turn(socket, "huge")  # no connection takes it: an empty answer, no move
            chain = await ws_turn(socket, "large")  # `ordered` is a proxy: two messages
            restart = await ws_turn(socket, "/start")  # bot-level, from any step
            pasta = await ws_turn(socket, "pasta", button="pasta")

        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
            async def stored() -> list[dict[str, Any]] | None:
                rows = await chat_messages(client, bot_id, "ws-chat")
                return rows if len(rows) == 13 else None

            history = await eventually(stored, what="the chat's history")

    assert texts(first) == ["Hi! Pizza or pasta at Luigi?"]
    assert first[0]["widget"] == {"buttons": [{"text": "Pizza", "value": "pizza"}, {"text": "Pasta", "value": "pasta"}]}
    assert "more" not in first[0]
    assert texts(pressed) == ["Which size?"]
    assert texts(nothing) == [""]
    assert texts(chain) == ["A large pizza: noted.", "Thanks!"]
    assert chain[0]["more"] is True and "more" not in chain[1]
    assert chain[0]["message_object"]["message_id"] != chain[1]["message_object"]["message_id"]
    assert texts(restart) == ["Hi! Pizza or pasta at Luigi?"]
    assert texts(pasta) == ["Pasta it is."]
    assert not any(event.get("message_object", {}).get("usage") for event in first + chain)
    # Each message in the history, in order; the earlier ones of a turn without reply_to.
    assert [(m["role"], m["content"]) for m in history] == [
        ("user", "hi"), ("assistant", "Hi! Pizza or pasta at Luigi?"), ("user", "pizza"), ("assistant", "Which size?"),
        ("user", "huge"), ("assistant", ""), ("user", "large"), ("assistant", "A large pizza: noted."),
        ("assistant", "Thanks!"), ("user", "/start"), ("assistant", "Hi! Pizza or pasta at Luigi?"),
        ("user", "pasta"), ("assistant", "Pasta it is."),
    ]
    chained = [m for m in history if m["content"] in ("A large pizza: noted.", "Thanks!")]
    assert chained[0]["reply_to"] is None and chained[1]["reply_to"] is not None
    assert chained[0]["position"] == chained[1]["position"]


async def test_a_bot_answers_over_sse_and_one_caller_shares_one_session_across_chats(app_settings: Settings) -> None:
    async with running_app(app_settings) as app:
        bot_id = await add_bot(app.app.state.session_factory, PIZZA)
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
            async def sse(content: str, chat_id: str, **extra: Any) -> list[tuple[str, dict[str, Any]]]:
                response = await client.post(f"/api/v1/agents/{bot_id}/chat",
                                             json={"content": content, "chat_id": chat_id, **extra})
                assert response.status_code == 200, response.text
                return parse_sse(response.text)

            await sse("pizza", "chat-a")
            events = await sse("small", "chat-b")  # another chat, the same session (web, the owner)
            completion = await client.post("/v1/chat/completions", json={
                "model": bot_id, "messages": [{"role": "user", "content": "/start"}]})
            again = await client.post("/v1/chat/completions", json={
                "model": bot_id, "messages": [{"role": "user", "content": "pizza"}]})
            chained = await client.post("/v1/chat/completions", json={
                "model": bot_id, "messages": [{"role": "user", "content": "large"}]})
            for content in ("/start", "pizza"):
                await client.post("/v1/chat/completions", json={
                    "model": bot_id, "messages": [{"role": "user", "content": content}]})
            streamed = await client.post("/v1/chat/completions", json={
                "model": bot_id, "stream": True, "messages": [{"role": "user", "content": "small"}]})

    names = [name for name, _ in events]
    assert names[-1] == "done"
    messages = [data for name, data in events if name == "message"]
    assert [m["content"] for m in messages] == ["A small pizza: noted.", "Thanks!"]
    assert messages[0]["more"] is True and "more" not in messages[1]
    assert names.index("usage") > names.index("message") and names.count("usage") == 1
    assert completion.status_code == 200, completion.text
    assert completion.json()["choices"][0]["message"]["content"] == "Hi! Pizza or pasta at Luigi?"
    assert again.json()["choices"][0]["message"]["content"] == "Which size?"
    assert chained.json()["choices"][0]["message"]["content"] == "A large pizza: noted.\n\nThanks!"
    lines = [line.removeprefix("data: ") for line in streamed.text.splitlines() if line.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    chunks = [json.loads(line)["choices"][0] for line in lines[:-1]]
    assert "".join(c["delta"].get("content") or "" for c in chunks) == "A small pizza: noted.\n\nThanks!"
    assert [c["finish_reason"] for c in chunks].count("stop") == 1 and chunks[-1]["finish_reason"] == "stop"


async def test_a_new_version_is_run_and_a_session_in_a_removed_step_starts_over(sqlite_url: str) -> None:
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        sessions = app.app.state.session_factory
        bot_id = await add_bot(sessions, PIZZA)
        async with connect(app.ws(f"/ws/agents/{bot_id}")) as socket:
            assert texts(await ws_turn(socket, "pizza")) == ["Which size?"]
            changed = copy.deepcopy(PIZZA)
            changed["steps"] = [s for s in changed["steps"] if s["key"] != "size"]
            changed["steps"][0]["connection_groups"][0]["connections"][1]["next_step"] = "thanks"
            changed["steps"][0]["message"]["text"] = "Hello again!"
            await publish(sessions, bot_id, changed)
            assert texts(await ws_turn(socket, "nothing")) == ["Hello again!"]  # back at hello, else branch
            assert texts(await ws_turn(socket, "pizza")) == ["Thanks!"]
        async with sessions() as session:
            row = await session.scalar(select(ScenarioSession).where(ScenarioSession.bot_id == bot_id))
            events = list(await session.scalars(select(StepEvent).where(StepEvent.bot_id == bot_id)
                                                .order_by(StepEvent.seq)))
    assert row is not None and row.step_id == "thanks" and row.version == 2
    # A new session (and one sent back to the first step) starts there without entering it: no move on.
    assert [(e.step_id, e.kind) for e in events] == [
        ("size", "entered"), ("hello", "entered"), ("hello", "moved_on"), ("thanks", "entered")]


# --- exactly once, below the gateway -----------------------------------------------------


class World:
    def __init__(self, bus: Bus, sessions: SessionFactory, settings: Settings, bot_id: str) -> None:
        self.bus, self.sessions, self.settings, self.bot_id = bus, sessions, settings, bot_id
        self.hosts: list[AgentHost] = []

    async def new_host(self) -> AgentHost:
        host = build_host(
            host_id=new_host_id("local"), role="local", bus=self.bus, session_factory=self.sessions,
            settings=self.settings, engines=build_engines(self.settings, self.sessions, self.bus),
        )
        await host.start()
        self.hosts.append(host)
        return host


@pytest.fixture
async def world(bus: Bus, sqlite_url: str) -> AsyncIterator[World]:
    engine, sessions = await migrated_sessions(sqlite_url)
    bot_id = await add_bot(sessions, PIZZA)
    found = World(bus, sessions, make_settings(database_url=sqlite_url), bot_id)
    try:
        yield found
    finally:
        for host in found.hosts:
            await host.close()
        await engine.dispose()


def inbound(bot_id: str, text: str, *, message_id: str | None = None) -> dict[str, Any]:
    return {
        "message_id": message_id or uuid.uuid4().hex, "agent_id": bot_id, "chat_id": "c1", "text": text,
        "platform_user_id": "visitor-1", "user_data": {}, "channel": "web", "position": 1, "user_id": None,
    }


async def answer(bus: Bus, bot_id: str, message: dict[str, Any]) -> list[dict[str, Any]]:
    """The output events for ``message`` up to its last message or an error."""
    output = await bus.subscribe(keys.agent_output(bot_id))
    seen: list[dict[str, Any]] = []

    async def final() -> bool:
        event = await output.get(timeout=0.2)
        if event is not None and event.get("reply_to") == message["message_id"]:
            seen.append(event)
        return bool(seen) and (seen[-1]["type"] == "error" or not seen[-1].get("more"))

    try:
        await bus.add(keys.agent_input(bot_id), message)
        await eventually(final, interval=0, what="the answer")
    finally:
        await output.close()
    return seen


async def session_row(sessions: SessionFactory, bot_id: str) -> ScenarioSession:
    async with sessions() as session:
        row = await session.scalar(select(ScenarioSession).where(ScenarioSession.bot_id == bot_id))
    assert row is not None
    return row


async def test_a_message_redelivered_after_the_session_was_saved_moves_it_once(world: World) -> None:
    bus, sessions, bot_id = world.bus, world.sessions, world.bot_id
    await (await world.new_host()).host(bot_id)
    await answer(bus, bot_id, inbound(bot_id, "pizza"))
    message = inbound(bot_id, "large")
    # A host handled it and committed the session, then died before its reply went out.
    done = await scenario_sessions.process(
        sessions, bot_id=bot_id, envelope=message, cache=BotCache(), actions=lambda doc, env: None,  # type: ignore[arg-type,return-value]
        max_steps=50,
    )
    assert [m["text"] for m in done.messages] == ["A large pizza: noted.", "Thanks!"]
    async with session_scope(sessions) as db:  # its events were saved with it
        before = len(list(await db.scalars(select(StepEvent).where(StepEvent.bot_id == bot_id))))

    events = await answer(bus, bot_id, message)  # delivered again

    assert [e["response"] for e in events if e["type"] == "message"] == ["A large pizza: noted.", "Thanks!"]
    row = await session_row(sessions, bot_id)
    assert row.step_id == "thanks" and row.last_message_id == message["message_id"]
    async with session_scope(sessions) as db:
        assert len(list(await db.scalars(select(StepEvent).where(StepEvent.bot_id == bot_id)))) == before


async def test_a_message_answered_already_is_sent_again_whole_from_its_reply_marker(world: World) -> None:
    bus, sessions, bot_id = world.bus, world.sessions, world.bot_id
    first_host = await world.new_host()
    await first_host.host(bot_id)
    await answer(bus, bot_id, inbound(bot_id, "pizza"))
    message = inbound(bot_id, "small")
    first = await answer(bus, bot_id, message)
    # Delivered again, and its host dies before acknowledging it: the next host finds it pending.
    await first_host.close()
    world.hosts.remove(first_host)
    output = await bus.subscribe(keys.agent_output(bot_id))
    try:
        await bus.add(keys.agent_input(bot_id), message)
        await bus.read({keys.agent_input(bot_id): ">"}, keys.INPUT_GROUP, keys.INPUT_CONSUMER)
        await (await world.new_host()).host(bot_id)
        again: list[dict[str, Any]] = []

        async def last() -> bool:
            event = await output.get(timeout=0.2)
            if event is not None and event.get("reply_to") == message["message_id"]:
                again.append(event)
            return bool(again) and not again[-1].get("more")

        await eventually(last, interval=0, what="the answer sent again")
    finally:
        await output.close()

    assert [(e["message_id"], e["response"]) for e in again] == [(e["message_id"], e["response"]) for e in first]
    assert [e.get("more") for e in again] == [True, None]
    assert (await session_row(sessions, bot_id)).step_id == "thanks"


async def test_the_loop_guard_tells_the_user(world: World) -> None:
    bus, sessions, host = world.bus, world.sessions, await world.new_host()
    loop = {"name": "Loop", "first_step": "a", "steps": [
        {"key": "a", "connection_groups": [{"connections": [go("b")]}]},
        {"key": "b", "is_proxy": True, "message": {"text": "b"}, "connection_groups": [{"connections": [go("a2")]}]},
        {"key": "a2", "is_proxy": True, "message": {"text": "a"}, "connection_groups": [{"connections": [go("b")]}]}]}
    bot_id = await add_bot(sessions, loop)
    await host.host(bot_id)
    events = await answer(bus, bot_id, inbound(bot_id, "go"))
    assert len(events) == 51
    assert "more than 50 steps" in events[-1]["response"]


async def test_a_bot_with_nothing_published_says_so(world: World) -> None:
    bus, sessions, host = world.bus, world.sessions, await world.new_host()
    async with session_scope(sessions) as session:
        bot = await session.get(Bot, world.bot_id)
        assert bot is not None
        bot.published_version = None
    await host.host(world.bot_id)
    events = await answer(bus, world.bot_id, inbound(world.bot_id, "hi"))
    assert [e["type"] for e in events] == ["error"]
    assert events[0]["response"] == "The bot can't answer: the bot has no published version yet: publish it first."
