"""The isolation matrix: every route of ``/openapi.json``, tried by a second organisation
(with its owner's token and with its API key) on the first organisation's resources, must
neither reveal nor change them.

Routes join by themselves: each operation of the document is called, its path parameters
filled with the first organisation's ids (:data:`PATH_VALUES`; a route with a parameter
not named there fails this test until it is added), its body made from its schema. For a
route that names a resource, the answer must be the one it gives for an id that does not
exist at all (so it tells nothing: 404, or the same 403 for any id); for every route, no
answer may hold the first organisation's data; afterwards the first organisation reads
back everything it had, unchanged.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.agents.helpers import agent_body, client_for
from tests.notifications.helpers import channel_settings
from tests.notifications.mailserver import mail_server
from tests.support.sse import parse_sse
from tests.support.ws import connect

SECRET_WORD = "zebra-fountain-7731"
"""Said in the first organisation's chat: it must never appear in an answer to the second."""

SECRET_NAME = "ocelot-lantern-2209"
SECRET_PROMPT = "walrus-orchard-4415"
SECRET_ADDRESS = "heron-quarry-6630@example.com"
"""The first organisation's owner's notification channel, and the subject of a notification to it."""

PATH_VALUES: dict[str, str] = {
    "agent_id": "iso-a",
    "chat_id": "iso-chat-a",
    "model": "iso-a",  # the OpenAI-compatible API's name of an agent
    "type": "telegram",  # /api/v1/integrations/{agent_id}/{type}/...
    "name": "lawyer",  # /api/v1/roles/{name}: a shipped role
    "version": "1",  # /api/v1/bots/{bot_id}/versions/{version}
}
"""Path parameters by name, filled in :func:`_first_organisation` with the ids of what the
first organisation made (``org_id``, ``user_id``, ``credential_id``, ``id`` by path, ...)."""

SHARED_PATH_VALUES: dict[str, str] = {
    "provider": "fake",  # /api/v1/providers/{provider}/models
}
"""Path parameters that name nothing of an organisation's (the platform's model providers):
a route with only these is tried as one without ids, every organisation answered alike."""

PATH_VALUE_BY_PREFIX: dict[str, str] = {}
"""For a parameter called just ``id`` (or ``*_id`` of a resource known by its path): the
value by the path it is under, e.g. ``/api/v1/api-keys/{id}``."""

OK_FOR_ANY_ID = {401, 403, 404, 405, 409, 422}

PLATFORM_PATHS = {"/api/v1/roles/{name}"}
"""Routes of what belongs to the platform, the same for every organisation (the shipped roles):
every organisation reads them, so a second organisation's answer may differ from the one for
a name nobody has; it must still reveal nothing of the first organisation."""

OPENAI_CHAT = "/v1/chat/completions"
"""Names its agent in the body (``model``): tried with the first organisation's, and with one nobody has."""


async def _chat(client: httpx.AsyncClient, agent_id: str, chat_id: str, content: str) -> None:
    response = await client.post(f"/api/v1/agents/{agent_id}/chat", json={"content": content, "chat_id": chat_id})
    assert response.status_code == 200, response.text
    assert any(name == "message" for name, _ in parse_sse(response.text)), response.text


def _paths(document: dict[str, Any]) -> set[str]:
    return set(document["paths"])


