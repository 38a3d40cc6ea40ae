"""Helpers of the group chat tests: members of the owner's organisation, and a member's
live socket on a group chat."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection

GROUPS = "/api/v1/group-chats"


async def add_member(owner: httpx.AsyncClient, base_url: str, username: str) -> tuple[httpx.AsyncClient, str]:
    """A member of the owner's organisation called ``username``, logged in: their client and id."""
    me = (await owner.get("/api/v1/auth/me")).json()
    email = f"{username.lower()}-{uuid.uuid4().hex[:6]}@example.com"
    created = await owner.post(f"/api/v1/orgs/{me['org_id']}/members", json={
        "email": email, "password": "member-password-1", "role": "member", "username": username,
    })
    assert created.status_code == 201, created.text
    async with httpx.AsyncClient(base_url=base_url, timeout=20) as anonymous:
        login = await anonymous.post("/api/v1/auth/login", json={"email": email, "password": "member-password-1"})
    token = login.json()["access_token"]
    return httpx.AsyncClient(base_url=base_url, timeout=20, headers={"Authorization": f"Bearer {token}"}), str(
        created.json()["id"]
    )


def token_of(client: httpx.AsyncClient) -> str:
    return str(client.headers["Authorization"]).removeprefix("Bearer ")


async def create_group(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post(GROUPS, json={"name": "Legal", "member_ids": [], **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def post(client: httpx.AsyncClient, group_id: str, content: str) -> dict[str, Any]:
    response = await client.post(f"{GROUPS}/{group_id}/messages", json={"content": content})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def subscribed(socket: ClientConnection) -> None:
    """Wait for the socket's first frame: it listens from now on."""
    first = json.loads(await asyncio.wait_for(socket.recv(), 20))
    assert first["type"] == "status" and first["message"] == "subscribed", first


async def next_event(socket: ClientConnection, kind: str, **fields: Any) -> dict[str, Any]:
    """The next event of ``kind`` (whose ``message`` has ``fields``), skipping others."""
    while True:
        event = json.loads(await asyncio.wait_for(socket.recv(), 30))
        message = event.get("message") or {}
        if event["type"] == kind and all(message.get(k) == v for k, v in fields.items()):
            return dict(event)
