"""Notification channels: a user's own, validated, listed in the order notifications try them
(on a server that sends e-mail: one that does not takes no e-mail channel, see
test_without_smtp.py)."""

from __future__ import annotations

import httpx

from tests.agents.helpers import assert_error
from tests.notifications.helpers import mailing_app
from tests.support.accounts import api_key, bearer, second_org, user_token


async def test_a_user_adds_lists_changes_and_deletes_channels(sqlite_url: str) -> None:
    async with mailing_app(sqlite_url) as (_app, client):
        email = await client.post(
            "/api/v1/notification-channels", json={"type": "email", "address": "Ann@Example.COM", "priority": 20}
        )
        assert email.status_code == 201, email.text
        assert email.json()["address"] == "Ann@example.com"
        assert email.json()["chat_id"] is None
        telegram = await client.post(
            "/api/v1/notification-channels", json={"type": "telegram", "chat_id": 4242, "priority": 10}
        )
        assert telegram.status_code == 201, telegram.text
        assert telegram.json()["chat_id"] == "4242"

        listed = (await client.get("/api/v1/notification-channels")).json()
        assert [c["type"] for c in listed] == ["telegram", "email"]

        channel = email.json()["id"]
        changed = await client.patch(f"/api/v1/notification-channels/{channel}", json={"priority": 1})
        assert changed.status_code == 200, changed.text
        listed = (await client.get("/api/v1/notification-channels")).json()
        assert [c["type"] for c in listed] == ["email", "telegram"]
        moved = await client.patch(f"/api/v1/notification-channels/{channel}", json={"address": "ann@work.example"})
        assert moved.json()["address"] == "ann@work.example"

        assert (await client.delete(f"/api/v1/notification-channels/{channel}")).status_code == 204
        assert_error(await client.delete(f"/api/v1/notification-channels/{channel}"), 404, "not_found")
        assert [c["type"] for c in (await client.get("/api/v1/notification-channels")).json()] == ["telegram"]


async def test_channels_are_validated(sqlite_url: str) -> None:
    async with mailing_app(sqlite_url) as (_app, client):
        post = "/api/v1/notification-channels"
        error = assert_error(await client.post(post, json={"type": "email", "address": "not an address"}), 422)
        assert error["details"][0]["field"] == "email.address", error  # the union's tag first, as for agents
        assert_error(await client.post(post, json={"type": "email"}), 422)
        assert_error(await client.post(post, json={"type": "telegram"}), 422)
        # A type that is none of them, or none at all, is said at `type`, not at the whole body.
        for body in ({"type": "sms", "address": "ann@example.com"}, {"address": "ann@example.com"}):
            tagless = assert_error(await client.post(post, json=body), 422)
            assert [d["field"] for d in tagless["details"]] == ["type"], tagless
        chat = assert_error(await client.post(post, json={"type": "telegram", "chat_id": "hello there"}), 422)
        assert chat["details"] == [{"field": "telegram.chat_id",
                                    "problem": "must be a Telegram chat id (a number) or a channel's @username"}], chat
        whole = await client.post(post, json={"type": "telegram", "chat_id": 38772991.0})
        assert whole.status_code == 201 and whole.json()["chat_id"] == "38772991", whole.text
        huge = assert_error(await client.post(post, json={"type": "telegram", "chat_id": 10**19}), 422)
        assert huge["details"][0]["field"] == "telegram.chat_id", huge
        assert_error(await client.post(post, json={"type": "telegram", "chat_id": 1, "address": "a@example.com"}), 422)
        assert_error(await client.post(post, json={"type": "sms", "address": "+100"}), 422)
        assert_error(await client.post(post, json={"type": "email", "address": "a@example.com", "priority": -1}), 422)

        email = (await client.post(post, json={"type": "email", "address": "a@example.com"})).json()
        assert email["priority"] == 100
        assert_error(await client.post(post, json={"type": "email", "address": "A@example.com"}), 409, "conflict")
        telegram = (await client.post(post, json={"type": "telegram", "chat_id": "@news_channel"})).json()
        assert_error(
            await client.patch(f"{post}/{telegram['id']}", json={"address": "b@example.com"}), 422, "invalid_input"
        )
        assert_error(await client.patch(f"{post}/{email['id']}", json={"chat_id": "12"}), 422, "invalid_input")
        assert_error(await client.patch(f"{post}/{email['id']}", json={"type": "telegram"}), 422)


async def test_channels_are_their_users_own(sqlite_url: str) -> None:
    async with mailing_app(sqlite_url) as (app, owner):
        mine = (await owner.post(
            "/api/v1/notification-channels", json={"type": "email", "address": "owner@example.com"}
        )).json()
        member = await user_token(app, "member@example.com")
        admin = await user_token(app, "admin@example.com", role="admin")
        other = await second_org(app)
        for token in (member, admin, other):
            async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=bearer(token)) as client:
                assert (await client.get("/api/v1/notification-channels")).json() == []
                path = f"/api/v1/notification-channels/{mine['id']}"
                assert_error(await client.patch(path, json={"priority": 1}), 404, "not_found")
                assert_error(await client.delete(path), 404, "not_found")
                assert (await client.get("/api/v1/notifications/deliveries")).json() == []
        key = await api_key(app)
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=bearer(key)) as client:
            assert_error(await client.get("/api/v1/notification-channels"), 403, "forbidden")
            assert_error(await client.post("/api/v1/notifications", json={"body": "hi"}), 403, "forbidden")
        assert (await owner.get("/api/v1/notification-channels")).json() == [mine]


async def test_notifying_oneself_needs_a_channel_and_names_only_ones_own(sqlite_url: str) -> None:
    async with mailing_app(sqlite_url) as (_app, client):
        assert_error(await client.post("/api/v1/notifications", json={"body": "hello"}), 409, "no_channel")
        await client.post("/api/v1/notification-channels", json={"type": "email", "address": "a@example.com"})
        assert_error(
            await client.post("/api/v1/notifications", json={"body": "hello", "channels": ["telegram"]}),
            404, "not_found",
        )
        assert_error(await client.post("/api/v1/notifications", json={"body": "   "}), 422)
