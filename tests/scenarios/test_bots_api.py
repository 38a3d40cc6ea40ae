"""The scenario bot routes against the real app, on SQLite and PostgreSQL: a bot is an
agent of kind ``scenario``; its draft is built step by step, each edit counted; references
stay inside one bot; a step something points to can't be deleted; publishing freezes the
draft into versions; sessions, variables and the funnel can be read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from agenthub.caller import DEFAULT_ORG
from agenthub.scenarios.models import ScenarioSession, StepEvent, UserVariables
from tests.agents.helpers import assert_error, client_for
from tests.scenarios.documents import insert

BOTS = "/api/v1/bots"


async def _bot(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    created = await client.post(BOTS, json={"name": "Pizza", **body})
    assert created.status_code == 201, created.text
    return created.json()


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    created = await client.post(path, json=body)
    assert created.status_code == 201, created.text
    return created.json()


async def test_a_bot_is_an_agent_of_kind_scenario(database_url: str) -> None:
    async with client_for(database_url) as (_app, client):
        bot = await _bot(client, description="Orders", variables={"shop": "Luigi"})
        assert bot["id"].startswith("bot-") and len(bot["id"]) == 16
        assert bot["first_step_id"] is None and bot["published_version"] is None
        assert bot["variables"] == {"shop": "Luigi"} and bot["draft_revision"] == 1
        assert (await client.get(f"{BOTS}/{bot['id']}")).json() == bot
        assert (await client.get(BOTS)).json() == {"items": [bot], "total": 1}

        agents = (await client.get("/api/v1/agents")).json()["items"]
        assert [(a["id"], a["kind"], a["name"]) for a in agents] == [(bot["id"], "scenario", "Pizza")]
        patched = await client.patch(f"/api/v1/agents/{bot['id']}", json={"settings": {"access": "public"}})
        assert patched.status_code == 200, patched.text
        assert patched.json()["settings"]["access"] == "public"
        refused = await client.patch(f"/api/v1/agents/{bot['id']}", json={"settings": {"system_prompt": "Hi"}})
        assert_error(refused, 422)

        named = await _bot(client, id="pizza-bot")
        assert named["id"] == "pizza-bot"
        assert_error(await client.post(BOTS, json={"name": "Again", "id": "pizza-bot"}), 409)
        assert_error(await client.post(BOTS, json={"name": "Bad", "id": "Not An Id"}), 422)

        renamed = await client.patch(f"{BOTS}/pizza-bot", json={"name": "Pizza two", "description": "New"})
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["name"] == "Pizza two" and renamed.json()["draft_revision"] == 2
        assert (await client.get("/api/v1/agents/pizza-bot")).json()["name"] == "Pizza two"

        deleted = await client.delete(f"{BOTS}/pizza-bot")
        assert deleted.status_code == 204, deleted.text
        assert_error(await client.get(f"{BOTS}/pizza-bot"), 404)
        assert_error(await client.get("/api/v1/agents/pizza-bot"), 404)
        assert_error(await client.delete(f"{BOTS}/pizza-bot"), 404)
        assert (await client.get(BOTS)).json()["total"] == 1


async def test_a_draft_is_built_edited_and_published(database_url: str) -> None:
    async with client_for(database_url) as (_app, client):
        bot = await _bot(client)
        hello = await _post(client, "/api/v1/steps", {
            "bot_id": bot["id"], "name": "Hello", "message": {
                "text": "Hi! Pizza or pasta?", "widget": {"buttons": [{"text": "Pizza", "value": "pizza"}]},
            },
        })
        size = await _post(client, "/api/v1/steps", {"bot_id": bot["id"], "key": "size", "message": {"text": "Size?"}})
        assert hello["message"]["widget"]["buttons"] == [{"text": "Pizza", "value": "pizza"}]
        read = (await client.get(f"{BOTS}/{bot['id']}")).json()
        assert read["first_step_id"] == hello["id"]  # the first step made
        assert read["draft_revision"] == 3

        group = await _post(client, "/api/v1/connection_groups", {"step_id": hello["id"], "search_type": "message"})
        assert group["bot_id"] == bot["id"]
        to_size = await _post(client, "/api/v1/connections", {
            "group_id": group["id"], "priority": 10, "next_step_id": size["id"],
            "rules": {"condition": "AND", "rules": [{"field": "message.text", "operator": "contains", "value": "pizza"}]},
        })
        handlers = await _post(client, "/api/v1/connection_groups", {"bot_id": bot["id"]})
        assert handlers["step_id"] is None
        await _post(client, "/api/v1/connections", {"group_id": handlers["id"], "next_step_id": hello["id"]})
        menu = await _post(client, "/api/v1/requests", {
            "bot_id": bot["id"], "key": "menu", "url": "https://example.com/menu",
            "headers": {"X-Key": "sesame-3141", "Authorization": "Bearer {$bot.token$}"},
        })
        assert menu["headers"] == {"X-Key": "***", "Authorization": "Bearer {$bot.token$}"}
        fetch = await _post(client, "/api/v1/connection_groups", {
            "step_id": size["id"], "search_type": "response", "request_id": menu["id"],
            "variables": {"session.price": "$.json.price"}, "order": 1,
        })

        listed = (await client.get("/api/v1/connection_groups", params={"bot_id": bot["id"]})).json()
        assert {g["id"] for g in listed["items"]} == {group["id"], handlers["id"], fetch["id"]}
        of_step = (await client.get("/api/v1/connection_groups", params={"step_id": hello["id"]})).json()
        assert [g["id"] for g in of_step["items"]] == [group["id"]]
        of_group = (await client.get("/api/v1/connections", params={"group_id": group["id"]})).json()
        assert [c["id"] for c in of_group["items"]] == [to_size["id"]]
        steps = (await client.get("/api/v1/steps", params={"bot_id": bot["id"]})).json()
        assert [s["id"] for s in steps["items"]] == [hello["id"], size["id"]]

        # A header sent back as read keeps its value.
        kept = await client.patch(f"/api/v1/requests/{menu['id']}", json={"headers": menu["headers"], "timeout": 5})
        assert kept.status_code == 200, kept.text
        exported = (await client.get(f"{BOTS}/{bot['id']}/export")).json()
        assert exported["requests"][0]["headers"] == {"X-Key": "***", "Authorization": "Bearer {$bot.token$}"}

        revision = (await client.get(f"{BOTS}/{bot['id']}")).json()["draft_revision"]
        published = await client.post(f"{BOTS}/{bot['id']}/publish")
        assert published.status_code == 200, published.text
        assert published.json()["version"] == 1
        document = published.json()["document"]
        assert document["first_step"] == "hello" and [s["key"] for s in document["steps"]] == ["hello", "size"]
        assert document["steps"][1]["connection_groups"][0]["request"] == "menu"
        read = (await client.get(f"{BOTS}/{bot['id']}")).json()
        assert read["published_version"] == 1 and read["draft_changed"] is False and read["draft_revision"] == revision

        moved = await client.patch(f"/api/v1/steps/{size['id']}", json={"message": {"text": "Which size?"}})
        assert moved.status_code == 200 and moved.json()["message"]["text"] == "Which size?"
        read = (await client.get(f"{BOTS}/{bot['id']}")).json()
        assert read["draft_changed"] is True and read["draft_revision"] == revision + 1
        assert (await client.post(f"{BOTS}/{bot['id']}/publish")).json()["version"] == 2

        versions = (await client.get(f"{BOTS}/{bot['id']}/versions")).json()
        assert [v["version"] for v in versions["items"]] == [1, 2] and versions["total"] == 2
        assert versions["items"][0]["published_by"]
        first = (await client.get(f"{BOTS}/{bot['id']}/versions/1")).json()
        assert first["document"]["steps"][1]["message"]["text"] == "Size?"
        assert (await client.get(f"{BOTS}/{bot['id']}/versions/2")).json()["document"]["steps"][1]["message"] == {
            "text": "Which size?"
        }
        assert_error(await client.get(f"{BOTS}/{bot['id']}/versions/3"), 404)
        assert_error(await client.get(f"{BOTS}/{bot['id']}/versions/two"), 404)


async def test_references_stay_inside_one_bot_and_a_used_step_is_not_deleted(database_url: str) -> None:
    async with client_for(database_url) as (_app, client):
        bot, other = await _bot(client), await _bot(client, name="Other")
        hello = await _post(client, "/api/v1/steps", {"bot_id": bot["id"], "name": "Hello"})
        bye = await _post(client, "/api/v1/steps", {"bot_id": bot["id"], "name": "Bye"})
        elsewhere = await _post(client, "/api/v1/steps", {"bot_id": other["id"], "name": "Elsewhere"})
        their_request = await _post(client, "/api/v1/requests", {"bot_id": other["id"], "url": "https://example.com"})
        group = await _post(client, "/api/v1/connection_groups", {"step_id": hello["id"]})

        error = assert_error(await client.post("/api/v1/connections", json={
            "group_id": group["id"], "next_step_id": elsewhere["id"],
        }), 422)
        assert error["details"][0]["field"] == "next_step_id"
        error = assert_error(await client.post("/api/v1/connection_groups", json={
            "step_id": hello["id"], "search_type": "response", "request_id": their_request["id"],
        }), 422)
        assert error["details"][0]["field"] == "request_id"
        error = assert_error(await client.post("/api/v1/connection_groups", json={
            "step_id": hello["id"], "search_type": "code",
        }), 422)
        assert error["details"][0]["field"] == "code"
        assert_error(await client.post("/api/v1/connection_groups", json={"search_type": "message"}), 422)
        error = assert_error(await client.patch(f"/api/v1/connection_groups/{group['id']}", json={
            "search_type": "integration",
        }), 422)
        assert error["details"][0]["field"] == "integration"
        mailing = await client.patch(f"/api/v1/connection_groups/{group['id']}", json={
            "search_type": "integration", "integration": {"name": "email.send", "config": {"to": "a@example.com"}},
        })
        assert mailing.status_code == 200 and mailing.json()["integration"]["name"] == "email.send"
        error = assert_error(await client.patch(f"/api/v1/steps/{hello['id']}", json={
            "emitter": {"delay_seconds": 60, "next_step_id": elsewhere["id"]},
        }), 422)
        assert error["details"][0]["field"] == "emitter.next_step_id"
        error = assert_error(await client.patch(f"{BOTS}/{bot['id']}", json={"first_step_id": elsewhere["id"]}), 422)
        assert error["details"][0]["field"] == "first_step_id"
        await _post(client, "/api/v1/steps", {"bot_id": bot["id"], "key": "x"})
        assert_error(await client.post("/api/v1/steps", json={"bot_id": bot["id"], "key": "x"}), 409)

        to_bye = await _post(client, "/api/v1/connections", {"group_id": group["id"], "next_step_id": bye["id"]})
        error = assert_error(await client.patch(f"/api/v1/connections/{to_bye['id']}", json={
            "next_step_id": elsewhere["id"],
        }), 422)
        assert error["details"][0]["field"] == "next_step_id"
        patched = await client.patch(f"/api/v1/connections/{to_bye['id']}", json={"priority": 5, "filters": ["button"]})
        assert (patched.json()["priority"], patched.json()["filters"], patched.json()["next_step_id"]) == (
            5, ["button"], bye["id"],
        )
        emits = await client.patch(f"/api/v1/steps/{hello['id']}", json={
            "emitter": {"delay_seconds": 60, "next_step_id": bye["id"]},
        })
        assert emits.status_code == 200, emits.text
        error = assert_error(await client.delete(f"/api/v1/steps/{bye['id']}"), 409, "step_in_use")
        assert error["connections"] == [to_bye["id"]] and error["emitters"] == [hello["id"]]
        assert to_bye["id"] in error["message"]

        assert (await client.delete(f"/api/v1/connections/{to_bye['id']}")).status_code == 204
        assert (await client.patch(f"/api/v1/steps/{hello['id']}", json={"emitter": None})).json()["emitter"] is None
        assert (await client.delete(f"/api/v1/steps/{bye['id']}")).status_code == 204
        assert_error(await client.get(f"/api/v1/steps/{bye['id']}"), 404)

        # The first step, with a group of its own pointing at itself.
        await _post(client, "/api/v1/connections", {"group_id": group["id"], "next_step_id": hello["id"]})
        error = assert_error(await client.delete(f"/api/v1/steps/{hello['id']}"), 409, "step_in_use")
        assert error["connections"] == [] and error["first_step"] is True
        assert (await client.patch(f"{BOTS}/{bot['id']}", json={"first_step_id": None})).json()["first_step_id"] is None
        assert (await client.delete(f"/api/v1/steps/{hello['id']}")).status_code == 204
        assert_error(await client.get(f"/api/v1/connection_groups/{group['id']}"), 404)


async def test_a_draft_that_is_no_valid_document_is_not_published(database_url: str) -> None:
    async with client_for(database_url) as (_app, client):
        bot = await _bot(client)
        error = assert_error(await client.post(f"{BOTS}/{bot['id']}/publish"), 422)
        assert error["details"] == [{"field": "first_step", "problem": "the bot has no first step"}]
        assert (await client.get(f"{BOTS}/{bot['id']}")).json()["published_version"] is None
        # Export gives the draft as it is, valid or not.
        assert (await client.get(f"{BOTS}/{bot['id']}/export")).json() == {
            "format": "agenthub.bot/v1", "name": "Pizza", "description": "", "variables": {},
            "connection_groups": [], "steps": [], "requests": [], "templates": [], "crons": [],
        }

        step = await _post(client, "/api/v1/steps", {"bot_id": bot["id"], "key": "only"})
        await _post(client, "/api/v1/connection_groups", {
            "step_id": step["id"], "search_type": "llm", "llm": {"agent_id": "helper", "prompt": "Hi"},
        })
        published = await client.post(f"{BOTS}/{bot['id']}/publish")
        assert published.status_code == 200, published.text
        assert published.json()["document"]["steps"][0]["connection_groups"][0]["llm"] == {
            "agent_id": "helper", "prompt": "Hi",
        }
        assert (await client.get(f"{BOTS}/{bot['id']}/versions")).json()["total"] == 1


async def test_templates_are_validated_and_instances_keep_them(database_url: str) -> None:
    async with client_for(database_url) as (_app, client):
        body = {"name": "Greet", "key": "greet", "inputs": {"type": "object"}, "document": {
            "first_step": "ask", "steps": [
                {"key": "ask", "message": {"text": "Hi {$session.who$}"}, "connection_groups": [
                    {"connections": [{"next_step": "done"}]}]},
                {"key": "done"},
            ]}}
        broken = {**body, "document": {**body["document"], "first_step": "nowhere"}}
        error = assert_error(await client.post("/api/v1/templates", json=broken), 422)
        assert error["details"][0]["field"] == "document.first_step"
        template = await _post(client, "/api/v1/templates", body)
        assert_error(await client.post("/api/v1/templates", json=body), 409)

        bot = await _bot(client)
        instance = await _post(client, "/api/v1/steps", {
            "bot_id": bot["id"], "key": "greeting", "is_proxy": True, "template_instance": {
                "template_id": template["id"], "inputs": {"who": "{$user.first_name$}"},
                "outputs": {"greeting": "session.greeting"},
            },
        })
        assert_error(await client.post("/api/v1/steps", json={
            "bot_id": bot["id"], "template_instance": {"template_id": "tpl_nobody"},
        }), 422)
        exported = (await client.get(f"{BOTS}/{bot['id']}/export")).json()
        assert exported["templates"][0]["key"] == "greet"
        assert exported["steps"][0]["template"]["template"] == "greet"
        assert (await client.post(f"{BOTS}/{bot['id']}/publish")).status_code == 200

        error = assert_error(await client.delete(f"/api/v1/templates/{template['id']}"), 409, "template_in_use")
        assert error["steps"] == [instance["id"]]
        revision = (await client.get(f"{BOTS}/{bot['id']}")).json()["draft_revision"]
        renamed = await client.patch(f"/api/v1/templates/{template['id']}", json={"name": "Greeter"})
        assert renamed.json()["name"] == "Greeter"
        changed = (await client.get(f"{BOTS}/{bot['id']}")).json()  # the bot's draft holds the template
        assert changed["draft_revision"] == revision + 1 and changed["draft_changed"] is True
        assert (await client.get("/api/v1/templates")).json()["total"] == 1


async def test_sessions_variables_and_the_funnel_are_read(database_url: str) -> None:
    async with client_for(database_url) as (_app, client):
        bot = await _bot(client, variables={"shop": "Luigi"})
        hello = await _post(client, "/api/v1/steps", {"bot_id": bot["id"], "key": "hello"})
        size = await _post(client, "/api/v1/steps", {"bot_id": bot["id"], "key": "size"})
        now = datetime.now(UTC)
        events = [("s1", hello["id"], "moved_on", now), ("s1", size["id"], "entered", now),
                  ("s2", hello["id"], "moved_on", now), ("s2", size["id"], "entered", now),
                  ("s2", size["id"], "moved_on", now), ("s3", hello["id"], "moved_on", now - timedelta(days=3))]
        await insert(database_url, [
            ScenarioSession(id="ses-1", org_id=DEFAULT_ORG, bot_id=bot["id"], user_key="user:ann", channel="web",
                            step_id=size["id"], version=1, variables={"size": "L"}),
            UserVariables(org_id=DEFAULT_ORG, user_key="user:ann", variables={"first_name": "Ann"}),
            UserVariables(org_id=DEFAULT_ORG, user_key="user:bob", variables={"first_name": "Bob"}),
            *[StepEvent(org_id=DEFAULT_ORG, bot_id=bot["id"], step_id=step, session_id=session, kind=kind, at=at)
              for session, step, kind, at in events],
        ])

        sessions = (await client.get(f"{BOTS}/{bot['id']}/sessions")).json()
        assert sessions["total"] == 1
        assert {k: sessions["items"][0][k] for k in ("id", "user_key", "channel", "step_id", "variables")} == {
            "id": "ses-1", "user_key": "user:ann", "channel": "web", "step_id": size["id"], "variables": {"size": "L"},
        }
        variables = (await client.get(f"{BOTS}/{bot['id']}/variables")).json()
        assert variables == {"bot": {"shop": "Luigi"}, "users": [{"user_key": "user:ann", "variables": {"first_name": "Ann"}}]}

        funnel = (await client.get(f"{BOTS}/{bot['id']}/analytics")).json()
        assert funnel == {"steps": [
            {"step_id": hello["id"], "entered": 0, "moved_on": 3},
            {"step_id": size["id"], "entered": 2, "moved_on": 1},
        ]}
        since = (now - timedelta(days=1)).isoformat()
        recent = (await client.get(f"{BOTS}/{bot['id']}/analytics", params={"from": since})).json()
        assert recent["steps"][0] == {"step_id": hello["id"], "entered": 0, "moved_on": 2}
        before = (await client.get(f"{BOTS}/{bot['id']}/analytics", params={"to": since})).json()
        assert before == {"steps": [{"step_id": hello["id"], "entered": 0, "moved_on": 1}]}
        # A query parameter is named as it is sent, whichever check refuses it.
        for params in ({"from": "not a date"}, {"from": since, "to": (now - timedelta(days=2)).isoformat()}):
            refused = assert_error(await client.get(f"{BOTS}/{bot['id']}/analytics", params=params), 422)
            assert [d["field"] for d in refused["details"]] == ["from"], refused

        assert (await client.delete(f"{BOTS}/{bot['id']}/sessions/ses-1")).status_code == 204
        assert (await client.get(f"{BOTS}/{bot['id']}/sessions")).json() == {"items": [], "total": 0}
        assert_error(await client.delete(f"{BOTS}/{bot['id']}/sessions/ses-1"), 404)


async def test_another_organisations_bot_is_not_found(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, client):
        bot = await _bot(client)
        step = await _post(client, "/api/v1/steps", {"bot_id": bot["id"]})
        async with httpx.AsyncClient(base_url=app.url, timeout=20) as anonymous:
            token = (await anonymous.post("/api/v1/auth/register", json={
                "email": "other@example.com", "password": "other-password-1", "org_name": "Other",
            })).json()["access_token"]
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers={"Authorization": f"Bearer {token}"}) as other:
            assert_error(await other.get(f"{BOTS}/{bot['id']}"), 404)
            assert_error(await other.get(f"/api/v1/steps/{step['id']}"), 404)
            assert_error(await other.post("/api/v1/steps", json={"bot_id": bot["id"]}), 404)
            assert_error(await other.delete(f"{BOTS}/{bot['id']}"), 404)
            assert (await other.get("/api/v1/steps")).json() == {"items": [], "total": 0}
            assert (await other.get(BOTS)).json() == {"items": [], "total": 0}
        assert (await client.get(f"{BOTS}/{bot['id']}")).status_code == 200


async def test_an_api_key_limited_to_some_agents_reaches_only_those_bots(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, client):
        mine, other = await _bot(client, id="mine"), await _bot(client, id="other")
        step = await _post(client, "/api/v1/steps", {"bot_id": other["id"]})
        created = await client.post("/api/v1/api-keys", json={"name": "limited", "agent_ids": [mine["id"]]})
        assert created.status_code == 201, created.text
        headers = {"Authorization": f"Bearer {created.json()['key']}"}
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=headers) as limited:
            assert [b["id"] for b in (await limited.get(BOTS)).json()["items"]] == ["mine"]
            assert (await limited.get(f"{BOTS}/mine")).status_code == 200
            assert_error(await limited.get(f"{BOTS}/other"), 404)
            assert_error(await limited.get(f"/api/v1/steps/{step['id']}"), 404)
            assert (await limited.get("/api/v1/steps")).json()["total"] == 0
            assert_error(await limited.post(BOTS, json={"name": "New"}), 403)
            assert (await limited.post("/api/v1/steps", json={"bot_id": "mine"})).status_code == 201


BAD_RULES = [
    ({"condition": "AND", "rules": [{"field": "message.text", "operator": "sorta", "value": 1}]}, "operator"),
    ({"condition": "XOR", "rules": []}, "condition"),
    ({"condition": "AND", "rules": [{"operator": "equal", "value": "x"}]}, "field"),
    ({"condition": "AND", "rules": [{"field": "message.text", "operator": "between", "value": 5}]}, "value"),
]


async def test_rules_the_evaluator_cannot_take_are_refused_when_saved(sqlite_url: str) -> None:
    """A malformed rule would never hold at run time (the bot would stop moving, silently):
    an import, a new connection and a change of one are refused saying where instead."""
    async with client_for(sqlite_url) as (_app, client):
        bot = await _bot(client)
        step = await _post(client, "/api/v1/steps", {"bot_id": bot["id"], "message": {"text": "Hi"}})
        group = await _post(client, "/api/v1/connection_groups", {"step_id": step["id"]})
        good = await _post(client, "/api/v1/connections", {"group_id": group["id"], "next_step_id": step["id"]})
        for rules, word in BAD_RULES:
            document = {"format": "agenthub.bot/v1", "name": "x", "first_step": "a", "steps": [
                {"key": "a", "connection_groups": [{"connections": [{"rules": rules, "next_step": "a"}]}]}]}
            imported = assert_error(await client.post("/api/v1/bots/import", json=document), 422)
            assert imported["details"][0]["field"] == "steps.0.connection_groups.0.connections.0.rules"
            assert word in imported["message"], imported
            made = await client.post("/api/v1/connections", json={"group_id": group["id"], "rules": rules})
            assert word in assert_error(made, 422)["message"]
            changed = await client.patch(f"/api/v1/connections/{good['id']}", json={"rules": rules})
            assert word in assert_error(changed, 422)["message"]
        assert (await client.get(f"/api/v1/connections/{good['id']}")).json()["rules"] == {}


async def test_a_templates_instances_are_made_and_listed_under_it(database_url: str) -> None:
    async with client_for(database_url) as (_app, client):
        template = await _post(client, "/api/v1/templates", {"name": "Greet", "key": "greet", "document": {
            "first_step": "hi", "steps": [{"key": "hi", "message": {"text": "Hi {$session.who$}"}}]}})
        bot = await _bot(client)
        instances = f"/api/v1/templates/{template['id']}/instances"
        assert (await client.get(instances)).json() == {"items": [], "total": 0}
        made = await _post(client, instances, {
            "bot_id": bot["id"], "key": "greeting", "inputs": {"who": "{$user.first_name$}"},
            "outputs": {"greeting": "session.greeting"},
        })
        assert made["is_proxy"] is True and made["name"] == "Greet" and made["bot_id"] == bot["id"]
        assert made["template_instance"] == {"template_id": template["id"], "inputs": {"who": "{$user.first_name$}"},
                                             "outputs": {"greeting": "session.greeting"}}
        listed = (await client.get(instances)).json()
        assert [step["id"] for step in listed["items"]] == [made["id"]]
        exported = (await client.get(f"{BOTS}/{bot['id']}/export")).json()
        assert exported["first_step"] == "greeting" and exported["steps"][0]["template"]["template"] == "greet"

        assert_error(await client.post(instances, json={"bot_id": bot["id"], "key": "greeting"}), 409)
        assert_error(await client.post(instances, json={"bot_id": "nobody"}), 404)
        assert_error(await client.post("/api/v1/templates/tpl_nobody/instances", json={"bot_id": bot["id"]}), 404)
        assert_error(await client.get("/api/v1/templates/tpl_nobody/instances"), 404)
        error = assert_error(await client.post(instances, json={"bot_id": bot["id"], "inputs": []}), 422)
        assert error["details"][0]["field"] == "inputs"
