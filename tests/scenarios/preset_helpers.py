"""Building bots with presets over the API, for the preset tests."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import httpx

from agenthub.config import Settings
from agenthub.db.engine import SessionFactory
from agenthub.engines.registry import EngineRegistry, build_engines
from agenthub.scenarios.actions.base import ActionDeps
from agenthub.scenarios.actions.integrations import IntegrationRegistry, default_integrations, random_number


async def post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def step(client: httpx.AsyncClient, bot_id: str, text: str, **more: Any) -> str:
    return str((await post(client, "/api/v1/steps", {"bot_id": bot_id, "message": {"text": text}, **more}))["id"])


async def preset(client: httpx.AsyncClient, bot_id: str, which: str, **config: Any) -> dict[str, Any]:
    return await post(client, f"/api/v1/bots/{bot_id}/presets", {"preset": which, "config": config})


async def link(client: httpx.AsyncClient, from_step: str, to_step: str) -> None:
    """A connection that always holds from one step to another."""
    group = await post(client, "/api/v1/connection_groups", {"step_id": from_step})
    await post(client, "/api/v1/connections", {"group_id": group["id"], "next_step_id": to_step})


async def new_bot(client: httpx.AsyncClient, name: str) -> str:
    return str((await post(client, "/api/v1/bots", {"name": name}))["id"])


async def publish(client: httpx.AsyncClient, bot_id: str) -> None:
    response = await client.post(f"/api/v1/bots/{bot_id}/publish")
    assert response.status_code == 200, response.text


class Scripted(random.Random):
    """A random source that gives the numbers it was given, in order."""

    def __init__(self, values: list[float]) -> None:
        super().__init__(0)
        self.values = list(values)

    def random(self) -> float:
        return self.values.pop(0)


def engines_drawing(source: random.Random) -> Any:
    """An ``engines`` factory for ``create_app`` whose ``random.number`` draws from ``source``."""
    def engines(
        settings: Settings, sessions: SessionFactory, bus: Any = None, *, actions: ActionDeps | None = None
    ) -> EngineRegistry:
        builtin = [found for name in default_integrations().names
                   if name != random_number.NAME and (found := default_integrations().get(name)) is not None]
        registry = IntegrationRegistry([*builtin, random_number.integration(source)])
        return build_engines(settings, sessions, bus,
                             actions=None if actions is None else replace(actions, integrations=registry))
    return engines


