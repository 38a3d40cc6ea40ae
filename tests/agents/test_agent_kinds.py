"""Agent settings by kind: the create body is a union told apart by ``kind`` (``llm`` when
left out), PATCH validates the merged settings by the agent's kind, and errors name the
field as the body does. On SQLite and PostgreSQL."""

from __future__ import annotations

from agenthub.agents.models import DEFAULT_ORG, Agent
from agenthub.db.engine import create_engine, create_session_factory, session_scope
from tests.agents.helpers import agent_body, assert_error, client_for

AGENTS = "/api/v1/agents"


async def test_kind_defaults_to_llm_and_may_be_named(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        implicit = await client.post(AGENTS, json=agent_body(id="implicit"))
        explicit = await client.post(AGENTS, json=agent_body(id="explicit", kind="llm"))

        assert implicit.status_code == explicit.status_code == 201, (implicit.text, explicit.text)
        assert implicit.json()["kind"] == explicit.json()["kind"] == "llm"
        assert implicit.json()["settings"]["agent_type"] == "simple"


async def test_an_unknown_kind_is_refused_naming_kind(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        error = assert_error(await client.post(AGENTS, json=agent_body(kind="telepathy")), 422, "invalid_input")

        assert [d["field"] for d in error["details"]] == ["kind"]
        assert "telepathy" in error["message"] and "'llm'" in error["message"]
        assert (await client.get(AGENTS)).json()["total"] == 0


async def test_errors_in_the_settings_of_a_kind_name_the_field_of_the_body(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        for kind in ({}, {"kind": "llm"}):
            body = agent_body(settings={"temperature": 5, "agent_type": "swarm"}, **kind)
            error = assert_error(await client.post(AGENTS, json=body), 422, "invalid_input")

            assert sorted(d["field"] for d in error["details"]) == ["settings.agent_type", "settings.temperature"]


async def test_openapi_shows_the_create_body_as_one_of_by_kind(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        spec = (await client.get("/openapi.json")).json()

    body = spec["paths"][AGENTS]["post"]["requestBody"]["content"]["application/json"]["schema"]
    create = spec["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert create["discriminator"]["propertyName"] == "kind"
    llm_ref = create["discriminator"]["mapping"]["llm"]
    assert create["oneOf"] == [{"$ref": llm_ref}]
    llm = spec["components"]["schemas"][llm_ref.rsplit("/", 1)[1]]
    assert llm["properties"]["kind"]["const"] == "llm"
    assert "kind" not in llm.get("required", [])  # left out, it means llm
    settings = spec["components"]["schemas"][llm["properties"]["settings"]["$ref"].rsplit("/", 1)[1]]
    assert {"provider", "model_id", "agent_type", "isolation"} <= set(settings["properties"])


async def test_patch_merges_then_validates_by_the_agents_kind(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        created = (await client.post(AGENTS, json=agent_body(id="tuned"))).json()

        patched = await client.patch(f"{AGENTS}/tuned", json={"settings": {"temperature": 0.1}})
        assert patched.status_code == 200, patched.text
        assert patched.json()["settings"] == {**created["settings"], "temperature": 0.1}
        assert patched.json()["config_version"] == 2

        for settings, field in (
            ({"temperature": "hot"}, "settings.temperature"),
            ({"provider": "openai_compatible"}, "settings"),  # valid alone, not with no base_url
            ({"colour": "red"}, "settings.colour"),
        ):
            error = assert_error(await client.patch(f"{AGENTS}/tuned", json={"settings": settings}), 422)
            assert [d["field"] for d in error["details"]] == [field], (settings, error)
        assert (await client.get(f"{AGENTS}/tuned")).json()["settings"] == patched.json()["settings"]


async def test_settings_of_a_kind_the_api_does_not_configure_are_left_alone(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        engine = create_engine(database_url, pool_size=1)
        try:
            async with session_scope(create_session_factory(engine)) as session:
                session.add(Agent(
                    id="echoer", org_id=DEFAULT_ORG, name="Echo", kind="echo",
                    settings={"isolation": "shared"}, config_version=1,
                ))
        finally:
            await engine.dispose()

        shown = await client.get(f"{AGENTS}/echoer")
        assert shown.status_code == 200 and shown.json()["kind"] == "echo"
        error = assert_error(await client.patch(f"{AGENTS}/echoer", json={"settings": {"isolation": "process"}}), 422)
        assert [d["field"] for d in error["details"]] == ["settings"]
        renamed = await client.patch(f"{AGENTS}/echoer", json={"name": "Echo two"})
        assert renamed.status_code == 200 and renamed.json()["name"] == "Echo two"