async def _first_organisation(client: httpx.AsyncClient, document: dict[str, Any]) -> dict[str, str]:
    """Make one of everything the API can make in the first organisation; their ids by name."""
    paths = _paths(document)
    ids: dict[str, str] = {}
    body = agent_body(id="iso-a", name=f"Agent {SECRET_NAME}", settings={"system_prompt": f"Keep {SECRET_PROMPT}"})
    assert (await client.post("/api/v1/agents", json=body)).status_code == 201
    await _chat(client, "iso-a", "iso-chat-a", f"remember {SECRET_WORD}")
    me = (await client.get("/api/v1/auth/me")).json()
    ids["org_id"] = me["org_id"]
    ids["owner_id"] = me["id"]
    if "/api/v1/orgs/{org_id}/members" in paths:
        created = await client.post(f"/api/v1/orgs/{me['org_id']}/members", json={
            "email": f"member-{uuid.uuid4().hex[:6]}@example.com", "password": "member-password-1", "role": "member",
        })
        assert created.status_code == 201, created.text
        ids["user_id"] = created.json().get("id") or created.json().get("user_id")
    if "/api/v1/orgs/{org_id}/invitations" in paths:
        created = await client.post(f"/api/v1/orgs/{me['org_id']}/invitations", json={"role": "member"})
        assert created.status_code == 201, created.text
        ids["invitation_id"] = created.json()["id"]
    if "/api/v1/api-keys" in paths:
        created = await client.post("/api/v1/api-keys", json={"name": "iso-a key"})
        assert created.status_code == 201, created.text
        ids["api_key_id"] = created.json()["id"]
    if "/api/v1/credentials" in paths:
        created = await client.post(
            "/api/v1/credentials", json={"name": "iso-a secret", "type": "api_key", "value": "iso-a-secret-value"}
        )
        assert created.status_code == 201, created.text
        ids["credential_id"] = created.json()["id"]
    if "/api/v1/agents/{agent_id}/integrations/telegram/start" in paths and "credential_id" in ids:
        telegram = {"type": "telegram", "settings": {"credential_id": ids["credential_id"], "mode": "polling"}}
        patched = await client.patch("/api/v1/agents/iso-a", json={"settings": {"integrations": [telegram]}})
        assert patched.status_code == 200, patched.text
    if "/api/v1/agents/{agent_id}/authorizations" in paths:
        created = await client.post(
            "/api/v1/agents/iso-a/authorizations", json={"channel": "web", "platform_user_id": ids["owner_id"]}
        )
        assert created.status_code == 201, created.text
        ids["authorization_id"] = created.json()["id"]
    if "/api/v1/agents/{agent_id}/memory" in paths:
        put = await client.put("/api/v1/agents/iso-a/memory", json={"blocks": [
            {"label": "human", "value": f"Knows {SECRET_WORD}"},
        ]})
        assert put.status_code == 200, put.text
        ids["memory"] = "/api/v1/agents/iso-a/memory"
    if "/api/v1/calendar/events" in paths:
        created = await client.post("/api/v1/calendar/events", json={
            "title": f"Event {SECRET_NAME}", "agent_id": "iso-a", "prompt": f"say {SECRET_PROMPT}",
            "start_at": "2099-01-01T09:00:00", "timezone": "Europe/Berlin", "cron": "0 9 * * 1",
        })
        assert created.status_code == 201, created.text
        ids["event_id"] = created.json()["id"]
    if "/api/v1/notification-channels" in paths:
        created = await client.post(
            "/api/v1/notification-channels", json={"type": "email", "address": SECRET_ADDRESS, "priority": 1}
        )
        assert created.status_code == 201, created.text
        ids["channel_id"] = created.json()["id"]
        notified = await client.post("/api/v1/notifications", json={"subject": SECRET_ADDRESS, "body": SECRET_WORD})
        assert notified.status_code == 201, notified.text
    if "/api/v1/group-chats" in paths and "user_id" in ids:
        created = await client.post("/api/v1/group-chats", json={
            "name": f"Group {SECRET_NAME}", "member_ids": [ids["user_id"]], "agent_id": "iso-a",
        })
        assert created.status_code == 201, created.text
        ids["group_chat_id"] = created.json()["id"]
        posted = await client.post(
            f"/api/v1/group-chats/{ids['group_chat_id']}/messages", json={"content": f"@owner {SECRET_WORD}"}
        )
        assert posted.status_code == 201, posted.text
        ids["message_id"] = posted.json()["id"]
    if "/api/v1/knowledge-bases" in paths:
        created = await client.post("/api/v1/knowledge-bases", json={"name": f"KB {SECRET_NAME}", "embedding_model": "fake"})
        assert created.status_code == 201, created.text
        ids["kb_id"] = created.json()["id"]
        uploaded = await client.post(
            f"/api/v1/knowledge-bases/{ids['kb_id']}/documents",
            files={"file": (f"{SECRET_NAME}.txt", f"The password is {SECRET_WORD}".encode(), "text/plain")},
        )
        assert uploaded.status_code == 201, uploaded.text
        ids["document_id"] = uploaded.json()["id"]
        await _processed(client, ids["kb_id"], ids["document_id"])
    if "/api/v1/files" in paths:
        uploaded = await client.post(
            "/api/v1/files", files={"file": (f"{SECRET_NAME}.txt", f"File of {SECRET_WORD}".encode(), "text/plain")}
        )
        assert uploaded.status_code == 201, uploaded.text
        ids["file_id"] = uploaded.json()["id"]
    if "/api/v1/bots" in paths:
        await _scenario_bot(client, ids)
    return ids


