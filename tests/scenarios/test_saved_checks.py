"""What would fail only when the bot runs is refused when saved, naming the field, by the
REST parts, an import and templates alike: code that does not compile (never run), a
JSONPath that does not parse, an integration that does not exist, a variable name that is
not ``scope.key`` or ``key``."""

from __future__ import annotations

from typing import Any

import httpx

from agenthub.scenarios.actions.integrations import BUILT_IN_NAMES, default_integrations
from tests.agents.helpers import assert_error, client_for

BAD_GROUPS: list[tuple[dict[str, Any], str, str]] = [
    ({"search_type": "code", "code": "async def main(message, variables):\n    return {"}, "code", "compile"),
    ({"search_type": "code", "code": "open('/tmp/ran-at-save', 'w')\nx = ("}, "code", "compile"),
    ({"variables": {"session.n": "$.a["}}, "variables.session.n", "JSONPath"),
    ({"variables": {"message.text": "$.text"}}, "variables.message.text", "variable name"),
    ({"variables": {"a b": "$.text"}}, "variables.a b", "variable name"),
    ({"search_type": "integration", "integration": {"name": "telegram.send_mesage"}}, "integration.name",
     "telegram.send_message"),
]


def test_the_static_names_are_the_registry_s() -> None:
    assert sorted(BUILT_IN_NAMES) == default_integrations().names


async def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_groups_that_would_fail_at_run_time_are_refused_when_saved(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_app, client):
        bot = await _created(await client.post("/api/v1/bots", json={"name": "Checks"}))
        step = await _created(await client.post("/api/v1/steps", json={"bot_id": bot["id"], "key": "a"}))
        group = await _created(await client.post("/api/v1/connection_groups", json={"step_id": step["id"]}))
        for fields, field, word in BAD_GROUPS:
            made = assert_error(await client.post("/api/v1/connection_groups", json={"step_id": step["id"], **fields}), 422)
            assert made["details"][0]["field"] == field and word in made["message"], made
            changed = assert_error(await client.patch(f"/api/v1/connection_groups/{group['id']}", json=fields), 422)
            assert changed["details"][0]["field"] == field, changed
            document = {"name": "x", "first_step": "a", "steps": [{"key": "a", "connection_groups": [fields]}]}
            imported = assert_error(await client.post("/api/v1/bots/import", json=document), 422)
            assert imported["details"][0]["field"] == f"steps.0.connection_groups.0.{field}", imported
            template = {"key": "t", "name": "T", "document": {"first_step": "a", "steps": document["steps"]}}
            refused = assert_error(await client.post("/api/v1/templates", json=template), 422)
            assert refused["details"][0]["field"] == f"document.steps.0.connection_groups.0.{field}", refused
        groups = (await client.get("/api/v1/connection_groups", params={"step_id": step["id"]})).json()["items"]
        assert [(g["code"], g["variables"], g["integration"]) for g in groups] == [(None, {}, None)]
        assert [b["name"] for b in (await client.get("/api/v1/bots")).json()["items"]] == ["Checks"]

        good = {"search_type": "code", "code": "async def main(message, variables):\n    return {'n': 1}\n",
                "variables": {"session.n": "$.n", "total": "$.n"}}
        await _created(await client.post("/api/v1/connection_groups", json={"step_id": step["id"], **good}))
        integration = {"search_type": "integration", "integration": {"name": "random.number"}}
        await _created(await client.post("/api/v1/connection_groups", json={"step_id": step["id"], **integration}))


async def test_a_template_instance_s_outputs_are_variable_names(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_app, client):
        bot = await _created(await client.post("/api/v1/bots", json={"name": "Outputs"}))
        template = await _created(await client.post("/api/v1/templates", json={
            "key": "t", "name": "T", "document": {"first_step": "a", "steps": [{"key": "a"}]}}))
        instances = f"/api/v1/templates/{template['id']}/instances"
        made = assert_error(await client.post(instances, json={"bot_id": bot["id"], "outputs": {"x": "message.x"}}), 422)
        assert made["details"][0]["field"] == "outputs.x"
        step = await client.post("/api/v1/steps", json={"bot_id": bot["id"], "template_instance": {
            "template_id": template["id"], "outputs": {"x": "nowhere.x"}}})
        assert assert_error(step, 422)["details"][0]["field"] == "template_instance.outputs.x"
        document = {"name": "x", "first_step": "a", "templates": [
            {"key": "t", "name": "T", "first_step": "a", "steps": [{"key": "a"}]}],
            "steps": [{"key": "a", "template": {"template": "t", "outputs": {"x": "session.x y"}}}]}
        imported = assert_error(await client.post("/api/v1/bots/import", json=document), 422)
        assert imported["details"][0]["field"] == "steps.0.template.outputs.x"
        await _created(await client.post(instances, json={"bot_id": bot["id"], "outputs": {"x": "session.x"}}))
        assert len((await client.get("/api/v1/steps", params={"bot_id": bot["id"]})).json()["items"]) == 1
