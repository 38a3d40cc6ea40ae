"""The providers routes against the real app and real local endpoints: each provider's
health (key present, reachable) without a secret in the answer; the models an endpoint
offers (OpenAI-compatible `/models`, Ollama's `/api/tags`), with the outbound guard on the
caller's `base_url` and the platform key sent only to the provider's own address."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.agents.helpers import assert_error, client_for
from tests.support.accounts import bearer, user_token
from tests.support.http_recorder import Recorder, Request, json_reply

PLATFORM_KEY = "sk-platform-secret-42"
OPENAI_MODELS = {"object": "list", "data": [
    {"id": "gpt-z", "object": "model", "owned_by": "acme"}, {"id": "gpt-a", "object": "model"},
]}
OLLAMA_TAGS = {"models": [{"name": "qwen2.5:7b", "model": "qwen2.5:7b"}, {"name": "llama3.2:latest"}]}


def _openai_compatible(request: Request) -> tuple[int, dict[str, str], bytes]:
    if request.path == "/v1/models":
        return json_reply(OPENAI_MODELS)
    return json_reply({"error": "no such route"}, 404)


def _ollama_only(request: Request) -> tuple[int, dict[str, str], bytes]:
    if request.path == "/api/tags":
        return json_reply(OLLAMA_TAGS)
    return json_reply({"error": "no such route"}, 404)


@pytest.fixture
def endpoint() -> Iterator[Recorder]:
    with Recorder(_openai_compatible) as server:
        yield server


async def test_the_providers_and_their_health(sqlite_url: str, endpoint: Recorder) -> None:
    base = f"{endpoint.url}/v1"
    async with client_for(sqlite_url, openai_base_url=base, openai_api_key=PLATFORM_KEY) as (app, client):
        response = await client.get("/api/v1/providers")
        assert response.status_code == 200, response.text
        again = await client.get("/api/v1/providers")
        async with httpx.AsyncClient(base_url=app.url, timeout=20) as anonymous:
            assert_error(await anonymous.get("/api/v1/providers"), 401)

    providers = {p["name"]: p for p in response.json()["items"]}
    assert list(providers) == ["openai", "openrouter", "ollama", "openai_compatible", "fake"]
    assert providers["openai"] == {
        "name": "openai", "base_url": base, "key_variable": "OPENAI_API_KEY", "key_present": True,
        "reachable": True, "status": "ok",
    }
    assert providers["openrouter"]["key_present"] is False
    assert providers["openrouter"]["base_url"] == "https://openrouter.ai/api/v1"
    assert providers["ollama"]["key_present"] is None and providers["ollama"]["base_url"] == "http://127.0.0.1:11434/v1"
    assert providers["openai_compatible"]["reachable"] is None and providers["openai_compatible"]["base_url"] is None
    assert providers["fake"]["reachable"] is True
    assert PLATFORM_KEY not in response.text
    # The platform key went to OPENAI_BASE_URL, the operator's address for OpenAI; checked once
    # for both requests.
    (probe,) = [r for r in endpoint.requests if r.path == "/v1/models"]
    assert probe.headers["authorization"] == f"Bearer {PLATFORM_KEY}"
    assert again.json() == response.json()


async def test_an_endpoints_models_and_where_the_key_goes(sqlite_url: str, endpoint: Recorder) -> None:
    base = f"{endpoint.url}/v1"
    async with client_for(sqlite_url, openai_base_url=base, openai_api_key=PLATFORM_KEY) as (_app, client):
        compatible = await client.get("/api/v1/providers/openai_compatible/models", params={"base_url": base})
        assert compatible.status_code == 200, compatible.text
        assert compatible.json() == {
            "provider": "openai_compatible", "base_url": base, "source": "openai",
            "models": [{"id": "gpt-a", "owned_by": None}, {"id": "gpt-z", "owned_by": "acme"}],
        }
        assert "authorization" not in endpoint.requests[-1].headers  # never the platform key to an agent's endpoint

        own = await client.get("/api/v1/providers/openai/models")
        assert own.status_code == 200 and own.json()["base_url"] == base
        assert endpoint.requests[-1].headers["authorization"] == f"Bearer {PLATFORM_KEY}"

        fake = await client.get("/api/v1/providers/fake/models")
        assert fake.json()["models"] == [{"id": "demo", "owned_by": None}] and fake.json()["source"] == "builtin"


async def test_ollama_tags_are_listed(sqlite_url: str) -> None:
    with Recorder(_ollama_only) as ollama:
        async with client_for(sqlite_url) as (_app, client):
            tags = await client.get("/api/v1/providers/ollama/models", params={"base_url": f"{ollama.url}/v1"})
            # An OpenAI-compatible endpoint that turns out to be Ollama's: its tags.
            answered = await client.get("/api/v1/providers/openai_compatible/models", params={"base_url": ollama.url})
    assert tags.status_code == 200, tags.text
    assert tags.json()["source"] == "ollama"
    assert [m["id"] for m in tags.json()["models"]] == ["llama3.2:latest", "qwen2.5:7b"]
    assert answered.status_code == 200 and answered.json()["source"] == "ollama"
    assert [r.path for r in ollama.requests] == ["/api/tags", "/models", "/api/tags"]


async def test_refusals_and_failures_are_clear_json_errors(sqlite_url: str) -> None:
    def broken(_request: Request) -> tuple[int, dict[str, str], bytes]:
        return json_reply({"error": "boom"}, 500)

    with Recorder(broken) as failing:
        async with client_for(sqlite_url, openai_api_key=None, openai_base_url=None) as (app, client):
            member = bearer(await user_token(app, "member@example.com"))
            local = {"base_url": f"{failing.url}/v1"}

            refused = assert_error(
                await client.get("/api/v1/providers/openai_compatible/models", params=local, headers=member), 422
            )
            assert refused["message"] == "refused: 127.0.0.1 is a loopback address"
            metadata = assert_error(await client.get(
                "/api/v1/providers/openai_compatible/models", params={"base_url": "http://169.254.169.254/latest"}
            ), 422)
            assert "169.254.169.254" in metadata["message"]
            assert failing.requests == []

            failed = assert_error(await client.get("/api/v1/providers/openai_compatible/models", params=local), 502)
            assert failed["code"] == "upstream_failed"
            assert failed["message"] == (
                "127.0.0.1 did not list its models: /v1/models answered HTTP 500; /api/tags answered HTTP 500"
            )
            no_key = assert_error(await client.get("/api/v1/providers/openai/models"), 502)
            assert no_key["message"] == "OPENAI_API_KEY is not set on the server: api.openai.com lists no models without it"
            assert_error(await client.get("/api/v1/providers/nobody/models"), 422)
            missing = assert_error(await client.get("/api/v1/providers/openai_compatible/models"), 422)
            assert "base_url" in missing["message"]


async def test_the_connection_goes_to_the_address_the_guard_checked(endpoint: Recorder) -> None:
    """A name that would resolve elsewhere on the next lookup (DNS rebinding) is still reached
    at the address checked, with its own name in the Host header."""
    from agenthub.providers.service import PinnedTransport

    port = endpoint.url.rsplit(":", 1)[1]
    transport = PinnedTransport("models.example.invalid", "127.0.0.1")
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.get(f"http://models.example.invalid:{port}/v1/models")
    assert response.status_code == 200 and response.json() == OPENAI_MODELS
    assert endpoint.requests[-1].headers["host"] == f"models.example.invalid:{port}"
