"""A template's ``inputs`` and ``outputs`` are JSON Schemas, checked when saved, and an
instance's inputs must satisfy them (over REST: the template routes, the instances route and
steps naming a template): a required input missing, a literal of the wrong type or an output
the template does not declare is a 422 naming the field, and nothing is written; a value
substituted when the bot runs is only required to be there."""

from __future__ import annotations

from typing import Any

import httpx

from tests.agents.helpers import assert_error, client_for

INPUTS = {"type": "object", "required": ["who"],
          "properties": {"who": {"type": "string"}, "count": {"type": "integer", "minimum": 1}}}
OUTPUTS = {"type": "object", "properties": {"greeting": {"type": "string"}}}
BODY = {"first_step": "hi", "steps": [{"key": "hi", "message": {"text": "Hi {$session.who$}"}}]}


async def _created(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _field(answer: httpx.Response) -> str:
    assert answer.status_code == 422, answer.text
    return str(answer.json()["error"]["details"][0]["field"])


async def test_a_template_whose_inputs_or_outputs_are_no_json_schema_is_refused(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_app, client):
        bad_inputs = await client.post("/api/v1/templates", json={
            "name": "Greet", "inputs": {"type": "objekt"}, "document": BODY})
        assert _field(bad_inputs) == "inputs.type"
        assert "not a JSON Schema" in bad_inputs.json()["error"]["message"]
        bad_outputs = await client.post("/api/v1/templates", json={
            "name": "Greet", "outputs": {"properties": []}, "document": BODY})
        assert _field(bad_outputs) == "outputs.properties"
        assert (await client.get("/api/v1/templates")).json()["total"] == 0

        template = await _created(await client.post("/api/v1/templates", json={
            "name": "Greet", "inputs": INPUTS, "outputs": OUTPUTS, "document": BODY}))
        refused = await client.patch(f"/api/v1/templates/{template['id']}", json={"inputs": {"required": "who"}})
        assert _field(refused) == "inputs.required"
        kept = (await client.get(f"/api/v1/templates/{template['id']}")).json()
        assert kept["inputs"] == INPUTS


async def test_an_instance_must_pass_the_inputs_the_template_asks_for(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_app, client):
        template = await _created(await client.post("/api/v1/templates", json={
            "name": "Greet", "inputs": INPUTS, "outputs": OUTPUTS, "document": BODY}))
        bot = await _created(await client.post("/api/v1/bots", json={"name": "Host"}))
        instances = f"/api/v1/templates/{template['id']}/instances"

        missing = await client.post(instances, json={"bot_id": bot["id"], "inputs": {"count": 2}})
        assert _field(missing) == "inputs" and "'who' is a required property" in missing.text
        wrong_type = await client.post(instances, json={"bot_id": bot["id"], "inputs": {"who": "Ann", "count": "two"}})
        assert _field(wrong_type) == "inputs.count"
        too_small = await client.post(instances, json={"bot_id": bot["id"], "inputs": {"who": "Ann", "count": 0}})
        assert _field(too_small) == "inputs.count"
        unknown_output = await client.post(instances, json={
            "bot_id": bot["id"], "inputs": {"who": "Ann"}, "outputs": {"farewell": "session.bye"}})
        assert _field(unknown_output) == "outputs.farewell"
        assert (await client.get(instances)).json()["total"] == 0

        # Known when the bot runs: only its presence is checked.
        made = await _created(await client.post(instances, json={
            "bot_id": bot["id"], "inputs": {"who": "{$message.text$}", "count": "{$session.n$}"},
            "outputs": {"greeting": "session.greeting"}}))
        assert made["template_instance"]["inputs"]["count"] == "{$session.n$}"

        # A step naming the template over the steps route is checked the same way.
        step = await client.post("/api/v1/steps", json={"bot_id": bot["id"], "is_proxy": True, "template_instance": {
            "template_id": template["id"], "inputs": {"who": 5}}})
        assert _field(step) == "template_instance.inputs.who"
        assert_error(step, 422)
