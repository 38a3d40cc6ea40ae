"""A running AgentHub wired to a fake Bot API, and the steps the Telegram tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from agenthub.config import Settings
from tests.agents.helpers import agent_body, migrated, wait_for
from tests.scenarios.helpers import add_bot
from tests.support.fake_telegram import Call, FakeBotApi
from tests.support.server import RunningApp, make_settings, running_app

TOKEN = "123456:AAH-test-token-one"
OTHER_TOKEN = "654321:AAH-test-token-two"
PUBLIC_URL = "https://bots.example.com"


@dataclass
class World:
    api: FakeBotApi
    app: RunningApp
    client: httpx.AsyncClient

    async def credential(self, token: str = TOKEN) -> str:
        created = await self.client.post(
            "/api/v1/credentials", json={"name": "bot", "type": "telegram_bot_token", "value": token}
        )
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    async def agent(self, agent_id: str, credential_id: str, *, mode: str = "polling", access: str = "public",
                    **integration: Any) -> dict[str, Any]:
        telegram = {"type": "telegram", "settings": {"credential_id": credential_id, "mode": mode, **integration}}
        body = agent_body(id=agent_id, settings={"access": access, "integrations": [telegram]})
        created = await self.client.post("/api/v1/agents", json=body)
        assert created.status_code == 201, created.text
        return dict(created.json())

    async def scenario_bot(self, document: dict[str, Any], bot_id: str) -> None:
        """A public scenario bot of ``document`` on Telegram (a credential of :data:`TOKEN`),
        its bot started."""
        credential = await self.credential()
        await add_bot(self.app.app.state.session_factory, document, bot_id=bot_id, settings={
            "isolation": "shared", "access": "public",
            "integrations": [{"type": "telegram", "settings": {"credential_id": credential}}],
        })
        await self.start(bot_id)

    async def status(self, agent_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/agents/{agent_id}/integrations/telegram/status")
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def until_status(self, agent_id: str, wanted: str) -> dict[str, Any]:
        async def reached() -> dict[str, Any] | None:
            status = await self.status(agent_id)
            return status if status["status"] == wanted else None

        status = await wait_for(reached, timeout=15)
        assert status, await self.status(agent_id)
        return status

    async def start(self, agent_id: str) -> dict[str, Any]:
        response = await self.client.post(f"/api/v1/agents/{agent_id}/integrations/telegram/start")
        assert response.status_code == 200, response.text
        return await self.until_status(agent_id, "running")

    async def replies(self, predicate: Callable[[list[Call]], bool], token: str = TOKEN) -> list[Call]:
        await self.api.wait_for(lambda calls: predicate(self.api.sent(token)), timeout=60)  # generous: a loaded CI machine
        return self.api.sent(token)


def texts_to(calls: list[Call], chat_id: int = 42) -> list[str]:
    return [str(call.params.get("text")) for call in calls if str(call.params.get("chat_id")) == str(chat_id)]


def settings_for(database_url: str, tmp_path: Path, api: FakeBotApi, **overrides: Any) -> Settings:
    return make_settings(
        database_url=database_url, data_dir=tmp_path / "data", telegram_api_base_url=api.root,
        public_url=PUBLIC_URL, **overrides,
    )


@asynccontextmanager
async def world(database_url: str, tmp_path: Path, api: FakeBotApi, **app_options: Any) -> AsyncIterator[World]:
    await migrated(database_url)
    async with running_app(settings_for(database_url, tmp_path, api), **app_options) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
            yield World(api, app, client)
