"""Group chats with two gateways on one PostgreSQL and one Redis: a member's socket on one
gateway sees what is posted on the other, and two reviews of one answer at once are one
review."""

from __future__ import annotations

import asyncio

import httpx

from tests.agents.helpers import agent_body, assert_error, migrated
from tests.groupchats.helpers import GROUPS, add_member, create_group, next_event, post, subscribed, token_of
from tests.support.server import make_settings, running_app
from tests.support.ws import connect


async def test_live_events_cross_gateways_and_a_review_happens_once(
    postgres_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    await migrated(postgres_url)
    settings = make_settings(database_url=postgres_url, redis_url=redis_server_url, redis_prefix=redis_prefix)
    async with running_app(settings) as a, running_app(settings) as b, \
            httpx.AsyncClient(base_url=a.url, timeout=30, headers=a.headers) as owner:
        assert (await owner.post("/api/v1/agents", json=agent_body(id="lawyer"))).status_code == 201
        ann_on_a, ann_id = await add_member(owner, a.url, "ann")
        ann_on_b = httpx.AsyncClient(base_url=b.url, timeout=30, headers=dict(ann_on_a.headers))
        group = await create_group(owner, member_ids=[ann_id])
        async with connect(f"{b.ws_url}/ws/group-chats/{group['id']}?token={token_of(ann_on_a)}") as socket:
            await subscribed(socket)
            question = await post(owner, group["id"], "@@lawyer is clause 4 fine?")  # posted on A
            assert (await next_event(socket, "message", id=question["id"]))["message"] == question
            answer = (await next_event(socket, "message", author_type="role"))["message"]
            assert answer["reply_to"] == question["id"] and answer["ai_validated"] is False

            path = f"{GROUPS}/{group['id']}/messages/{answer['id']}/validate"
            first, second = await asyncio.gather(
                owner.post(path, json={"action": "approve"}),
                ann_on_b.post(path, json={"action": "edit", "content": "Fine."}),
            )
            statuses = sorted([first.status_code, second.status_code])
            assert statuses == [200, 409], (first.text, second.text)
            loser = first if first.status_code == 409 else second
            assert_error(loser, 409, "already_validated")
            winner = (first if first.status_code == 200 else second).json()["message"]
            assert (await next_event(socket, "message_updated", id=answer["id"]))["message"] == winner
        items = (await ann_on_b.get(f"{GROUPS}/{group['id']}/messages")).json()["items"]
        assert [m["id"] for m in items] == [question["id"], answer["id"]]
        assert items[1] == winner
        await ann_on_a.aclose()
        await ann_on_b.aclose()
