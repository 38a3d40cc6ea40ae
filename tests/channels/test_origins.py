"""A page of another site can't use a user's AgentHub from the browser: its WebSocket is
refused, its requests get no CORS headers; ALLOWED_ORIGINS lets named sites in."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from agenthub.channels.origins import origin_allowed
from tests.agents.helpers import assert_error
from tests.channels.helpers import turn
from tests.support import ws
from tests.support.server import make_settings, running_app


@pytest.mark.parametrize(
    ("origin", "host", "allowed", "expected"),
    [
        (None, "127.0.0.1:8001", frozenset(), True),  # not a browser
        ("http://127.0.0.1:8001", "127.0.0.1:8001", frozenset(), True),  # AgentHub's own page
        ("http://LOCALHOST:8001/", "localhost:8001", frozenset(), True),
        ("http://evil.example", "127.0.0.1:8001", frozenset(), False),
        ("http://127.0.0.1:9999", "127.0.0.1:8001", frozenset(), False),  # another port, another site
        ("null", "127.0.0.1:8001", frozenset(), False),  # a sandboxed frame or a file
        ("https://app.example.com", "hub.example.com", frozenset({"https://app.example.com"}), True),
        ("https://app.example.com.evil", "hub.example.com", frozenset({"https://app.example.com"}), False),
        ("https://anything.example", "hub.example.com", frozenset({"*"}), True),
    ],
)
def test_origin_allowed(origin: str | None, host: str, allowed: frozenset[str], expected: bool) -> None:
    assert origin_allowed(origin, host=host, allowed=allowed) is expected


async def _create(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/agents", json={
        "id": "guarded", "name": "Guarded", "settings": {"provider": "fake", "model_id": "demo"},
    })
    assert created.status_code == 201, created.text


async def test_a_websocket_from_another_site_is_refused(sqlite_url: str) -> None:
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        async with httpx.AsyncClient(base_url=app.url, headers=app.headers, timeout=60) as client:
            await _create(client)
        url = app.ws("/ws/agents/guarded")
        with pytest.raises(InvalidStatus) as refused:
            async with ws.connect(url, origin="http://evil.example"):
                pass
        assert refused.value.response.status_code == 403
        error = json.loads(refused.value.response.body)["error"]
        assert error["code"] == "forbidden" and "ALLOWED_ORIGINS" in error["message"]

        async with ws.connect(url, origin=app.url) as socket:  # AgentHub's own page
            events = await turn(socket, "from our page")
            assert events[-1]["type"] == "message"
        async with ws.connect(url) as socket:  # a script, no Origin
            assert (await turn(socket, "from a script"))[-1]["type"] == "message"

        async with httpx.AsyncClient(base_url=app.url, headers=app.headers, timeout=60) as client:
            preflight = await client.options("/api/v1/agents/guarded/chat", headers={
                "origin": "http://evil.example", "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            })
            assert "access-control-allow-origin" not in preflight.headers
            error = assert_error(preflight, 403, "forbidden")  # said plainly, not 405
            assert "ALLOWED_ORIGINS" in error["message"]
            preflight = await client.options("/api/v1/agents", headers={
                "origin": "https://evil.example", "access-control-request-method": "GET",
            })
            assert_error(preflight, 403, "forbidden")

            # A bodiless POST needs no preflight: the page could send it; it is refused.
            assert (await client.post("/api/v1/agents/guarded/start")).status_code == 200
            for method, path in (("POST", "/stop?force=true"), ("POST", "/restart"), ("DELETE", "")):
                refused = await client.request(
                    method, f"/api/v1/agents/guarded{path}", headers={"origin": "http://evil.example"}
                )
                error = assert_error(refused, 403, "forbidden")
                assert "ALLOWED_ORIGINS" in error["message"]
            assert (await client.get("/api/v1/agents/guarded/status")).json()["status"] == "running"
            # AgentHub's own page and clients that are not browsers may.
            own = await client.post("/api/v1/agents/guarded/stop", headers={"origin": app.url})
            assert own.status_code == 200 and own.json()["status"] == "stopped"
            assert (await client.post("/api/v1/agents/guarded/start")).status_code == 200


async def test_allowed_origins_may_use_the_websocket_and_the_api(sqlite_url: str) -> None:
    site = "https://app.example.com"
    async with running_app(make_settings(database_url=sqlite_url, allowed_origins=f"{site}, https://b.example")) as app:
        async with httpx.AsyncClient(base_url=app.url, headers=app.headers, timeout=60) as client:
            await _create(client)
            preflight = await client.options("/api/v1/agents/guarded/chat", headers={
                "origin": site, "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            })
            assert preflight.status_code == 200
            assert preflight.headers["access-control-allow-origin"] == site
            listed = await client.get("/api/v1/agents", headers={"origin": site})
            assert listed.headers["access-control-allow-origin"] == site
            started = await client.post("/api/v1/agents/guarded/start", headers={"origin": site})
            assert started.status_code == 200 and started.headers["access-control-allow-origin"] == site
        async with ws.connect(app.ws("/ws/agents/guarded"), origin=site) as socket:
            assert (await turn(socket, "from the allowed site"))[-1]["type"] == "message"
        with pytest.raises(InvalidStatus):
            async with ws.connect(app.ws("/ws/agents/guarded"), origin="https://c.example"):
                pass
        async with httpx.AsyncClient(base_url=app.url, headers=app.headers, timeout=60) as client:
            # A site not listed: its preflight is refused in the JSON shape, not in CORS's plain text.
            preflight = await client.options("/api/v1/agents/guarded/chat", headers={
                "origin": "https://c.example", "access-control-request-method": "POST",
            })
            assert "access-control-allow-origin" not in preflight.headers
            assert_error(preflight, 403, "forbidden")
