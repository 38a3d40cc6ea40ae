"""What the OpenAPI document says where it used to disagree with the server (the
schemathesis run in tests/test_openapi.py checks the rest by generated requests)."""

from __future__ import annotations

from tests.agents.helpers import agent_body, assert_error, client_for

STATUSES_OF_A_BODY = {"400", "413", "415", "422"}


async def test_every_error_an_operation_answers_is_documented_with_the_json_error_shape(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        document = (await client.get("/openapi.json")).json()
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    # The OpenAI-compatible API answers its errors in OpenAI's shape, a refused body as 400.
    openai_ref = {"$ref": "#/components/schemas/OpenAIErrorResponse"}
    assert set(document["components"]["schemas"]["ErrorResponse"]["properties"]) == {"error"}
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            where = f"{method.upper()} {path}"
            errors = {status: r for status, r in responses.items() if status[0] in "45"}
            openai = path.startswith("/v1/")
            for status, response in errors.items():
                if path != "/health":
                    expected = openai_ref if openai else error_ref
                    assert response["content"]["application/json"]["schema"] == expected, (where, status)
            if path.startswith("/api/"):
                assert "503" in errors, where
            refused = "400" if openai else "422"
            if "{" in path:
                assert {"404", refused} <= set(errors), where
            if "requestBody" in operation:
                assert STATUSES_OF_A_BODY - {"422"} | {refused} <= set(errors), where
            if method != "get":
                assert "403" in errors, where
    assert "409" in document["paths"]["/api/v1/agents"]["post"]["responses"]


async def test_a_foreign_pages_refusal_is_the_documented_403(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        refused = await client.post(
            "/api/v1/agents", json=agent_body(), headers={"Origin": "https://elsewhere.example"}
        )
        document = (await client.get("/openapi.json")).json()
    assert_error(refused, 403, "forbidden")
    assert "403" in document["paths"]["/api/v1/agents"]["post"]["responses"]


async def test_metrics_are_documented_as_the_text_they_are(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        document = (await client.get("/openapi.json")).json()
        metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert set(document["paths"]["/metrics"]["get"]["responses"]["200"]["content"]) == {"text/plain"}


async def test_a_temperature_must_be_a_number_not_a_boolean_or_a_string(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        for temperature in (False, True, "0.5"):
            refused = await client.post("/api/v1/agents", json=agent_body(settings={"temperature": temperature}))
            assert_error(refused, 422, "invalid_input")
            assert refused.json()["error"]["details"][0]["field"] == "settings.temperature"
            patched = await client.patch("/api/v1/agents/x1", json={"settings": {"temperature": temperature}})
            assert_error(patched, 422, "invalid_input")
        created = await client.post("/api/v1/agents", json=agent_body(id="warm", settings={"temperature": 1}))
        assert created.status_code == 201, created.text
        assert created.json()["settings"]["temperature"] == 1.0


async def test_null_in_a_settings_patch_keeps_the_field_as_the_document_allows(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        created = await client.post("/api/v1/agents", json=agent_body(id="kept"))
        assert created.status_code == 201, created.text
        before = created.json()["settings"]
        nulls = {field: None for field in (
            "system_prompt", "provider", "model_id", "temperature", "isolation", "integrations"
        )}
        patched = await client.patch("/api/v1/agents/kept", json={"name": None, "settings": nulls})
        assert patched.status_code == 200, patched.text
        assert patched.json()["settings"] == before
        assert patched.json()["config_version"] == 1, "nothing changed"
        document = (await client.get("/openapi.json")).json()
    patch_schema = document["components"]["schemas"]["AgentSettingsPatch"]["properties"]
    assert {"type": "null"} in patch_schema["system_prompt"]["anyOf"]


async def test_a_chat_with_an_agent_that_kept_failing_is_documented_as_409(sqlite_url: str) -> None:
    """What the server answers then is shown in tests/runtime/test_crash_loop.py."""
    async with client_for(sqlite_url) as (_, client):
        document = (await client.get("/openapi.json")).json()
    refused = document["paths"]["/api/v1/agents/{agent_id}/chat"]["post"]["responses"]["409"]
    assert refused["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
    assert "agent_failed" in refused["description"]
    assert document["paths"]["/api/v1/agents"]["post"]["responses"]["409"]["description"] == "It exists already"
