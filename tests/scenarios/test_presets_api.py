"""The presets' list and the answers to bad input: an unknown preset, a bad config, a step
of another bot, another organisation's bot; nothing is written by a refused call."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest

from agenthub.scenarios.actions.integrations import random_number
from tests.agents.helpers import migrated
from tests.scenarios.preset_helpers import new_bot, preset, step
from tests.support.server import make_settings, running_app

PRESETS = ["message", "conditional", "switch", "delay", "code", "integration", "ask", "split"]


async def test_the_presets_are_listed_with_their_config_schemas(sqlite_url: str) -> None:
    await migrated(sqlite_url)
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
            listed = (await client.get("/api/v1/presets")).json()
        async with httpx.AsyncClient(base_url=app.url, timeout=30) as anonymous:
            refused = await anonymous.get("/api/v1/presets")
    assert refused.status_code == 401
    assert [item["preset"] for item in listed["items"]] == PRESETS and listed["total"] == len(PRESETS)
    ask = next(item for item in listed["items"] if item["preset"] == "ask")
    assert {"question", "kind", "variable", "retry_text", "next_step_id"} <= set(ask["config_schema"]["properties"])
    assert set(ask["config_schema"]["required"]) == {"question", "variable", "next_step_id"}
    assert all(item["description"] for item in listed["items"])


async def _rows(client: httpx.AsyncClient, bot_id: str) -> tuple[int, int, int]:
    counts = []
    for path in ("steps", "connection_groups", "connections"):
        response = await client.get(f"/api/v1/{path}", params={"bot_id": bot_id})
        counts.append(response.json()["total"])
    return counts[0], counts[1], counts[2]


BAD: list[tuple[dict[str, Any], int, str]] = [
    ({"preset": "nope", "config": {}}, 422, "preset"),
    ({"preset": "ask", "config": {"question": "Q?", "variable": "x", "next_step_id": "{target}", "retry_text": ""}},
     422, "config.retry_text"),
    ({"preset": "ask", "config": {"question": "Q?", "variable": "message.text", "next_step_id": "{target}"}},
     422, "config.variable"),
    ({"preset": "ask", "config": {"question": "Q?", "variable": "x", "kind": "choice", "next_step_id": "{target}"}},
     422, "config.choices"),
    ({"preset": "ask", "config": {"question": "Q?", "variable": "x", "next_step_id": "{other}"}},
     422, "config.next_step_id"),
    ({"preset": "switch", "config": {"cases": [{"value": "a", "next_step_id": "{target}"},
                                               {"value": "b", "next_step_id": "{other}"}]}},
     422, "config.cases.1.next_step_id"),
    ({"preset": "switch", "config": {"cases": [{"value": {"an": "object"}, "next_step_id": "{target}"}]}},
     422, "config.cases.0"),
    ({"preset": "switch", "config": {"cases": [{"value": "(", "operator": "matches", "next_step_id": "{target}"}]}},
     422, "config.cases.0"),
    ({"preset": "split", "config": {"branches": [{"percent": 50, "next_step_id": "{target}"},
                                                 {"percent": 40, "next_step_id": "{target}"}]}},
     422, "config.branches"),
    ({"preset": "conditional", "config": {"rules": {"rules": [{"field": "x", "operator": "eq", "value": 1}]},
                                          "then_step_id": "{target}", "else_step_id": "{target}"}},
     422, "config.rules"),
    ({"preset": "message", "config": {"text": "Hi", "wait": False}}, 422, "config.next_step_id"),
    ({"preset": "delay", "config": {"delay_seconds": 0, "next_step_id": "{target}"}}, 422, "config.delay_seconds"),
    ({"preset": "message", "config": {"text": "Hi", "from_step_id": "{other}"}}, 422, "config.from_step_id"),
    ({"preset": "message", "config": {"text": "Hi", "colour": "red"}}, 422, "config.colour"),
    # Checked as a group saved over REST is: code that compiles, JSONPaths that parse, a known integration.
    ({"preset": "code", "config": {"code": "def main(:", "next_step_id": "{target}"}}, 422, "config.code"),
    ({"preset": "code", "config": {"code": "x = 1", "variables": {"total": "$.[["}, "next_step_id": "{target}"}},
     422, "config.variables.total"),
    ({"preset": "integration", "config": {"integration": {"name": "no.such"}, "next_step_id": "{target}"}},
     422, "config.integration.name"),
]


@pytest.mark.parametrize(("body", "status", "field"), BAD, ids=[field for _, _, field in BAD])
async def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
    sqlite_url: str, body: dict[str, Any], status: int, field: str
) -> None:
    await migrated(sqlite_url)
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
            bot_id, other_bot = await new_bot(client, "Mine"), await new_bot(client, "Other")
            ids = {"target": await step(client, bot_id, "Target"), "other": await step(client, other_bot, "Else")}
            before = await _rows(client, bot_id)
            filled = _fill(body, ids)
            response = await client.post(f"/api/v1/bots/{bot_id}/presets", json=filled)
            after = await _rows(client, bot_id)
            bot = (await client.get(f"/api/v1/bots/{bot_id}")).json()
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["details"][0]["field"] == field, error
    assert after == before and bot["draft_revision"] == 2  # (made, then its first step)


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.strip("{}") in ids:
        return ids[value.strip("{}")]
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, ids) for item in value]
    return value


async def test_a_failure_after_some_rows_were_made_leaves_none(sqlite_url: str) -> None:
    """The `ask` preset checks its choices only when it builds: its first rows are already
    flushed then, and the refusal rolls them back."""
    await migrated(sqlite_url)
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
            bot_id = await new_bot(client, "Mine")
            target = await step(client, bot_id, "Target")
            before = await _rows(client, bot_id)
            response = await client.post(f"/api/v1/bots/{bot_id}/presets", json={"preset": "ask", "config": {
                "question": "Q?", "variable": "x", "next_step_id": target, "min": 5, "max": 1, "kind": "number"}})
            assert response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "config.max"
            assert await _rows(client, bot_id) == before
            made = await preset(client, bot_id, "message", text="Fine", next_step_id=target)
            assert await _rows(client, bot_id) == (before[0] + 1, before[1] + 1, before[2] + 1)
    assert made["steps"][0]["preset_id"] == made["preset_id"]


async def test_an_unknown_bot_is_not_found(sqlite_url: str) -> None:
    """(Another organisation's bot answers the same: tests/test_isolation.py tries every route.)"""
    await migrated(sqlite_url)
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
            response = await client.post("/api/v1/bots/bot-nobody/presets", json={"preset": "message",
                                                                                  "config": {"text": "x"}})
    assert response.status_code == 404


async def test_the_split_draws_in_its_proportions_with_a_seeded_source() -> None:
    run = random_number.integration(random.Random(20261206)).run
    config = random_number.Config()
    draws = [(await run(config, None, None))["value"] for _ in range(4000)]  # type: ignore[arg-type]
    below = sum(1 for value in draws if value < 30)
    assert all(0 <= value < 100 for value in draws)
    assert 0.27 < below / len(draws) < 0.33
