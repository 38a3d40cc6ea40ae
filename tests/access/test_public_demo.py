"""The demo agent is public, so the README's chat examples work without a token; a demo
agent made before agents had ``access`` becomes public on the next start, and one whose
access an admin set keeps it."""

from __future__ import annotations

import httpx
from sqlalchemy import update

from agenthub.agents.models import Agent
from agenthub.db.engine import session_scope
from tests.access.helpers import ws_refusal, ws_turn
from tests.agents.helpers import assert_error, chat, migrated
from tests.support.server import make_settings, running_app


async def test_the_demo_agent_answers_anonymous_visitors_and_becomes_public_when_it_was_made_before_access(
    sqlite_url: str,
) -> None:
    await migrated(sqlite_url)
    settings = make_settings(database_url=sqlite_url, demo_agent=True)
    async with running_app(settings) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=20) as anonymous:
            message = await chat(anonymous, "demo", "hello")
            assert "hello" in message["content"]
        events = await ws_turn(f"{app.ws_url}/ws/agents/demo")
        assert events[-1]["type"] == "message", events
        # As it was stored before agents had `access`.
        async with session_scope(app.app.state.session_factory) as session:
            agent = await session.get(Agent, "demo")
            assert agent is not None and agent.settings["access"] == "public"
            await session.execute(update(Agent).where(Agent.id == "demo").values(
                settings={k: v for k, v in agent.settings.items() if k != "access"}
            ))

    async with running_app(settings) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as owner:
            assert (await owner.get("/api/v1/agents/demo")).json()["settings"]["access"] == "public"
            async with httpx.AsyncClient(base_url=app.url, timeout=20) as anonymous:
                await chat(anonymous, "demo", "hello again")
            response = await owner.patch("/api/v1/agents/demo", json={"settings": {"access": "organization"}})
            assert response.status_code == 200, response.text

    async with running_app(settings) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=20) as anonymous:
            response = await anonymous.post("/api/v1/agents/demo/chat", json={"content": "hi"})
            assert_error(response, 401, "unauthorized")
        event, code = await ws_refusal(f"{app.ws_url}/ws/agents/demo")
        assert (event["code"], code) == ("unauthorized", 4401)
