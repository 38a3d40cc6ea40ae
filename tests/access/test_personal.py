"""Personal agents (seed 002): an organisation names a template agent; each member talks to an
agent of their own made from it (``/api/v1/chat/message``, ``/chat/history``,
``/agent/status``, ``/agent/reset``), which no one else may reach. Real logins against the
real app on SQLite and PostgreSQL, the offline ``fake`` model answering."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from websockets.exceptions import ConnectionClosed

from agenthub.accounts import service as accounts_service
from agenthub.accounts.models import ApiKey
from agenthub.accounts.secrets import API_KEY_PREFIX, digest, new_id, new_secret
from agenthub.agents.models import Agent
from agenthub.audit.models import AuditRecord
from agenthub.caller import DEFAULT_ORG
from agenthub.db.engine import session_scope
from tests.agents.helpers import agent_body, assert_error, client_for, wait_for
from tests.support.server import RunningApp, log_in
from tests.support.sse import parse_sse
from tests.support.ws import connect

PASSWORD = "member-password-1"


async def add_member(app: RunningApp, email: str, *, role: str = "member") -> dict[str, str]:
    """A user of the default organisation, logged in over HTTP: their headers."""
    async with session_scope(app.app.state.session_factory) as session:
        await accounts_service.create_user(session, org_id=DEFAULT_ORG, email=email, password=PASSWORD, role=role)
    return {"Authorization": f"Bearer {await log_in(app.url, email, PASSWORD)}"}


async def add_api_key(app: RunningApp) -> dict[str, str]:
    key = new_secret(API_KEY_PREFIX)
    async with session_scope(app.app.state.session_factory) as session:
        session.add(ApiKey(id=new_id("key"), org_id=DEFAULT_ORG, name="program", prefix=key[:8], key_hash=digest(key)))
    return {"Authorization": f"Bearer {key}"}


async def make_template(client: httpx.AsyncClient, **settings: Any) -> str:
    body = agent_body(name="Personal assistant", settings={"system_prompt": "You help one person.", **settings})
    created = await client.post("/api/v1/agents", json=body)
    assert created.status_code == 201, created.text
    agent_id = created.json()["id"]
    response = await client.put(f"/api/v1/orgs/{DEFAULT_ORG}/template-agent", json={"agent_id": agent_id})
    assert response.status_code == 200, response.text
    return str(agent_id)


async def say(client: httpx.AsyncClient, headers: dict[str, str], content: str, **extra: Any) -> dict[str, Any]:
    """One turn with the caller's own agent over SSE: the ``message`` event's data."""
    response = await client.post("/api/v1/chat/message", json={"content": content, **extra}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    assert events[0] == ("status", {
        "message": "received", "message_id": response.headers["x-message-id"],
        "chat_id": response.headers["x-chat-id"],
    })
    assert events[-1][0] == "done", events
    messages = [data for name, data in events if name == "message"]
    assert len(messages) == 1, events
    return messages[0]


async def history(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/chat/history", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def audit_actions(app: RunningApp, action: str) -> list[AuditRecord]:
    async with session_scope(app.app.state.session_factory) as session:
        return list(await session.scalars(select(AuditRecord).where(AuditRecord.action == action)))


async def test_owner_names_clears_and_shows_the_template_agent(database_url: str) -> None:
    async with client_for(database_url) as (app, client):
        member = await add_member(app, "mia@example.com")
        path = f"/api/v1/orgs/{DEFAULT_ORG}/template-agent"
        assert (await client.get(path)).json() == {"org_id": DEFAULT_ORG, "agent_id": None}
        template = await make_template(client)
        # Every member sees it; only an owner or admin changes it.
        shown = await client.get(path, headers=member)
        assert shown.status_code == 200 and shown.json() == {"org_id": DEFAULT_ORG, "agent_id": template}
        assert_error(await client.put(path, json={"agent_id": None}, headers=member), 403, "forbidden")

        # Not an agent of this organisation, not an agent at all, not a valid body: 422.
        assert_error(await client.put(path, json={"agent_id": "nobody-here"}), 422)
        assert_error(await client.put(path, json={"agent_id": "Not An Id!"}), 422)
        assert_error(await client.put(path, json={}), 422)
        # A member's personal agent can't be the template.
        await say(client, member, "hello")
        personal = (await client.get("/api/v1/agent/status", headers=member)).json()["agent_id"]
        error = assert_error(await client.put(path, json={"agent_id": personal}), 422)
        assert "personal agent" in error["message"]
        assert (await client.get(path)).json()["agent_id"] == template

        # Another organisation: 404 both ways, and nothing of this one shown.
        registered = await client.post("/api/v1/auth/register", json={
            "email": "other@example.net", "password": "other-password-1", "org_name": "Other",
        }, headers={})
        assert registered.status_code == 201, registered.text
        other = {"Authorization": f"Bearer {registered.json()['access_token']}"}
        got = await client.get(path, headers=other)
        assert_error(got, 404, "not_found")
        assert template not in got.text
        assert_error(await client.put(path, json={"agent_id": None}, headers=other), 404, "not_found")
        # ... nor can it name this one's agent as its own template.
        other_org = (await client.get("/api/v1/auth/me", headers=other)).json()["org_id"]
        other_path = f"/api/v1/orgs/{other_org}/template-agent"
        assert_error(await client.put(other_path, json={"agent_id": template}, headers=other), 422)
        assert (await client.get(other_path, headers=other)).json() == {"org_id": other_org, "agent_id": None}

        cleared = await client.put(path, json={"agent_id": None})
        assert cleared.status_code == 200 and cleared.json() == {"org_id": DEFAULT_ORG, "agent_id": None}
        changes = [(r.before, r.after) for r in await audit_actions(app, "organization.template_agent")]
        assert changes == [
            ({"template_agent_id": None}, {"template_agent_id": template}),
            ({"template_agent_id": template}, {"template_agent_id": None}),
        ]
        # The member keeps the agent made before; a member who had none can't get one now.
        assert (await client.get("/api/v1/agent/status", headers=member)).json()["agent_id"] == personal
        newcomer = await add_member(app, "noah@example.com")
        assert_error(await client.get("/api/v1/agent/status", headers=newcomer), 404, "no_template")


async def test_each_member_talks_to_an_agent_of_their_own(database_url: str) -> None:
    async with client_for(database_url) as (app, client):
        template = await make_template(
            client, integrations=[{"type": "webhook", "settings": {"token": "template-secret"}}]
        )
        alice = await add_member(app, "alice@example.com")
        bob = await add_member(app, "bob@example.com")

        first = await say(client, alice, "Hi, I am Alice")
        assert first["content"] == 'You said: "Hi, I am Alice". That is message 1 of this chat.'
        assert first["chat_id"] == "personal"
        second = await say(client, alice, "Remember me?")
        assert second["content"].endswith("That is message 2 of this chat.")  # the same conversation goes on
        assert (await say(client, bob, "I am Bob"))["content"].endswith("message 1 of this chat.")

        # Her history: her two questions and the two answers, in order.
        items = await wait_for(lambda: _complete(client, alice, 4), timeout=10)
        assert [(m["role"], m["content"]) for m in items] == [
            ("user", "Hi, I am Alice"), ("assistant", first["content"]),
            ("user", "Remember me?"), ("assistant", second["content"]),
        ]
        assert [m["content"] for m in await history(client, alice, after_position=items[1]["position"])] == [
            "Remember me?", second["content"],
        ]
        assert await history(client, alice, chat_id="another-chat") == []

        # Two agents, each a copy of the template made for one member, without its integrations.
        alice_status = (await client.get("/api/v1/agent/status", headers=alice)).json()
        bob_status = (await client.get("/api/v1/agent/status", headers=bob)).json()
        assert alice_status["status"] == "running"
        me = (await client.get("/api/v1/auth/me", headers=alice)).json()
        assert alice_status["agent_id"] == "p-" + me["id"].split("_")[-1]
        assert bob_status["agent_id"] != alice_status["agent_id"]
        listed = {a["id"]: a for a in (await client.get("/api/v1/agents")).json()["items"]}
        mine = listed[alice_status["agent_id"]]
        assert mine["name"] == "alice's agent" and mine["owner_user_id"] == me["id"]
        assert mine["settings"]["system_prompt"] == "You help one person."
        assert mine["settings"]["integrations"] == []
        assert "owner_user_id" not in listed[template]  # shown on personal agents only
        assert "template-secret" not in json.dumps(listed)
        made = [r for r in await audit_actions(app, "agent.create") if r.resource_id != template]
        assert {r.resource_id for r in made} == {alice_status["agent_id"], bob_status["agent_id"]}
        assert all(r.after and r.after["template_agent_id"] == template for r in made)

        # No one else reaches her agent: not Bob, not the owner, not a program, over SSE or WS.
        url = f"/api/v1/agents/{alice_status['agent_id']}/chat"
        for headers in (bob, app.headers):
            error = assert_error(await client.post(url, json={"content": "peek"}, headers=headers), 403, "forbidden")
            assert "personal agent" in error["message"]
        assert_error(await client.post(url, json={"content": "peek"}, headers=await add_api_key(app)), 403)
        bob_token = bob["Authorization"].removeprefix("Bearer ")
        async with connect(f"{app.ws_url}/ws/agents/{alice_status['agent_id']}?token={bob_token}") as socket:
            event = json.loads(await socket.recv())
            assert event["type"] == "error" and event["code"] == "forbidden"
            with pytest.raises(ConnectionClosed) as closed:
                await socket.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
        # She reaches it on the WebSocket too, and it is the same conversation.
        alice_token = alice["Authorization"].removeprefix("Bearer ")
        async with connect(f"{app.ws_url}/ws/agents/{alice_status['agent_id']}?token={alice_token}") as socket:
            await socket.send(json.dumps({"type": "message", "content": "Still me", "chat_id": "personal"}))
            while (event := json.loads(await socket.recv()))["type"] != "message":
                assert event["type"] in ("status", "chunk"), event
        assert event["content"].endswith("That is message 3 of this chat.")
        # Nothing any of this sent reached her history, which no one else reads either.
        assert all(m["content"] != "peek" for m in await history(client, alice))
        chat_url = f"/api/v1/agents/{alice_status['agent_id']}/chats/personal/messages"
        assert_error(await client.get(chat_url, headers=bob), 403, "forbidden")
        assert len((await client.get(chat_url, headers=alice)).json()["items"]) >= 4


async def _complete(client: httpx.AsyncClient, headers: dict[str, str], count: int) -> list[dict[str, Any]] | None:
    """The caller's history once it holds ``count`` messages (answers are stored a moment
    after they are delivered)."""
    items = await history(client, headers)
    return items if len(items) >= count else None


async def test_reset_forgets_the_conversation(database_url: str) -> None:
    async with client_for(database_url) as (app, client):
        await _reset_forgets(app, client)


async def test_reset_forgets_the_conversation_on_redis(
    sqlite_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    async with client_for(sqlite_url, redis_url=redis_server_url, redis_prefix=redis_prefix) as (app, client):
        await _reset_forgets(app, client)


async def _reset_forgets(app: RunningApp, client: httpx.AsyncClient) -> None:
    await make_template(client)
    carol = await add_member(app, "carol@example.com")
    await say(client, carol, "one")
    await say(client, carol, "two")
    await say(client, carol, "elsewhere", chat_id="side-chat")
    await wait_for(lambda: _complete(client, carol, 4), timeout=10)
    await wait_for(lambda: _nonempty(client, carol, "side-chat", 2), timeout=10)

    response = await client.post("/api/v1/agent/reset", headers=carol)
    assert response.status_code == 200, response.text
    reset = response.json()
    assert reset["chats_deleted"] == 2 and reset["messages_deleted"] == 6
    assert reset["status"] == "stopped"
    assert (await client.get("/api/v1/agent/status", headers=carol)).json()["status"] == "stopped"
    assert await history(client, carol) == []
    assert await history(client, carol, chat_id="side-chat") == []
    [record] = await audit_actions(app, "agent.reset")
    assert record.resource_id == reset["agent_id"] and record.after == {"chats_deleted": 2, "messages_deleted": 6}

    # It starts again on the next message, remembering nothing.
    again = await say(client, carol, "three")
    assert again["content"] == 'You said: "three". That is message 1 of this chat.'
    assert (await client.get("/api/v1/agent/status", headers=carol)).json()["agent_id"] == reset["agent_id"]


async def _nonempty(client: httpx.AsyncClient, headers: dict[str, str], chat_id: str, count: int) -> bool:
    return len(await history(client, headers, chat_id=chat_id)) >= count


async def test_concurrent_first_uses_make_one_agent(database_url: str) -> None:
    async with client_for(database_url) as (app, client):
        await make_template(client)
        dan = await add_member(app, "dan@example.com")
        answers = await asyncio.gather(*(client.get("/api/v1/agent/status", headers=dan) for _ in range(8)))
        assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
        assert len({a.json()["agent_id"] for a in answers}) == 1
        async with session_scope(app.app.state.session_factory) as session:
            owned = await session.scalar(select(func.count()).select_from(Agent).where(Agent.owner_user_id.is_not(None)))
        assert owned == 1
        assert len([r for r in await audit_actions(app, "agent.create") if r.after and r.after.get("template_agent_id")]) == 1


@pytest.mark.parametrize(("method", "path"), [
    ("post", "/api/v1/chat/message"), ("get", "/api/v1/chat/history"),
    ("get", "/api/v1/agent/status"), ("post", "/api/v1/agent/reset"),
])
async def test_who_may_use_the_personal_routes(sqlite_url: str, method: str, path: str) -> None:
    body = {"json": {"content": "hello"}} if path.endswith("message") else {}
    async with client_for(sqlite_url) as (app, client):
        erin = await add_member(app, "erin@example.com")
        # Without a template there is nothing to talk to: a clear 404.
        error = assert_error(await client.request(method, path, headers=erin, **body), 404, "no_template")
        assert "template" in error["message"]
        await make_template(client)
        # Anonymous: 401; a program's API key: 403 (a personal agent belongs to a user).
        assert_error(await client.request(method, path, headers={"Authorization": ""}, **body), 401)
        key = await add_api_key(app)
        assert_error(await client.request(method, path, headers=key, **body), 403, "forbidden")
        async with session_scope(app.app.state.session_factory) as session:
            assert await session.scalar(select(func.count()).select_from(Agent).where(Agent.owner_user_id.is_not(None))) == 0
        assert (await client.request(method, path, headers=erin, **body)).status_code == 200


async def test_a_deleted_template_or_personal_agent(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, client):
        template = await make_template(client)
        fay = await add_member(app, "fay@example.com")
        first = (await client.get("/api/v1/agent/status", headers=fay)).json()["agent_id"]
        # An admin deletes her agent: her next use makes a new one (the old id stays retained).
        assert (await client.delete(f"/api/v1/agents/{first}")).status_code == 204
        second = (await client.get("/api/v1/agent/status", headers=fay)).json()["agent_id"]
        assert second == f"{first}-2"
        assert (await say(client, fay, "new start"))["content"].endswith("message 1 of this chat.")
        # The template is deleted: no one else gets an agent, and is told why.
        assert (await client.delete(f"/api/v1/agents/{template}")).status_code == 204
        gus = await add_member(app, "gus@example.com")
        error = assert_error(await client.post("/api/v1/agent/reset", headers=gus), 404, "no_template")
        assert "deleted" in error["message"]
