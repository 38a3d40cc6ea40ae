"""Scenario bots for tests, stored as publishing stores them (until the bots API exists)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from agenthub.agents.models import DEFAULT_ORG, Agent
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.scenarios.document import dump, parse
from agenthub.scenarios.models import Bot, BotVersion


def equal(text: str) -> dict[str, Any]:
    return {"condition": "AND", "rules": [{"field": "message.text", "operator": "equal", "value": text}]}


def go(step: str, rules: dict[str, Any] | None = None, priority: int = 0, **more: Any) -> dict[str, Any]:
    return {"rules": rules or {}, "priority": priority, "next_step": step, **more}


PIZZA: dict[str, Any] = {
    "name": "Pizza", "first_step": "hello", "variables": {"shop": "Luigi"},
    "connection_groups": [{"connections": [go("hello", equal("/start"), 100)]}],
    "steps": [
        {"key": "hello", "message": {"text": "Hi! Pizza or pasta at {$bot.shop$}?",
                                     "widget": {"buttons": [{"text": "Pizza", "value": "pizza"},
                                                            {"text": "Pasta", "value": "pasta"}]}},
         "connection_groups": [{"connections": [
             go("hello", {}, 0),
             go("size", {"condition": "AND", "rules": [
                 {"field": "message.text", "operator": "contains", "value": "pizza"}]}, 10),
             go("pasta", equal("pasta"), 10, filters=["button"]),
         ]}]},
        {"key": "size", "message": {"text": "Which size?"}, "connection_groups": [{"connections": [
            go("ordered", {"condition": "AND", "rules": [{"field": "message.text", "operator": "in",
                                                          "value": "small, large"}]})]}]},
        {"key": "ordered", "is_proxy": True, "message": {"text": "A {$message.text$} pizza: noted."},
         "connection_groups": [{"connections": [go("thanks")]}]},
        {"key": "thanks", "message": {"text": "Thanks!"}},
        {"key": "pasta", "message": {"text": "Pasta it is."}},
    ],
}


async def add_bot(
    sessions: SessionFactory, document: dict[str, Any], *, bot_id: str | None = None, org_id: str = DEFAULT_ORG,
    settings: dict[str, Any] | None = None,
) -> str:
    """A scenario agent (``settings``: the agent's) and its bot, ``document`` published as version 1."""
    bot_id = bot_id or f"bot-{uuid.uuid4().hex[:8]}"
    parsed = parse(document)
    async with session_scope(sessions) as session:
        session.add(Agent(id=bot_id, org_id=org_id, name=bot_id, kind="scenario",
                          settings=settings or {"isolation": "shared", "integrations": []}, config_version=1))
        await session.flush()
        session.add(Bot(id=bot_id, org_id=org_id, name=parsed.name, variables=dict(parsed.variables),
                        first_step_id=parsed.first_step, published_version=1))
        await session.flush()
        session.add(BotVersion(id=uuid.uuid4().hex, org_id=org_id, bot_id=bot_id, version=1, document=dump(parsed)))
    return bot_id


async def publish(sessions: SessionFactory, bot_id: str, document: dict[str, Any]) -> int:
    """``document`` as the bot's next version, the one sessions run."""
    async with session_scope(sessions) as session:
        bot = await session.get(Bot, bot_id)
        assert bot is not None
        version = (bot.published_version or 0) + 1
        session.add(BotVersion(id=uuid.uuid4().hex, org_id=bot.org_id, bot_id=bot_id, version=version,
                               document=dump(parse(document))))
        bot.published_version = version
    return version


async def receive_turn(socket: Any, *, timeout: float = 30.0) -> list[dict[str, Any]]:
    """WebSocket events up to the last message of a turn (one not marked ``more``) or an error."""
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while True:
            event = json.loads(await socket.recv())
            events.append(event)
            if event["type"] == "error" or (event["type"] == "message" and not event.get("more")):
                return events


async def ws_turn(socket: Any, content: str, **extra: Any) -> list[dict[str, Any]]:
    await socket.send(json.dumps({"type": "message", "content": content, **extra}))
    return [event for event in await receive_turn(socket) if event["type"] in ("message", "error")]
