"""Bad input on every agent route: the documented JSON error with the right status, and
nothing stored half-way. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.agents.helpers import agent_body, assert_error, client_for

AGENTS = "/api/v1/agents"


def _settings(**changes: Any) -> dict[str, Any]:
    return {"provider": "fake", "model_id": "demo", **changes}


INVALID_CREATES: dict[str, tuple[Any, str]] = {
    # name of the case: (body, a field the message must name)
    "unknown provider": ({"name": "x", "settings": _settings(provider="skynet")}, "provider"),
    "temperature 5": ({"name": "x", "settings": _settings(temperature=5)}, "temperature"),
    "negative temperature": ({"name": "x", "settings": _settings(temperature=-0.1)}, "temperature"),
    "empty name": ({"name": "", "settings": _settings()}, "name"),
    "missing name": ({"settings": _settings()}, "name"),
    "missing settings": ({"name": "x"}, "settings"),
    "missing model_id": ({"name": "x", "settings": {"provider": "fake"}}, "model_id"),
    "unknown extra field": ({"name": "x", "settings": _settings(), "colour": "red"}, "colour"),
    "unknown settings field": ({"name": "x", "settings": _settings(max_tokens=5)}, "max_tokens"),
    "bad id pattern": ({"id": "Bad Id!", "name": "x", "settings": _settings()}, "id"),
    "id too short": ({"id": "a", "name": "x", "settings": _settings()}, "id"),
    "isolation bogus": ({"name": "x", "settings": _settings(isolation="bogus")}, "isolation"),
    "duplicate integration types": (
        {"name": "x", "settings": _settings(integrations=[
            {"type": "custom", "settings": {"bot_token": "1:a"}},
            {"type": "custom", "settings": {"bot_token": "2:b"}},
        ])},
        "integrations",
    ),
    "base_url not a URL": ({"name": "x", "settings": _settings(base_url="not a url")}, "base_url"),
    "kind scenario (not supported yet)": ({"name": "x", "kind": "scenario", "settings": _settings()}, "kind"),
    "body is a list": ([{"name": "x", "settings": _settings()}], "body"),
    "name is a number": ({"name": 5, "settings": _settings()}, "name"),
    "NUL in the name": ({"name": "a\x00b", "settings": _settings()}, "name"),
    "NUL in the system prompt": ({"name": "x", "settings": _settings(system_prompt="\x00")}, "system_prompt"),
    "openai_compatible without base_url": (
        {"name": "x", "settings": _settings(provider="openai_compatible")},
        "base_url",
    ),
}


@pytest.fixture
async def api(database_url: str):  # type: ignore[no-untyped-def]
    async with client_for(database_url) as (_, client):
        yield client


async def _list(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get(AGENTS)
    assert response.status_code == 200
    return response.json()


async def test_every_invalid_create_is_rejected_and_stores_nothing(api: httpx.AsyncClient) -> None:
    existing = await api.post(AGENTS, json=agent_body(id="keeper"))
    assert existing.status_code == 201
    before = await _list(api)

    for case, (body, field) in INVALID_CREATES.items():
        response = await api.post(AGENTS, json=body)
        error = assert_error(response, 422, "invalid_input")
        assert field in error["message"], (case, error)
        assert await _list(api) == before, case


async def test_malformed_json_is_a_bad_request(api: httpx.AsyncClient) -> None:
    await api.post(AGENTS, json=agent_body(id="keeper"))
    before = await _list(api)
    headers = {"content-type": "application/json"}

    for raw in (b'{"name": "x", "settings": {', b"not json at all", b'{"name": "x",}'):
        error = assert_error(await api.post(AGENTS, content=raw, headers=headers), 400, "bad_request")
        assert "JSON" in error["message"]
        assert_error(await api.patch(f"{AGENTS}/keeper", content=raw, headers=headers), 400, "bad_request")

    assert await _list(api) == before


async def test_duplicate_id_conflicts_and_keeps_the_first_agent(api: httpx.AsyncClient) -> None:
    first = (await api.post(AGENTS, json=agent_body(id="taken", name="First"))).json()

    duplicate = agent_body(id="taken", name="Second", settings={"system_prompt": "Other."})
    error = assert_error(await api.post(AGENTS, json=duplicate), 409, "conflict")
    assert "taken" in error["message"]

    assert (await api.get(f"{AGENTS}/taken")).json() == first
    assert (await _list(api))["total"] == 1

    # The failed insert left the database usable.
    assert (await api.post(AGENTS, json=agent_body(id="next"))).status_code == 201


async def test_invalid_updates_change_nothing(api: httpx.AsyncClient) -> None:
    original = (await api.post(AGENTS, json=agent_body(id="steady"))).json()
    url = f"{AGENTS}/steady"

    bad_updates = [
        {"settings": {**original["settings"], "temperature": 5}},
        {"settings": {**original["settings"], "provider": "skynet"}},
        {"name": ""},
        {"name": "ok", "colour": "red"},
        {"settings": {"provider": "openai_compatible"}},  # no base_url stored: invalid
        {"settings": {"temperature": -1}},
        {"name": "a\x00b"},
        {"name": "ok", "settings": {**original["settings"], "isolation": "bogus"}},
    ]
    for body in bad_updates:
        assert_error(await api.patch(url, json=body), 422, "invalid_input")

    assert (await api.get(url)).json() == original


async def test_unknown_agent_is_404_on_every_route(api: httpx.AsyncClient) -> None:
    # One agent exists, so an empty table is not what makes these 404.
    await api.post(AGENTS, json=agent_body(id="present"))
    url = f"{AGENTS}/ghost"
    routes = [
        ("GET", url, None),
        ("PATCH", url, {"name": "x"}),
        ("DELETE", url, None),
        ("GET", f"{url}/config", None),
        ("GET", f"{url}/status", None),
        ("POST", f"{url}/start", None),
        ("POST", f"{url}/stop", None),
        ("POST", f"{url}/stop?force=true", None),
        ("POST", f"{url}/restart", None),
        ("POST", f"{url}/chat", {"content": "hello"}),
        ("GET", f"{url}/chats/some-chat/messages", None),
    ]
    for method, path, body in routes:
        error = assert_error(await api.request(method, path, json=body), 404, "not_found")
        assert "ghost" in error["message"], (method, path)

    # Nothing was created or started for the unknown agent on the way.
    listing = await _list(api)
    assert [a["id"] for a in listing["items"]] == ["present"]


async def test_invalid_agent_id_in_the_path_is_a_json_error(api: httpx.AsyncClient) -> None:
    for bad in ("Bad!Id", "UPPER", "a", "x" * 65):
        url = f"{AGENTS}/{bad}"
        for method, path, body in [
            ("GET", url, None),
            ("PATCH", url, {"name": "x"}),
            ("DELETE", url, None),
            ("GET", f"{url}/config", None),
            ("GET", f"{url}/status", None),
            ("POST", f"{url}/start", None),
            ("POST", f"{url}/stop", None),
            ("POST", f"{url}/restart", None),
            ("POST", f"{url}/chat", {"content": "hello"}),
            ("GET", f"{url}/chats/c1/messages", None),
        ]:
            assert_error(await api.request(method, path, json=body), 422, "invalid_input")


async def test_bad_query_parameters(api: httpx.AsyncClient) -> None:
    await api.post(AGENTS, json=agent_body(id="present"))
    for params in ({"limit": 0}, {"limit": 501}, {"limit": "many"}, {"offset": -1}):
        error = assert_error(await api.get(AGENTS, params=params), 422, "invalid_input")
        assert next(iter(params)) in error["message"]
    error = assert_error(
        await api.post(f"{AGENTS}/present/stop", params={"force": "perhaps"}), 422, "invalid_input"
    )
    assert "force" in error["message"]
    # The rejected stop did nothing and the agent still answers.
    assert (await api.get(f"{AGENTS}/present/status")).json()["status"] == "stopped"


async def test_unknown_routes_and_methods_answer_json(api: httpx.AsyncClient) -> None:
    assert_error(await api.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error(await api.delete(AGENTS), 405, "method_not_allowed")
