"""Managing a group chat: renaming it, adding and removing members, leaving it, deleting it;
who may do which; live sockets told of every change and closed for whoever is no longer in."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.exceptions import ConnectionClosed

from tests.agents.helpers import agent_body, assert_error, client_for
from tests.groupchats.helpers import GROUPS, add_member, create_group, post, subscribed, token_of
from tests.support.ws import connect


async def _closed_with(socket, code: int, *kinds: str) -> list[dict]:  # type: ignore[no-untyped-def]
    """The events the socket gets until it closes (with ``code``), checking their types."""
    seen = []
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            seen.append(json.loads(await asyncio.wait_for(socket.recv(), 20)))
    assert closed.value.rcvd is not None and closed.value.rcvd.code == code
    assert [event["type"] for event in seen] == list(kinds)
    return seen


async def test_members_rename_add_and_leave_and_the_sockets_follow(database_url: str) -> None:
    async with client_for(database_url) as (app, owner):
        ann, ann_id = await add_member(owner, app.url, "ann")
        bob, bob_id = await add_member(owner, app.url, "bob")
        group = await create_group(owner, member_ids=[ann_id])
        path = f"{GROUPS}/{group['id']}"

        async with connect(f"{app.ws_url}/ws/group-chats/{group['id']}?token={token_of(ann)}") as ann_socket, \
                connect(f"{app.ws_url}/ws/group-chats/{group['id']}?token={app.token}") as owner_socket:
            await subscribed(ann_socket)
            await subscribed(owner_socket)
            # Any member renames it and adds people; twice the same member is one.
            renamed = await ann.patch(path, json={"name": "Legal team"})
            assert renamed.status_code == 200 and renamed.json()["name"] == "Legal team"
            added = await ann.post(f"{path}/members", json={"user_ids": [bob_id, bob_id]})
            assert added.status_code == 200, added.text
            assert {m["username"] for m in added.json()["members"]} == {"owner", "ann", "bob"}
            assert (await bob.get(path)).json()["name"] == "Legal team"
            for socket in (ann_socket, owner_socket):
                first = json.loads(await asyncio.wait_for(socket.recv(), 20))
                second = json.loads(await asyncio.wait_for(socket.recv(), 20))
                assert (first["type"], first["group_chat"]["name"]) == ("group_chat_updated", "Legal team")
                assert second["type"] == "group_chat_updated" and len(second["group_chat"]["members"]) == 3

            # A member may not remove another; they may leave, and their socket closes.
            assert_error(await ann.delete(f"{path}/members/{bob_id}"), 403, "forbidden")
            assert (await ann.delete(f"{path}/members/{ann_id}")).status_code == 204
            await _closed_with(ann_socket, 4404, "member_removed")
            update = json.loads(await asyncio.wait_for(owner_socket.recv(), 20))
            assert update == {"type": "member_removed", "group_chat_id": group["id"], "user_id": ann_id}
            assert json.loads(await asyncio.wait_for(owner_socket.recv(), 20))["type"] == "group_chat_updated"
        assert_error(await ann.get(path), 404, "not_found")
        assert_error(await ann.post(f"{path}/messages", json={"content": "still here?"}), 404, "not_found")
        # The creator removes a member; the member is gone from the chat.
        assert (await owner.delete(f"{path}/members/{bob_id}")).status_code == 204
        assert_error(await owner.delete(f"{path}/members/{bob_id}"), 404, "not_found")
        assert [m["username"] for m in (await owner.get(path)).json()["members"]] == ["owner"]
        for client in (ann, bob):
            await client.aclose()


async def test_the_creator_or_an_admin_deletes_it_and_every_socket_closes(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, owner):
        ann, ann_id = await add_member(owner, app.url, "ann")
        group = await create_group(ann, member_ids=[])  # Ann's; the owner is no member
        path = f"{GROUPS}/{group['id']}"
        await post(ann, group["id"], "a message that goes with the chat")
        assert_error(await owner.delete(path), 404, "not_found")  # not a member: it does not exist for them
        assert (await ann.post(f"{path}/members", json={"user_ids": [(await owner.get('/api/v1/auth/me')).json()['id']]})).status_code == 200
        async with connect(f"{app.ws_url}/ws/group-chats/{group['id']}?token={token_of(ann)}") as socket:
            await subscribed(socket)
            assert (await owner.delete(path)).status_code == 204  # the organisation's owner may
            await _closed_with(socket, 4404, "group_chat_deleted")
        assert_error(await ann.get(path), 404, "not_found")
        assert (await ann.get(GROUPS)).json() == {"items": [], "total": 0}
        await ann.aclose()


async def test_the_last_member_leaving_deletes_it_and_a_plain_member_may_not(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, owner):
        ann, ann_id = await add_member(owner, app.url, "ann")
        me = (await owner.get("/api/v1/auth/me")).json()["id"]
        group = await create_group(owner, member_ids=[ann_id])
        path = f"{GROUPS}/{group['id']}"
        assert_error(await ann.delete(path), 403, "forbidden")
        assert (await owner.delete(f"{path}/members/{me}")).status_code == 204
        assert (await ann.get(path)).status_code == 200  # Ann is still in it
        assert (await ann.delete(f"{path}/members/{ann_id}")).status_code == 204
        assert_error(await ann.get(path), 404, "not_found")
        await ann.aclose()


async def test_bad_changes_are_refused_and_the_agent_can_be_set_and_removed(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, owner):
        assert (await owner.post("/api/v1/agents", json=agent_body(id="counsel"))).status_code == 201
        group = await create_group(owner)
        path = f"{GROUPS}/{group['id']}"
        assert_error(await owner.patch(path, json={"name": ""}), 422, "invalid_input")
        assert_error(await owner.patch(path, json={"colour": "red"}), 422, "invalid_input")
        assert_error(await owner.patch(path, json={"agent_id": "nobody-here"}), 404, "not_found")
        assert_error(await owner.post(f"{path}/members", json={"user_ids": []}), 422, "invalid_input")
        assert_error(await owner.post(f"{path}/members", json={"user_ids": ["usr_none"]}), 404, "not_found")
        assert (await owner.patch(path, json={"agent_id": "counsel"})).json()["agent_id"] == "counsel"
        assert (await owner.patch(path, json={"name": "Renamed"})).json()["agent_id"] == "counsel"
        assert (await owner.patch(path, json={"agent_id": None})).json()["agent_id"] is None
