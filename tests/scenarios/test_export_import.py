"""One document per bot: an import makes a new bot (new ids, keys kept) published at once,
and exporting it gives back an equal document; an invalid document is a 422 saying where
and makes nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx

from agenthub.db.engine import create_engine, create_session_factory, session_scope
from agenthub.scenarios import export
from agenthub.scenarios.document import dump, parse
from tests.agents.helpers import assert_error, client_for
from tests.scenarios.documents import PIZZA, pizza

BOTS = "/api/v1/bots"

FULL: dict[str, Any] = pizza(
    description="Orders pizza",
    steps=[
        *pizza()["steps"],
        {"key": "price", "name": "Price", "is_proxy": True, "position": {"x": 10, "y": 20},
         "emitter": {"delay_seconds": 60, "next_step": "size"},
         "connection_groups": [
             {"search_type": "response", "request": "menu", "variables": {"session.price": "$.json.price"},
              "connections": [{"rules": {}, "filters": ["text", "button"], "priority": -1, "next_step": "size"}]},
             {"search_type": "code", "code": "async def main(message, variables):\n    return {}"},
             {"search_type": "llm", "llm": {"agent_id": "helper", "prompt": "Price of {$session.size$}?"}},
             {"search_type": "integration", "integration": {"name": "email.send", "config": {"to": "a@example.com"}}},
         ]},
        {"key": "greeting", "is_proxy": True, "template": {
            "template": "greet", "inputs": {"who": "{$user.first_name$}"}, "outputs": {"greeting": "session.greeting"}}},
    ],
    templates=[{"key": "greet", "name": "Greet", "inputs": {"type": "object"}, "first_step": "ask", "steps": [
        {"key": "ask", "message": {"text": "Hi {$session.who$}"}, "connection_groups": [
            {"connections": [{"next_step": "done"}]}]},
        {"key": "done"},
    ]}],
    crons=[{"cron": "0 9 * * *", "timezone": "Europe/Berlin", "step": "hello"}],
)


async def _import(client: httpx.AsyncClient, document: dict[str, Any]) -> dict[str, Any]:
    imported = await client.post(f"{BOTS}/import", json=document)
    assert imported.status_code == 201, imported.text
    return imported.json()


async def test_the_issues_example_round_trips(database_url: str) -> None:
    async with client_for(database_url) as (_app, client):
        bot = await _import(client, PIZZA)
        assert bot["name"] == "Pizza" and bot["published_version"] == 1 and bot["draft_changed"] is False
        exported = (await client.get(f"{BOTS}/{bot['id']}/export")).json()
        assert dump(parse(exported)) == dump(parse(PIZZA))
        version = (await client.get(f"{BOTS}/{bot['id']}/versions/1")).json()
        assert version["document"] == dump(parse(PIZZA))

        # New ids inside: a second import is another bot, with steps of its own.
        again = await _import(client, PIZZA)
        assert again["id"] != bot["id"] and again["first_step_id"] != bot["first_step_id"]
        steps = (await client.get("/api/v1/steps", params={"bot_id": again["id"]})).json()["items"]
        assert [s["key"] for s in steps] == ["hello", "size"] and again["first_step_id"] == steps[0]["id"]
        assert (await client.get("/api/v1/agents")).json()["total"] == 2


async def test_every_part_of_a_document_round_trips(database_url: str) -> None:
    async with client_for(database_url) as (_app, client):
        bot = await _import(client, FULL)
        exported = (await client.get(f"{BOTS}/{bot['id']}/export")).json()
        assert dump(parse(exported)) == dump(parse(FULL))
        # Exported again as imported: the export is itself a document that round trips.
        copy = await _import(client, exported)
        assert dump(parse((await client.get(f"{BOTS}/{copy['id']}/export")).json())) == dump(parse(FULL))
        # The same template imported twice is one template of the organisation.
        assert (await client.get("/api/v1/templates")).json()["total"] == 1


async def test_the_engine_reads_the_published_and_the_draft_document(database_url: str) -> None:
    async with client_for(database_url) as (_app, client):
        bot = await _import(client, PIZZA)
        size = [s for s in (await client.get("/api/v1/steps", params={"bot_id": bot["id"]})).json()["items"]
                if s["key"] == "size"][0]
        await client.patch(f"/api/v1/steps/{size['id']}", json={"message": {"text": "Big or small?"}})
        engine = create_engine(database_url, pool_size=1)
        try:
            async with session_scope(create_session_factory(engine)) as session:
                published = await export.published_document(session, bot["id"])
                draft = await export.draft_document(session, bot["id"])
                assert await export.published_document(session, "bot-nobody") is None
        finally:
            await engine.dispose()
        assert published is not None
        version, document = published
        assert version == 1 and document.steps[1].message.text == "Which size, {$user.first_name$}?"
        assert draft.steps[1].message.text == "Big or small?"


async def test_a_draft_built_through_the_api_exports_with_readable_keys(database_url: str) -> None:
    async with client_for(database_url) as (_app, client):
        bot = (await client.post(BOTS, json={"name": "Built"})).json()
        steps = []
        for name in ("Ask the size", "Ask the size", ""):
            created = await client.post("/api/v1/steps", json={"bot_id": bot["id"], "name": name})
            steps.append(created.json())
        group = (await client.post("/api/v1/connection_groups", json={"step_id": steps[0]["id"]})).json()
        await client.post("/api/v1/connections", json={"group_id": group["id"], "next_step_id": steps[2]["id"]})
        exported = (await client.get(f"{BOTS}/{bot['id']}/export")).json()
        keys = [s["key"] for s in exported["steps"]]
        assert keys == ["ask-the-size", "ask-the-size-2", steps[2]["id"]]
        assert exported["first_step"] == "ask-the-size"
        assert exported["steps"][0]["connection_groups"][0]["connections"][0]["next_step"] == steps[2]["id"]
        copy = await _import(client, exported)
        assert dump(parse((await client.get(f"{BOTS}/{copy['id']}/export")).json())) == dump(parse(exported))


async def test_an_invalid_document_is_refused_saying_where_and_makes_nothing(database_url: str) -> None:
    async with client_for(database_url) as (_app, client):
        missing_key = pizza()
        missing_key["steps"][0]["connection_groups"][0]["connections"][0]["next_step"] = "siz"
        no_first = pizza()
        del no_first["first_step"]
        wrong_first = pizza(first_step="nowhere")
        bad_type = pizza()
        bad_type["steps"][1]["connection_groups"] = [{"search_type": "response"}]
        for document, where in (
            (missing_key, "steps.0.connection_groups.0.connections.0.next_step"),
            (no_first, "first_step"),
            (wrong_first, "first_step"),
            (bad_type, "steps.1.connection_groups.0.request"),
        ):
            error = assert_error(await client.post(f"{BOTS}/import", json=document), 422)
            assert where in [d["field"] for d in error["details"]], (where, error)  # the README's dotted paths
        assert (await client.get(BOTS)).json()["total"] == 0
        assert (await client.get("/api/v1/agents")).json()["total"] == 0
        assert (await client.get("/api/v1/steps")).json()["total"] == 0


async def test_an_export_whose_secrets_are_masked_is_not_imported_as_is(sqlite_url: str) -> None:
    """Exports hide request headers' secrets (``***``): importing one as it is would send
    ``***`` in their place, so the import says which header to set again."""
    document = {"format": "agenthub.bot/v1", "name": "x", "first_step": "a", "steps": [{"key": "a"}],
                "requests": [{"key": "menu", "url": "https://example.com", "headers": {"Authorization": "***"}}]}
    async with client_for(sqlite_url) as (_app, client):
        refused = assert_error(await client.post("/api/v1/bots/import", json=document), 422)
        assert refused["details"][0]["field"] == "requests.0.headers.Authorization"
        assert "masked" in refused["message"]
        assert (await client.get("/api/v1/bots")).json()["total"] == 0
