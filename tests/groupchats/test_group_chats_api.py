"""Group chats against the real app: members only, mentions that notify, AI roles whose
answers wait for a person's review, and every change live on the group's WebSocket."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosed

from tests.agents.helpers import agent_body, assert_error, client_for
from tests.groupchats.helpers import GROUPS, add_member, create_group, next_event, post, subscribed, token_of
from tests.notifications.helpers import add_channel, channel_settings
from tests.notifications.mailserver import mail_server
from tests.support.fake_openai import FakeOpenAI
from tests.support.ws import connect


async def test_a_group_chat_is_its_members_alone(database_url: str) -> None:
    async with client_for(database_url) as (app, owner):
        ann, ann_id = await add_member(owner, app.url, "ann")
        bob, _bob_id = await add_member(owner, app.url, "bob")
        me = (await owner.get("/api/v1/auth/me")).json()
        group = await create_group(owner, member_ids=[ann_id, ann_id, me["id"]])
        assert group["name"] == "Legal" and group["agent_id"] is None and group["created_by"] == me["id"]
        assert sorted(m["id"] for m in group["members"]) == sorted([me["id"], ann_id])
        assert {m["username"] for m in group["members"]} == {"owner", "ann"}

        assert (await ann.get(f"{GROUPS}/{group['id']}")).json() == group
        assert (await ann.get(GROUPS)).json() == {"items": [group], "total": 1}
        # Bob is of the organisation but not in the group: for him it does not exist.
        assert (await bob.get(GROUPS)).json() == {"items": [], "total": 0}
        for method, path, body in (
            ("GET", f"{GROUPS}/{group['id']}", None),
            ("GET", f"{GROUPS}/{group['id']}/messages", None),
            ("POST", f"{GROUPS}/{group['id']}/messages", {"content": "let me in"}),
            ("POST", f"{GROUPS}/{group['id']}/messages/gmsg_x/validate", {"action": "approve"}),
        ):
            assert_error(await bob.request(method, path, json=body), 404, "not_found")
        hello = await post(ann, group["id"], "hello")
        listed = (await owner.get(f"{GROUPS}/{group['id']}/messages")).json()
        assert listed["items"] == [hello]
        assert hello["author_type"] == "user" and hello["author"] == ann_id and hello["ai_validated"] is None
        assert hello["mentions"] == [] and hello["reply_to"] is None

        key = (await owner.post("/api/v1/api-keys", json={"name": "a program"})).json()["key"]
        program = {"Authorization": f"Bearer {key}"}
        assert_error(await owner.get(GROUPS, headers=program), 403, "forbidden")
        await ann.aclose()
        await bob.aclose()


async def test_bad_input_is_refused_with_a_clear_error(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, owner):
        stranger = (await owner.post("/api/v1/auth/register", json={
            "email": "stranger@example.com", "password": "password-123", "org_name": "Other",
        }, headers={"Authorization": ""})).json()
        stranger_id = (await owner.get("/api/v1/auth/me", headers={
            "Authorization": f"Bearer {stranger['access_token']}"})).json()["id"]
        # A user of another organisation is no user of yours; nor is an agent nobody has.
        missing = assert_error(await owner.post(GROUPS, json={"name": "x", "member_ids": [stranger_id]}), 404)
        assert stranger_id in missing["message"]
        assert_error(await owner.post(GROUPS, json={"name": "x", "agent_id": "nobody-here"}), 404, "not_found")
        for body, field in (
            ({"name": "   "}, "name"),
            ({"name": "x", "member_ids": "ann"}, "member_ids"),
            ({"name": "x", "agent_id": "Not An Id!"}, "agent_id"),
            ({"name": "x", "colour": "red"}, "colour"),
        ):
            error = assert_error(await owner.post(GROUPS, json=body), 422)
            assert any(d["field"].endswith(field) for d in error["details"]), (body, error)
        group = await create_group(owner)
        messages = f"{GROUPS}/{group['id']}/messages"
        assert_error(await owner.post(messages, json={"content": " \u200b "}), 422)
        assert_error(await owner.post(messages, json={"content": "x" * 32_001}), 422)
        assert_error(await owner.post(messages, content=b"{oops", headers={"Content-Type": "application/json"}), 400)
        assert_error(await owner.get(messages, params={"after": "gmsg_nobody"}), 404, "not_found")
        assert_error(await owner.get(messages, params={"limit": 0}), 422)
        person = await post(owner, group["id"], "a person's words")
        validate = f"{messages}/{person['id']}/validate"
        assert_error(await owner.post(validate, json={"action": "approve"}), 409, "not_an_ai_answer")
        assert_error(await owner.post(validate, json={"action": "edit"}), 422)
        assert_error(await owner.post(validate, json={"action": "approve", "content": "x"}), 422)
        assert_error(await owner.post(validate, json={"action": "bless"}), 422)
        assert (await owner.get(messages)).json()["items"] == [person]  # nothing changed


async def test_a_mention_notifies_that_member_and_nobody_else(sqlite_url: str) -> None:
    async with mail_server() as mail, client_for(sqlite_url, **channel_settings(mail)) as (app, owner):
        ann, ann_id = await add_member(owner, app.url, "ann")
        quiet, quiet_id = await add_member(owner, app.url, "quiet")  # has no notification channel
        await add_channel(ann, type="email", address="ann@example.com")
        await add_channel(owner, type="email", address="owner-inbox@example.com")
        group = await create_group(owner, name="Contracts", member_ids=[ann_id, quiet_id])

        text = ("@Ann please read this; cc @quiet, @owner and @nobody. Not ann@example.com, "
                "not `@ann`, not\n```\n@ann\n```")
        message = await post(owner, group["id"], text)
        assert message["mentions"] == [
            {"type": "user", "name": "Ann", "status": "notified", "user_id": ann_id,
             "agent_id": None, "message_id": None, "error": None},
            {"type": "user", "name": "quiet", "status": "no_channel", "user_id": quiet_id,
             "agent_id": None, "message_id": None, "error": None},
            {"type": "user", "name": "owner", "status": "self", "user_id": message["author"],
             "agent_id": None, "message_id": None, "error": None},
            {"type": "user", "name": "nobody", "status": "unknown", "user_id": None,
             "agent_id": None, "message_id": None, "error": None},
        ]
        received = await mail.next_mail()
        assert received.recipients == ["ann@example.com"]
        assert received.subject == "owner mentioned you in Contracts"
        assert text in received.body
        deliveries = (await ann.get("/api/v1/notifications/deliveries")).json()
        assert [d["source"] for d in deliveries] == [f"mention:{message['id']}"]
        # The author mentioned themselves: nothing for them; nobody else was sent anything.
        assert (await owner.get("/api/v1/notifications/deliveries")).json() == []
        assert mail.mails == [received]
        await ann.aclose()
        await quiet.aclose()


async def test_a_roles_answer_comes_live_and_waits_for_a_persons_review(database_url: str) -> None:
    async with client_for(database_url) as (app, owner):
        assert (await owner.post("/api/v1/agents", json=agent_body(id="lawyer"))).status_code == 201
        ann, ann_id = await add_member(owner, app.url, "ann")
        group = await create_group(owner, member_ids=[ann_id])
        messages = f"{GROUPS}/{group['id']}/messages"
        async with connect(f"{app.ws_url}/ws/group-chats/{group['id']}?token={token_of(ann)}") as socket:
            await subscribed(socket)
            question = await post(owner, group["id"], "@@Lawyer may we sign this?")
            assert question["mentions"] == [{
                "type": "role", "name": "lawyer", "status": "asked", "user_id": None, "agent_id": "lawyer",
                "message_id": None, "error": None,
            }]
            assert (await next_event(socket, "message", id=question["id"]))["message"] == question
            answer = (await next_event(socket, "message", author_type="role"))["message"]
            assert answer["author"] == "lawyer" and answer["ai_validated"] is False
            assert answer["reply_to"] == question["id"] and answer["validated_by"] is None
            assert "may we sign this?" in answer["content"]  # the fake model repeats the question
            updated = (await next_event(socket, "message_updated", id=question["id"]))["message"]
            assert updated["mentions"][0]["status"] == "answered"
            assert updated["mentions"][0]["message_id"] == answer["id"]
            assert (await ann.get(messages)).json()["items"] == [updated, answer]

            # Any member reviews it, once.
            approved = await ann.post(f"{messages}/{answer['id']}/validate", json={"action": "approve"})
            assert approved.status_code == 200, approved.text
            reviewed = approved.json()["message"]
            assert approved.json()["action"] == "approve"
            assert reviewed["ai_validated"] is True and reviewed["validated_by"] == ann_id
            assert reviewed["content"] == answer["content"]
            assert (await next_event(socket, "message_updated", id=answer["id"]))["message"] == reviewed
            again = await owner.post(f"{messages}/{answer['id']}/validate", json={"action": "reject"})
            assert_error(again, 409, "already_validated")

            # An edit replaces the answer's words; a rejection removes it.
            second = await post(ann, group["id"], "@@lawyer and this one?")
            edited_id = (await next_event(socket, "message", author_type="role", reply_to=second["id"]))["message"]["id"]
            edited = await owner.post(
                f"{messages}/{edited_id}/validate", json={"action": "edit", "content": "Yes, after clause 4 goes."}
            )
            assert edited.json()["message"]["content"] == "Yes, after clause 4 goes."
            assert edited.json()["message"]["ai_validated"] is True
            assert (await next_event(socket, "message_updated", id=edited_id))["message"] == edited.json()["message"]
            third = await post(ann, group["id"], "@@lawyer one more")
            rejected_id = (await next_event(socket, "message", author_type="role", reply_to=third["id"]))["message"]["id"]
            rejected = await ann.post(f"{messages}/{rejected_id}/validate", json={"action": "reject"})
            assert rejected.json() == {"action": "reject", "message": None}
            assert await next_event(socket, "message_removed") == {
                "type": "message_removed", "group_chat_id": group["id"], "message_id": rejected_id,
            }
        items = (await owner.get(messages)).json()["items"]
        assert rejected_id not in [m["id"] for m in items]
        assert [m["ai_validated"] for m in items if m["author_type"] == "role"] == [True, True]
        # Paging: the messages after one, oldest first.
        after = (await owner.get(messages, params={"after": items[0]["id"], "limit": 2})).json()["items"]
        assert after == items[1:3]
        assert_error(
            await ann.post(f"{messages}/{rejected_id}/validate", json={"action": "approve"}), 404, "not_found"
        )
        # The role was asked as a chat message: the agent's chat of the group holds the turns.
        group_chat = "group-" + group["id"].removeprefix("grp_")
        turns = (await owner.get(f"/api/v1/agents/lawyer/chats/{group_chat}/messages")).json()["items"]
        assert [t["content"] for t in turns if t["role"] == "user"] == [
            "@@Lawyer may we sign this?", "@@lawyer and this one?", "@@lawyer one more",
        ]
        await ann.aclose()


async def test_the_groups_agent_answers_a_role_no_agent_has_and_unknown_roles_get_no_answer(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, owner):
        assert (await owner.post("/api/v1/agents", json=agent_body(id="helper"))).status_code == 201
        with_agent = await create_group(owner, name="Finance", agent_id="helper")
        assert with_agent["agent_id"] == "helper"
        without = await create_group(owner, name="Chat")
        async with connect(f"{app.ws_url}/ws/group-chats/{with_agent['id']}?token={app.token}") as socket:
            await subscribed(socket)
            question = await post(owner, with_agent["id"], "@@accountant what did we spend?")
            assert [(m["name"], m["status"], m["agent_id"]) for m in question["mentions"]] == [
                ("accountant", "asked", "helper"),
            ]
            answer = (await next_event(socket, "message", author_type="role"))["message"]
            assert answer["author"] == "accountant" and answer["ai_validated"] is False
            # The group's agent was told which role it answers as.
            assert "you answer as the role “accountant”" in answer["content"]
            assert "what did we spend?" in answer["content"]

            many = await post(owner, with_agent["id"], "@@a1 @@a2 @@a3 @@a4 all of you")
            assert [m["status"] for m in many["mentions"]] == ["asked", "asked", "asked", "too_many"]
            authors = set()
            while len(authors) < 3:
                event = await next_event(socket, "message", author_type="role", reply_to=many["id"])
                authors.add(event["message"]["author"])
            assert authors == {"a1", "a2", "a3"}

        nobody = await post(owner, without["id"], "@@oracle anyone? and @@helper you")
        assert [(m["name"], m["status"], m["agent_id"]) for m in nobody["mentions"]] == [
            ("oracle", "unknown", None), ("helper", "asked", "helper"),
        ]


async def test_a_role_the_member_may_not_ask_is_refused_and_nothing_is_sent(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, owner):
        body = agent_body(id="counsel", settings={"access": "authorized"})
        assert (await owner.post("/api/v1/agents", json=body)).status_code == 201
        ann, ann_id = await add_member(owner, app.url, "ann")
        group = await create_group(owner, member_ids=[ann_id])
        message = await post(ann, group["id"], "@@counsel help")
        assert message["mentions"][0]["status"] == "refused"
        assert "not authorised" in message["mentions"][0]["error"]
        group_chat = "group-" + group["id"].removeprefix("grp_")
        assert_error(await owner.get(f"/api/v1/agents/counsel/chats/{group_chat}/messages"), 404, "not_found")
        # No agent answers: the group holds the one message.
        assert (await ann.get(f"{GROUPS}/{group['id']}/messages")).json()["items"] == [message]
        await ann.aclose()


async def test_the_socket_lets_only_members_in(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, owner):
        bob, _ = await add_member(owner, app.url, "bob")
        group = await create_group(owner)
        key = (await owner.post("/api/v1/api-keys", json={"name": "a program"})).json()["key"]
        cases = {
            f"?token={token_of(bob)}": (4404, "not_found"),
            f"?token={key}": (4403, "forbidden"),
            "": (4401, "unauthorized"),
            "?token=forged": (4401, "unauthorized"),
        }
        for query, (code, error) in cases.items():
            with pytest.raises(ConnectionClosed) as closed:
                async with connect(f"{app.ws_url}/ws/group-chats/{group['id']}{query}") as socket:
                    event = json.loads(await socket.recv())
                    assert event["type"] == "error" and event["code"] == error, event
                    await socket.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == code, query
        with pytest.raises(ConnectionClosed) as closed:
            async with connect(f"{app.ws_url}/ws/group-chats/grp_nobody?token={app.token}") as socket:
                await socket.recv()
                await socket.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404
        # A member's socket only listens: what it sends is answered, and it stays open.
        async with connect(f"{app.ws_url}/ws/group-chats/{group['id']}?token={app.token}") as socket:
            await subscribed(socket)
            await socket.send(json.dumps({"type": "message", "content": "hi"}))
            assert json.loads(await socket.recv())["code"] == "read_only"
            posted = await post(owner, group["id"], "still listening")
            assert (await next_event(socket, "message"))["message"]["id"] == posted["id"]
        await bob.aclose()


async def test_a_role_whose_model_fails_shows_why_on_the_question_and_gives_no_answer(sqlite_url: str) -> None:
    with FakeOpenAI() as model:
        for _ in range(3):  # every attempt of the client (it retries) fails
            model.add_error(500, "the model is on fire")
        async with client_for(sqlite_url) as (app, owner):
            body = agent_body(id="oracle", settings={
                "provider": "openai_compatible", "model_id": "m", "base_url": model.url,
            })
            assert (await owner.post("/api/v1/agents", json=body)).status_code == 201
            group = await create_group(owner)
            async with connect(f"{app.ws_url}/ws/group-chats/{group['id']}?token={app.token}") as socket:
                await subscribed(socket)
                question = await post(owner, group["id"], "@@oracle will it rain?")
                assert question["mentions"][0]["status"] == "asked"
                updated = (await next_event(socket, "message_updated", id=question["id"]))["message"]
            failed = updated["mentions"][0]
            assert failed["status"] == "failed" and "500" in failed["error"] and "on fire" not in failed["error"]
            items = (await owner.get(f"{GROUPS}/{group['id']}/messages")).json()["items"]
            assert items == [updated]  # no answer was stored