async def _scenario_bot(client: httpx.AsyncClient, ids: dict[str, str]) -> None:
    """A scenario bot with one of each of its parts, published, and a template."""
    async def made(path: str, body: dict[str, Any]) -> str:
        created = await client.post(path, json=body)
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    ids["bot_id"] = await made("/api/v1/bots", {"name": f"Bot {SECRET_NAME}", "variables": {"word": SECRET_WORD}})
    ids["step_id"] = await made("/api/v1/steps", {"bot_id": ids["bot_id"], "message": {"text": SECRET_PROMPT}})
    ids["request_id"] = await made("/api/v1/requests", {
        "bot_id": ids["bot_id"], "url": f"https://example.com/{SECRET_WORD}", "headers": {"X-Key": SECRET_WORD},
    })
    ids["group_id"] = await made("/api/v1/connection_groups", {
        "step_id": ids["step_id"], "search_type": "response", "request_id": ids["request_id"],
    })
    ids["connection_id"] = await made("/api/v1/connections", {"group_id": ids["group_id"], "next_step_id": ids["step_id"]})
    ids["template_id"] = await made("/api/v1/templates", {
        "name": f"Template {SECRET_NAME}", "document": {"first_step": "a", "steps": [{"key": "a"}]},
    })
    ids["cron_id"] = await made(f"/api/v1/bots/{ids['bot_id']}/crons", {"cron": "0 9 * * *", "step_id": ids["step_id"]})
    published = await client.post(f"/api/v1/bots/{ids['bot_id']}/publish")
    assert published.status_code == 200, published.text


async def _processed(client: httpx.AsyncClient, kb_id: str, document_id: str) -> None:
    """Wait for the document to be ready (a snapshot taken while it is processed would change)."""
    async with asyncio.timeout(30):
        while True:
            documents = (await client.get(f"/api/v1/knowledge-bases/{kb_id}/documents")).json()
            if [d["status"] for d in documents if d["id"] == document_id] == ["ready"]:
                return
            await asyncio.sleep(0.05)


def _path_value(path: str, name: str, ids: dict[str, str]) -> str:
    if name in PATH_VALUES:
        return PATH_VALUES[name]
    if name in SHARED_PATH_VALUES:
        return SHARED_PATH_VALUES[name]
    if name in ids:
        return ids[name]
    aliases = {"key_id": "api_key_id"}
    if aliases.get(name) in ids:
        return ids[aliases[name]]
    if name == "id":
        for prefix, key in (("/api/v1/api-keys/", "api_key_id"), ("/api/v1/credentials/", "credential_id")):
            if path.startswith(prefix) and key in ids:
                return ids[key]
    if name in ("invitation_id", "authorization_id", "session_id"):
        return ids.get(name, "missing")
    raise AssertionError(
        f"{path}: no value of the first organisation for the path parameter {name!r}: "
        "add it to tests/test_isolation.py"
    )


def _fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: values[m.group(1)], path)


