"""Each gateway keeps its agent lookups for a moment (agents/directory.py), and yet a deleted
agent is refused at once, by the gateway that deleted it and by every other one. Two real
apps on one Redis and one PostgreSQL database."""

from __future__ import annotations

import json

import httpx
from websockets.exceptions import ConnectionClosed

from tests.agents.helpers import migrated
from tests.channels.helpers import assert_json_error, create_agent
from tests.support.server import RunningApp, make_settings, running_app
from tests.support.ws import connect


async def _socket_answer(app: RunningApp, agent_id: str) -> str:
    """The code of the first error a socket to the agent gets for an empty message:
    ``invalid_input`` when the socket was accepted, ``not_found`` when it was refused."""
    async with connect(app.ws(f"/ws/agents/{agent_id}")) as socket:
        try:
            await socket.send(json.dumps({"type": "message", "content": ""}))
        except ConnectionClosed:
            pass  # refused before the message went out; the refusal is still there to read
        return json.loads(await socket.recv())["code"]


async def test_a_deleted_agent_is_refused_at_once_by_every_gateway(
    postgres_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    await migrated(postgres_url)
    settings = make_settings(database_url=postgres_url, redis_url=redis_server_url, redis_prefix=redis_prefix)
    async with running_app(settings) as a, running_app(settings) as b:
        async with httpx.AsyncClient(base_url=a.url, timeout=30, headers=a.headers) as on_a, \
                httpx.AsyncClient(base_url=b.url, timeout=30, headers=b.headers) as on_b:
            agent_id = await create_agent(on_a)
            # Both gateways have looked the agent up, and keep what they found.
            for app, client in ((a, on_a), (b, on_b)):
                assert await _socket_answer(app, agent_id) == "invalid_input"
                assert_json_error(await client.post(f"/api/v1/agents/{agent_id}/chat", json={"content": ""}), 422)

            assert (await on_a.delete(f"/api/v1/agents/{agent_id}")).status_code == 204

            # Refused from now on over both channels: by the gateway that deleted it, which
            # forgot what it kept, and by the other one, within what it kept.
            for app, client in ((a, on_a), (b, on_b)):
                assert await _socket_answer(app, agent_id) == "not_found"
                error = assert_json_error(
                    await client.post(f"/api/v1/agents/{agent_id}/chat", json={"content": "still there?"}), 404
                )
                assert agent_id in error["message"]
