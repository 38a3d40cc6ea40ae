"""GET /api/v1/user/export: a user downloads their own data: the account (no password hash)
and the chats they had over the web, with the answers; nobody else's."""

from __future__ import annotations

from typing import Any

import httpx

from tests.agents.helpers import agent_body, assert_error, chat, client_for, wait_for
from tests.support.accounts import api_key, bearer, second_org, user_id, user_token


async def _export(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    response = await client.get("/api/v1/user/export", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'attachment; filename="agenthub-export.json"'
    return dict(response.json())


async def _answered_export(client: httpx.AsyncClient, token: str, messages: int) -> dict[str, Any]:
    """The export once every answer is stored (answers reach the history a moment later)."""
    async def complete() -> dict[str, Any] | None:
        export = await _export(client, token)
        return export if sum(len(c["messages"]) for c in export["chats"]) >= messages else None

    export = await wait_for(complete, timeout=20)
    assert export, "the answers were not stored in time"
    return export


async def test_a_user_exports_their_account_and_their_own_chats(database_url: str) -> None:
    async with client_for(database_url) as (app, client):
        owner = await user_id(app, app.token)
        member_token = await user_token(app, "member@example.com")
        member = await user_id(app, member_token)
        assert (await client.post("/api/v1/agents", json=agent_body(id="helper"))).status_code == 201

        # platform_user_id: who the gateway says each message is from (the caller).
        await chat(client, "helper", "hello", chat_id="c-owner", platform_user_id=owner)
        await chat(client, "helper", "again", chat_id="c-owner", platform_user_id=owner)
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=bearer(member_token)) as as_member:
            await chat(as_member, "helper", "member here", chat_id="c-member", platform_user_id=member)

        other = await second_org(app)
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=bearer(other)) as as_other:
            assert (await as_other.post("/api/v1/agents", json=agent_body(id="theirs"))).status_code == 201
            await chat(as_other, "theirs", "other org", chat_id="c-other")

        export = await _answered_export(client, app.token, 4)
        assert export["account"] == {
            "id": owner, "email": "owner@example.com", "username": "owner", "org_id": "default",
            "role": "owner", "created_at": export["account"]["created_at"],
        }
        [owner_chat] = export["chats"]
        assert (owner_chat["agent_id"], owner_chat["chat_id"]) == ("helper", "c-owner")
        assert [(m["role"], m["content"]) for m in owner_chat["messages"]] == [
            ("user", "hello"),
            ("assistant", 'You said: "hello". That is message 1 of this chat.'),
            ("user", "again"),
            ("assistant", 'You said: "again". That is message 2 of this chat.'),
        ]
        assert owner_chat["messages"][1]["reply_to"] == owner_chat["messages"][0]["message_id"]

        member_export = await _answered_export(client, member_token, 2)
        assert member_export["account"]["role"] == "member"
        assert [c["chat_id"] for c in member_export["chats"]] == ["c-member"]
        assert [m["content"] for m in member_export["chats"][0]["messages"]][0] == "member here"

        # Another organisation's user gets nothing of this one's chats.
        other_export = await _export(client, other)
        for chat_export in other_export["chats"]:
            assert chat_export["agent_id"] == "theirs"

        response = await client.get("/api/v1/user/export")
        for secret in ("hash", "argon2", "password", "token"):
            assert secret not in response.text.lower()


async def test_only_a_logged_in_user_has_an_export(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, client):
        key = await api_key(app)
        assert_error(await client.get("/api/v1/user/export", headers=bearer(key)), 403, "forbidden")
        async with httpx.AsyncClient(base_url=app.url, timeout=20) as anonymous:
            assert_error(await anonymous.get("/api/v1/user/export"), 401)
        export = await _export(client, app.token)
        assert export["chats"] == []