class _Schemas:
    """A minimal valid instance of a JSON schema of the document (required fields only)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._components = document.get("components", {}).get("schemas", {})

    def example(self, schema: dict[str, Any], depth: int = 0) -> Any:
        if "$ref" in schema:
            return self.example(self._components[schema["$ref"].rsplit("/", 1)[-1]], depth)
        for key in ("oneOf", "anyOf"):
            if key in schema:
                options = [s for s in schema[key] if s.get("type") != "null"]
                return self.example(options[0], depth) if options else None
        if "allOf" in schema:
            return self.example(schema["allOf"][0], depth)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        if "default" in schema and depth > 0:
            return schema["default"]
        kind = schema.get("type", "object")
        if kind == "object":
            properties = schema.get("properties", {})
            return {name: self.example(properties.get(name, {}), depth + 1) for name in schema.get("required", [])}
        if kind == "array":
            return []
        if kind == "boolean":
            return False
        if kind in ("integer", "number"):
            return max(schema.get("minimum", 1), schema.get("exclusiveMinimum", 0) + 1)
        return _string(schema)


def _string(schema: dict[str, Any]) -> str:
    if schema.get("format") == "email":
        return f"probe-{uuid.uuid4().hex[:6]}@example.com"
    length = max(schema.get("minLength", 1), 12)
    candidates = [f"probe-{uuid.uuid4().hex[:6]}", "probe", "0.5", "1d", "a" * length]
    pattern = schema.get("pattern")
    for candidate in candidates:
        if pattern is None or re.search(pattern, candidate):
            return candidate[: schema.get("maxLength", len(candidate))]
    return candidates[0]


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if operation.get("security") == []:
                continue  # a public route: nothing of an organisation's behind it
            if not path.startswith(("/api/", "/v1/")) and path != "/metrics":
                continue
            found.append((path, method.upper(), operation))
    return found


def _body(operation: dict[str, Any], schemas: _Schemas, model: str = "iso-a") -> Any:
    if operation.get("operationId", "").startswith("chat_completions"):
        return {"model": model, "messages": [{"role": "user", "content": "hello"}]}
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return schemas.example(content["application/json"]["schema"])


def _assert_reveals_nothing(response: httpx.Response, secrets: set[str], where: str) -> None:
    assert response.status_code < 500, f"{where}: {response.status_code} {response.text[:300]}"
    text = response.text
    leaked = [secret for secret in secrets if secret and secret in text]
    assert not leaked, f"{where} answered the first organisation's {leaked}: {text[:300]}"


async def _snapshot(client: httpx.AsyncClient, ids: dict[str, str]) -> dict[str, Any]:
    reads = {
        "agent": "/api/v1/agents/iso-a",
        "config": "/api/v1/agents/iso-a/config",
        "messages": "/api/v1/agents/iso-a/chats/iso-chat-a/messages",
        "agents": "/api/v1/agents",
    }
    if "api_key_id" in ids:
        reads["keys"] = "/api/v1/api-keys"
    if "credential_id" in ids:
        reads["credential"] = f"/api/v1/credentials/{ids['credential_id']}"
    if "user_id" in ids:
        reads["members"] = f"/api/v1/orgs/{ids['org_id']}/members"
    if "authorization_id" in ids:
        reads["authorizations"] = "/api/v1/agents/iso-a/authorizations"
    if "memory" in ids:
        reads["memory"] = ids["memory"]
    if "event_id" in ids:
        reads["events"] = "/api/v1/calendar/events"
    if "channel_id" in ids:
        reads["notification_channels"] = "/api/v1/notification-channels"
    if "group_chat_id" in ids:
        reads["group_chats"] = "/api/v1/group-chats"
        reads["group_chat_messages"] = f"/api/v1/group-chats/{ids['group_chat_id']}/messages"
    if "kb_id" in ids:
        reads["knowledge_bases"] = "/api/v1/knowledge-bases"
        reads["knowledge_documents"] = f"/api/v1/knowledge-bases/{ids['kb_id']}/documents"
    if "file_id" in ids:
        reads["files"] = "/api/v1/files"
        reads["file_content"] = f"/api/v1/files/{ids['file_id']}/content"
    if "bot_id" in ids:
        reads["bot"] = f"/api/v1/bots/{ids['bot_id']}"
        reads["bot_export"] = f"/api/v1/bots/{ids['bot_id']}/export"
        reads["bot_versions"] = f"/api/v1/bots/{ids['bot_id']}/versions"
        reads["bot_steps"] = "/api/v1/steps"
        reads["bot_groups"] = "/api/v1/connection_groups"
        reads["bot_connections"] = "/api/v1/connections"
        reads["bot_requests"] = "/api/v1/requests"
        reads["templates"] = "/api/v1/templates"
        reads["bot_crons"] = f"/api/v1/bots/{ids['bot_id']}/crons"
    snapshot: dict[str, Any] = {}
    for name, path in reads.items():
        response = await client.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:200]}"
        json_body = response.headers["content-type"].startswith("application/json")
        snapshot[name] = _without_volatile(response.json()) if json_body else response.text  # a file's bytes
    return snapshot


def _without_volatile(value: Any) -> Any:
    """What a read shows, without what changes by itself (status of a running agent, times
    of last use)."""
    volatile = {"status", "last_used_at", "last_activity_at", "updated_at", "restarts", "uptime"}
    if isinstance(value, dict):
        return {k: _without_volatile(v) for k, v in value.items() if k not in volatile}
    if isinstance(value, list):
        return [_without_volatile(v) for v in value]
    return value


async def _second_organisation(app_url: str) -> dict[str, str]:
    """Register a second organisation; its owner's token and, when keys exist, a key."""
    async with httpx.AsyncClient(base_url=app_url, timeout=20) as client:
        registered = await client.post("/api/v1/auth/register", json={
            "email": f"other-{uuid.uuid4().hex[:6]}@example.com", "password": "other-password-1",
            "org_name": "Other",
        })
        assert registered.status_code == 201, registered.text
        tokens = {"owner": registered.json()["access_token"]}
        key = await client.post(
            "/api/v1/api-keys", json={"name": "other key"}, headers={"Authorization": f"Bearer {tokens['owner']}"}
        )
        if key.status_code == 201:
            tokens["key"] = key.json()["key"]
        return tokens


