"""chain and multi_agent agents made and used through the API, on the real app."""

from __future__ import annotations

from typing import Any

from tests.agents.helpers import assert_error, chat, client_for
from tests.graphs.helpers import system_of, users_of
from tests.support.fake_openai import FakeOpenAI


def _llm(server: FakeOpenAI, model_id: str, **settings: Any) -> dict[str, Any]:
    return {"provider": "openai_compatible", "model_id": model_id, "base_url": server.url, **settings}


async def test_a_chain_agent_answers_through_its_steps(sqlite_url: str) -> None:
    def respond(body: dict[str, Any]) -> str:
        return f"{system_of(body)}({users_of(body)[-1]})"

    with FakeOpenAI(responder=respond) as model:
        async with client_for(sqlite_url) as (_app, client):
            steps = [{"name": "one", "prompt": "A"}, {"name": "two", "prompt": "B", "model_id": "small"}]
            created = await client.post("/api/v1/agents", json={
                "id": "chain", "name": "Chain", "settings": _llm(model, "big", agent_type="chain", steps=steps),
            })
            assert created.status_code == 201, created.text
            refused = await client.post("/api/v1/agents", json={
                "name": "No steps", "settings": _llm(model, "big", agent_type="chain"),
            })
            assert "steps" in assert_error(refused, 422)["message"]

            message = await chat(client, "chain", "hello")

            assert message["content"] == "B(A(hello))"
            assert [r.body["model"] for r in model.requests] == ["big", "small"]
            history = (await client.get(f"/api/v1/agents/chain/chats/{message['chat_id']}/messages")).json()
            assert [m["content"] for m in history["items"]][-2:] == ["hello", "B(A(hello))"]


async def test_a_multi_agent_agent_routes_to_another_agent_of_its_organisation(sqlite_url: str) -> None:
    def respond(body: dict[str, Any]) -> str | dict[str, Any]:
        if body.get("tools"):
            done = any(m["role"] == "tool" for m in body["messages"])
            return {"tool_calls": [{"name": "route", "arguments": {"next": "FINISH" if done else "billing"}}]}
        return f"{system_of(body)} says: {users_of(body)[-1]}"

    with FakeOpenAI(responder=respond) as model:
        async with client_for(sqlite_url) as (_app, client):
            billing = {"id": "billing-bot", "name": "Billing", "settings": _llm(model, "b", system_prompt="BILLING")}
            assert (await client.post("/api/v1/agents", json=billing)).status_code == 201
            sub = [{"name": "billing", "description": "Invoices", "agent_id": "billing-bot"}]
            desk = {"id": "desk", "name": "Desk", "settings": _llm(model, "d", agent_type="multi_agent", sub_agents=sub)}
            assert (await client.post("/api/v1/agents", json=desk)).status_code == 201

            message = await chat(client, "desk", "my invoice?")

            assert message["content"] == "BILLING says: my invoice?"
            assert [r.body["model"] for r in model.requests] == ["d", "b", "d"]
