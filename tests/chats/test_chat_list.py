"""An agent's chat list (``GET /api/v1/agents/{id}/chats``), as the console's chat area reads
it: the most recently active first, titled by their first message, paged, on SQLite and
PostgreSQL."""

from __future__ import annotations

import httpx
import pytest

from tests.access.test_personal import add_api_key, add_member
from tests.agents.helpers import agent_body, assert_error, chat, client_for


@pytest.fixture
async def api(database_url: str):  # type: ignore[no-untyped-def]
    async with client_for(database_url) as (_, client):
        for agent_id in ("talker", "quiet"):
            created = await client.post("/api/v1/agents", json=agent_body(id=agent_id))
            assert created.status_code == 201, created.text
        yield client


async def test_chats_newest_first_with_their_first_message_as_title(api: httpx.AsyncClient) -> None:
    await chat(api, "talker", "Plan a trip to Lisbon", chat_id="trip")
    await chat(api, "talker", "x" * 300, chat_id="long")
    await chat(api, "talker", "and for four days", chat_id="trip")  # trip is now the most recent

    listed = (await api.get("/api/v1/agents/talker/chats")).json()
    assert listed["total"] == 2
    assert [(c["chat_id"], c["title"], c["turns"]) for c in listed["items"]] == [
        ("trip", "Plan a trip to Lisbon", 2),
        ("long", "x" * 120, 1),
    ]
    trip = listed["items"][0]
    assert trip["created_at"] <= trip["last_message_at"]
    assert trip["last_message_at"].endswith(("Z", "+00:00"))

    # Another agent's list is its own.
    assert (await api.get("/api/v1/agents/quiet/chats")).json() == {"items": [], "total": 0}


async def test_paging_and_bad_parameters(api: httpx.AsyncClient) -> None:
    for n in range(3):
        await chat(api, "talker", f"chat number {n}", chat_id=f"c{n}")
    first = (await api.get("/api/v1/agents/talker/chats", params={"limit": 2})).json()
    rest = (await api.get("/api/v1/agents/talker/chats", params={"limit": 2, "offset": 2})).json()
    assert first["total"] == rest["total"] == 3
    assert [c["chat_id"] for c in first["items"] + rest["items"]] == ["c2", "c1", "c0"]

    for params in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"limit": "all"}, {"offset": 2**31}):
        error = assert_error(await api.get("/api/v1/agents/talker/chats", params=params), 422, "invalid_input")
        assert next(iter(params)) in error["message"]
    assert_error(await api.get("/api/v1/agents/ghost/chats"), 404, "not_found")


async def test_another_organisation_sees_no_chat(api: httpx.AsyncClient) -> None:
    await chat(api, "talker", "ours", chat_id="ours")
    registered = await api.post(
        "/api/v1/auth/register", json={"email": "other@example.com", "password": "a-good-password-1"},
        headers={"Authorization": ""},
    )
    assert registered.status_code == 201, registered.text
    other = {"Authorization": f"Bearer {registered.json()['access_token']}"}
    assert_error(await api.get("/api/v1/agents/talker/chats", headers=other), 404, "not_found")
    assert_error(await api.get("/api/v1/agents/talker/chats", headers={"Authorization": ""}), 401)


async def test_each_caller_lists_their_own_chats_and_owners_and_admins_everyones(database_url: str) -> None:
    async with client_for(database_url) as (app, owner):
        created = await owner.post("/api/v1/agents", json=agent_body(id="shared"))
        assert created.status_code == 201, created.text
        member_headers = await add_member(app, "member@example.com")
        admin_headers = await add_member(app, "admin@example.com", role="admin")
        key_headers = await add_api_key(app)
        async with (
            httpx.AsyncClient(base_url=app.url, timeout=20, headers=member_headers) as member,
            httpx.AsyncClient(base_url=app.url, timeout=20, headers=key_headers) as program,
        ):
            await chat(owner, "shared", "the owner's question", chat_id="owners")
            await chat(member, "shared", "the member's question", chat_id="members")
            await chat(program, "shared", "the program's question", chat_id="programs")

            async def listed(client: httpx.AsyncClient, **params: str) -> list[str]:
                response = await client.get("/api/v1/agents/shared/chats", params=params)
                assert response.status_code == 200, response.text
                body = response.json()
                assert body["total"] == len(body["items"])
                return sorted(c["chat_id"] for c in body["items"])

            assert await listed(owner) == ["owners"]
            assert await listed(member) == ["members"]
            assert await listed(program) == ["programs"]
            everyone = ["members", "owners", "programs"]
            assert await listed(owner, user="all") == everyone
            admin = {"Authorization": admin_headers["Authorization"]}
            response = await owner.get("/api/v1/agents/shared/chats", params={"user": "all"}, headers=admin)
            assert sorted(c["chat_id"] for c in response.json()["items"]) == everyone
            assert_error(await member.get("/api/v1/agents/shared/chats", params={"user": "all"}), 403, "forbidden")
            assert_error(await program.get("/api/v1/agents/shared/chats", params={"user": "all"}), 403, "forbidden")
            error = assert_error(await owner.get("/api/v1/agents/shared/chats", params={"user": "me"}), 422)
            assert "user" in error["message"]

            # A chat read by its id stays open to the organisation's members who reach the agent.
            history = await member.get("/api/v1/agents/shared/chats/owners/messages")
            assert history.status_code == 200, history.text
            assert history.json()["items"][0]["content"] == "the owner's question"