async def test_a_second_organisation_can_neither_see_nor_change_the_firsts(sqlite_url: str, tmp_path: Path) -> None:
    async with mail_server() as mail, client_for(sqlite_url, data_dir=tmp_path, **channel_settings(mail)) as (
        app, first
    ):
        document = (await first.get("/openapi.json")).json()
        ids = await _first_organisation(first, document)
        before = await _snapshot(first, ids)
        secrets = {SECRET_WORD, SECRET_NAME, SECRET_PROMPT, "iso-a-secret-value", "iso-chat-a", "iso-a key", "iso-a secret", SECRET_ADDRESS, *ids.values()}
        secrets.discard("default")  # the name of the default organisation says nothing
        schemas = _Schemas(document)
        operations = _operations(document)
        assert len(operations) >= 15
        for who, token in (await _second_organisation(app.url)).items():
            async with httpx.AsyncClient(
                base_url=app.url, timeout=20, headers={"Authorization": f"Bearer {token}"}
            ) as second:
                for path, method, operation in operations:
                    await _try(second, path, method, operation, ids, secrets, schemas, who)
                await _try_socket(app.ws_url, token, who)
                if "group_chat_id" in ids:
                    await _try_group_socket(app.ws_url, token, ids["group_chat_id"], who)
                if "bot_id" in ids:
                    await _try_bot_socket(app.ws_url, token, ids["bot_id"], who)
        after = await _snapshot(first, ids)
        assert after == before


async def _try(
    client: httpx.AsyncClient, path: str, method: str, operation: dict[str, Any], ids: dict[str, str],
    secrets: set[str], schemas: _Schemas, who: str,
) -> None:
    names = re.findall(r"\{([^}]+)\}", path)
    body = _body(operation, schemas)
    kwargs: dict[str, Any] = {} if body is None else {"json": body}
    where = f"{method} {path} as the second organisation's {who}"
    if all(name in SHARED_PATH_VALUES for name in names):
        response = await client.request(method, _fill(path, SHARED_PATH_VALUES), **kwargs)
        _assert_reveals_nothing(response, secrets, where)
        if path == OPENAI_CHAT:
            unknown = await client.request(method, path, json=_body(operation, schemas, model="nobody-model"))
            assert response.status_code == unknown.status_code == 404, f"{where}: {response.text[:300]}"
        return
    theirs = {name: _path_value(path, name, ids) for name in names}
    nobodys = {name: f"nobody-{uuid.uuid4().hex[:8]}" for name in names}
    url = _fill(path, theirs)
    response = await client.request(method, url, **kwargs)
    # An id it was asked about may be echoed back ("... 'key_1' not found"): that tells nothing.
    _assert_reveals_nothing(response, {secret for secret in secrets if secret not in url}, where)
    unknown = await client.request(method, _fill(path, nobodys), **kwargs)
    if path in PLATFORM_PATHS:
        return
    assert response.status_code in OK_FOR_ANY_ID, f"{where}: {response.status_code} {response.text[:300]}"
    if response.status_code != 422:  # an id of the wrong shape is refused before it is looked up
        assert response.status_code == unknown.status_code, (
            f"{where}: {response.status_code} for the first organisation's ids but {unknown.status_code} "
            f"for ids nobody has: the answer tells they exist ({response.text[:200]})"
        )


