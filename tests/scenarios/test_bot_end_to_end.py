"""A scenario bot built through the API (imported as one document) and driven over the
WebSocket, its every kind of action on a real component: an HTTP request to a local server,
a code step in the sandbox, an LLM step answered by an agent on the fake model server."""

from __future__ import annotations

from typing import Any

import httpx

from tests.scenarios.helpers import equal, go, ws_turn
from tests.support.fake_openai import FakeOpenAI
from tests.support.server import make_settings, running_app
from tests.support.target import Target
from tests.support.ws import connect

DOUBLE = """
async def main(message, variables):
    return {"double": len(variables["session"]["dish"]) * 2, "said": message["text"]}
"""


def _bot(menu_url: str) -> dict[str, Any]:
    return {
        "format": "agenthub.bot/v1", "name": "Kitchen", "first_step": "start",
        "steps": [
            {"key": "start", "message": {"text": "Welcome! Say order."},
             "connection_groups": [{"connections": [go("lookup", equal("order"))]}]},
            {"key": "lookup", "is_proxy": True, "message": {"text": "Looking it up..."},
             "connection_groups": [{"search_type": "response", "request": "menu",
                                    "variables": {"session.dish": "$.json.query.dish"},
                                    "connections": [go("compute")]}]},
            {"key": "compute", "is_proxy": True,
             "connection_groups": [{"search_type": "code", "code": DOUBLE,
                                    "variables": {"session.double": "$.double", "said": "$.said"},
                                    "connections": [go("ask")]}]},
            {"key": "ask", "is_proxy": True,
             "connection_groups": [{"search_type": "llm",
                                    "llm": {"agent_id": "chef", "prompt": "Describe {$session.dish$} briefly"},
                                    "variables": {"session.blurb": "$.text"},
                                    "connections": [go("done", {"condition": "AND", "rules": [
                                        {"field": "session.blurb", "operator": "is_not_empty"}]}, 10),
                                        go("sorry")]}]},
            {"key": "done", "message": {"text": "{$session.dish$} x{$session.double$} ({$session.said$}): "
                                                "{$session.blurb$}"}},
            {"key": "sorry", "message": {"text": "The chef is away."}},
        ],
        "requests": [{"key": "menu", "method": "GET", "url": f"{menu_url}/menu?dish=pizza"}],
    }


async def test_a_bot_built_by_import_runs_a_request_code_and_an_llm_step(sqlite_url: str) -> None:
    with Target() as menu, FakeOpenAI(answers=["Crisp, hot and cheesy."]) as model:
        settings = make_settings(database_url=sqlite_url, outbound_allowlist="127.0.0.1", sandbox_pool_size=1)
        async with running_app(settings) as app:
            async with httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
                chef = await client.post("/api/v1/agents", json={"id": "chef", "name": "Chef", "settings": {
                    "provider": "openai_compatible", "model_id": "m", "base_url": model.url}})
                assert chef.status_code == 201, chef.text
                imported = await client.post("/api/v1/bots/import", json=_bot(menu.url))
                assert imported.status_code == 201, imported.text
                bot_id = imported.json()["id"]
            async with connect(app.ws(f"/ws/agents/{bot_id}?chat_id=kitchen")) as socket:
                waiting = await ws_turn(socket, "hi")  # a new session at `start`: "hi" takes no connection
                events = await ws_turn(socket, "order")
        assert [event["content"] for event in waiting] == [""], waiting
        contents = [event["content"] for event in events if event["type"] == "message"]
        assert contents == ["Looking it up...", "pizza x10 (order): Crisp, hot and cheesy."], events
        assert menu.requests[-1]["query"] == {"dish": "pizza"}
        asked = model.requests[-1].body["messages"][-1]["content"]
        assert "Describe pizza briefly" in asked
