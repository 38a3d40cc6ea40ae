"""An API key limited to some agents sees the usage of those agents alone."""

from __future__ import annotations

import httpx

from tests.agents.helpers import agent_body, client_for, wait_for
from tests.support.sse import parse_sse


async def _used(client: httpx.AsyncClient, agent_ids: set[str]) -> bool:
    usage = (await client.get("/api/v1/usage")).json()
    return {a["agent_id"] for a in usage["agents"]} >= agent_ids


async def test_a_key_limited_to_agents_sees_only_their_usage(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, owner):
        for agent_id in ("seen", "unseen"):
            assert (await owner.post("/api/v1/agents", json=agent_body(id=agent_id))).status_code == 201
            answer = await owner.post(f"/api/v1/agents/{agent_id}/chat", json={"content": "hello"})
            assert any(name == "message" for name, _ in parse_sse(answer.text)), answer.text
        await wait_for(lambda: _used(owner, {"seen", "unseen"}), timeout=20)

        key = (await owner.post("/api/v1/api-keys", json={"name": "one agent", "agent_ids": ["seen"]})).json()
        async with httpx.AsyncClient(
            base_url=app.url, timeout=20, headers={"Authorization": f"Bearer {key['key']}"}
        ) as program:
            usage = (await program.get("/api/v1/usage")).json()
            assert [a["agent_id"] for a in usage["agents"]] == ["seen"]
            assert "unseen" not in str(usage)