async def _try_socket(ws_url: str, token: str, who: str) -> None:
    """The WebSocket of the first organisation's agent: closed as for an agent that doesn't exist."""
    with pytest.raises(ConnectionClosed) as closed:
        async with connect(f"{ws_url}/ws/agents/iso-a?token={token}") as socket:
            await socket.send(json.dumps({"type": "message", "content": f"what is {SECRET_WORD}?"}))
            while True:
                frame = await socket.recv()
                assert SECRET_WORD not in str(frame) or "what is" in str(frame), who
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404, who


async def _try_group_socket(ws_url: str, token: str, group_chat_id: str, who: str) -> None:
    """The first organisation's group chat socket: closed as for a group chat that doesn't exist."""
    codes = []
    for target in (group_chat_id, f"grp_nobody{uuid.uuid4().hex[:8]}"):
        with pytest.raises(ConnectionClosed) as closed:
            async with connect(f"{ws_url}/ws/group-chats/{target}?token={token}") as socket:
                while True:
                    assert SECRET_WORD not in str(await socket.recv()), who
        assert closed.value.rcvd is not None, who
        codes.append(closed.value.rcvd.code)
    assert codes[0] == codes[1] and codes[0] in (4403, 4404), (who, codes)


async def _try_bot_socket(ws_url: str, token: str, bot_id: str, who: str) -> None:
    """The first organisation's bot's live events: closed as for a bot that doesn't exist."""
    codes = []
    for target in (bot_id, f"bot-nobody{uuid.uuid4().hex[:8]}"):
        with pytest.raises(ConnectionClosed) as closed:
            async with connect(f"{ws_url}/ws/bots/{target}/events?token={token}") as socket:
                while True:
                    assert SECRET_WORD not in str(await socket.recv()), who
        assert closed.value.rcvd is not None, who
        codes.append(closed.value.rcvd.code)
    assert codes == [4404, 4404], (who, codes)


async def test_every_protected_route_answers_401_without_credentials_and_with_bad_ones(sqlite_url: str) -> None:
    # Hundreds of requests without valid credentials from one address: over the anonymous
    # rate limit they would be 429 (tests/ops/test_rate_limits.py); here each must be 401.
    async with mail_server() as mail, client_for(
        sqlite_url, rate_limit_anonymous_per_minute=0, **channel_settings(mail)
    ) as (app, owner):
        document = (await owner.get("/openapi.json")).json()
        ids = await _first_organisation(owner, document)
        schemas = _Schemas(document)
        forged = app.token[:-4] + ("AAAA" if not app.token.endswith("AAAA") else "BBBB")
        for credentials in (None, "Bearer not-a-token", f"Bearer {forged}", "Basic b3duZXI6cGFzcw==", "Bearer ahk_nope"):
            headers = {} if credentials is None else {"Authorization": credentials}
            async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=headers) as client:
                for path, method, operation in _operations(document):
                    names = re.findall(r"\{([^}]+)\}", path)
                    url = _fill(path, {name: _path_value(path, name, ids) for name in names})
                    body = _body(operation, schemas)
                    response = await client.request(method, url, **({} if body is None else {"json": body}))
                    where = f"{method} {path} with {credentials or 'no credentials'}"
                    assert response.status_code == 401, f"{where}: {response.status_code} {response.text[:200]}"
                    code = "invalid_api_key" if path.startswith("/v1/") else "unauthorized"  # OpenAI's word there
                    assert response.json()["error"]["code"] == code, where
        assert (await owner.get("/api/v1/agents/iso-a")).status_code == 200
