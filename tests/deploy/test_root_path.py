"""AgentHub behind a reverse proxy that serves it under ``/web`` and strips the prefix:
a real ``agenthub serve`` with ``ROOT_PATH=/web``, a real proxy in front (tests/support/prefix_proxy.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.channels.helpers import chat_messages, chunks, create_agent, eventually, received, turn
from tests.e2e.processes import clean_env, serve
from tests.support.prefix_proxy import prefix_proxy
from tests.support.server import OWNER_EMAIL, OWNER_PASSWORD
from tests.support.sse import parse_sse
from tests.support.ws import connect

pytestmark = pytest.mark.e2e

PREFIX = "/web"


async def test_docs_login_and_chat_work_through_a_prefix_stripping_proxy(tmp_path: Path) -> None:
    env = clean_env(ROOT_PATH=PREFIX, DEMO_AGENT="false", DATA_DIR=str(tmp_path / "data"))
    async with serve(env=env, cwd=tmp_path) as server, prefix_proxy(PREFIX, server.url) as proxy:
        async with httpx.AsyncClient(base_url=proxy + PREFIX, timeout=30) as client:
            # The console's page names the prefix as its base, and its assets load under it.
            index = await client.get("/")
            assert index.status_code == 200
            assert f'<base href="{PREFIX}/">' in index.text
            script = await client.get("/console/js/main.js")
            assert script.status_code == 200 and "render(" in script.text

            # /web/docs loads, and every address in it is under the prefix, and loads too.
            docs = await client.get("/docs")
            assert docs.status_code == 200
            assert f"'{PREFIX}/openapi.json'" in docs.text or f'"{PREFIX}/openapi.json"' in docs.text
            assert f"{PREFIX}/static-offline-docs/swagger-ui-bundle.js" in docs.text
            bundle = await client.get("/static-offline-docs/swagger-ui-bundle.js")
            assert bundle.status_code == 200 and len(bundle.content) > 1000
            redoc = await client.get("/redoc")
            assert f"{PREFIX}/openapi.json" in redoc.text

            # The document names the prefix as its server: "Try it out" calls /web/api/...
            document = (await client.get("/openapi.json")).json()
            assert document["servers"] == [{"url": PREFIX}]
            assert "/api/v1/agents" in document["paths"]

            # Log in and chat over SSE, all through the proxy.
            login = await client.post("/api/v1/auth/login", json={"email": OWNER_EMAIL, "password": OWNER_PASSWORD})
            assert login.status_code == 200, login.text
            token = login.json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            agent_id = await create_agent(client)
            async with client.stream("POST", f"/api/v1/agents/{agent_id}/chat", json={"content": "Hi there"}) as sse:
                assert sse.status_code == 200
                assert sse.headers["content-type"].startswith("text/event-stream")
                body = (await sse.aread()).decode()
            events = parse_sse(body)
            names = [name for name, _ in events]
            assert "chunk" in names and "message" in names and names[-1] == "done", names
            answer = dict(events)["message"]

            # The chat is kept: its history reads back through the proxy.
            async def _stored() -> list[dict]:
                items = await chat_messages(client, agent_id, answer["chat_id"])
                return items if len(items) == 2 else []

            history = await eventually(_stored, what="the chat's two messages")
            assert [(m["role"], m["content"]) for m in history] == [("user", "Hi there"), ("assistant", answer["content"])]

        # The admin panel under the prefix: its page, its files and its sign-in stay under /web.
        async with httpx.AsyncClient(base_url=proxy + PREFIX, timeout=30) as panel:
            login_page = await panel.get("/admin/login")
            assert login_page.status_code == 200
            statics = re.findall(r'(?:href|src)="([^"]*/admin/statics/[^"]+)"', login_page.text)
            assert statics and all(path.startswith(f"{proxy}{PREFIX}/admin/statics/") or
                                   path.startswith(f"{PREFIX}/admin/statics/") for path in statics), statics
            assert (await panel.get(statics[0].split(PREFIX, 1)[1])).status_code == 200
            signed_in = await panel.post("/admin/login", data={"username": OWNER_EMAIL, "password": OWNER_PASSWORD})
            assert signed_in.status_code == 302
            assert urlsplit(signed_in.headers["location"]).path.startswith(f"{PREFIX}/admin")
            agents = await panel.get("/admin/agent/list")
            assert agents.status_code == 200 and agent_id in agents.text

        # The WebSocket under the prefix: a turn streams in and answers.
        ws_url = proxy.replace("http", "ws", 1) + f"{PREFIX}/ws/agents/{agent_id}?token={token}"
        async with connect(ws_url) as socket:
            events = await turn(socket, "Over the socket")
        received(events)  # once: "received", then the answer
        assert events[-1]["type"] == "message", events
        assert "".join(chunks(events)) == events[-1]["content"]

        # Health probes (Docker, a load balancer) still reach the server itself without the prefix.
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as direct:
            assert (await direct.get("/health")).status_code == 200


async def test_prefixed_paths_keep_their_own_rules_behind_the_proxy(tmp_path: Path) -> None:
    """What the middleware decides by path (OpenAI-shaped errors under /v1, an unlimited
    /health, no page outside the prefix) holds with the prefix in front."""
    env = clean_env(
        ROOT_PATH=PREFIX + "/", DEMO_AGENT="false", DATA_DIR=str(tmp_path / "data"), RATE_LIMIT_ANONYMOUS_PER_MINUTE="2",
    )
    async with serve(env=env, cwd=tmp_path) as server, prefix_proxy(PREFIX, server.url) as proxy:
        async with httpx.AsyncClient(base_url=proxy, timeout=30) as client:
            for _ in range(4):  # /health is never rate limited
                assert (await client.get(f"{PREFIX}/health")).status_code == 200
            refused = await client.get(f"{PREFIX}/v1/models")
            assert refused.status_code == 401
            assert json.loads(refused.text)["error"]["type"] == "invalid_request_error"
            assert (await client.get("/docs")).status_code == 404  # the proxy serves only /web
