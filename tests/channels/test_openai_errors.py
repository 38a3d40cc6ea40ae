"""Every refusal of the OpenAI-compatible API is OpenAI's error shape with the right status,
so the official client raises its typed errors: a bad key, an unknown or unreachable model,
a refused body, a spent budget, the rate limit, an agent that failed."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from tests.channels.test_openai_api import Setup, _spend, setup

USER = [{"role": "user", "content": "hello"}]


def openai_error(response: httpx.Response, status: int, code: str | None) -> dict[str, Any]:
    """OpenAI's error shape with ``status`` and ``code``, never AgentHub's, no trace."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"] and isinstance(error["type"], str)
    assert error["code"] == code, error
    assert "Traceback" not in response.text
    return dict(error)


def raised(error: openai.APIStatusError, status: int, code: str) -> dict[str, Any]:
    """What the client raised: its status, and the body's error in OpenAI's shape."""
    assert error.status_code == status
    return openai_error(error.response, status, code)


async def test_refusals_raise_the_clients_typed_errors(sqlite_url: str) -> None:
    async with setup(sqlite_url) as hub:
        agent = await hub.agent()
        key = await hub.key()
        client = hub.client(key["key"], max_retries=0)

        with pytest.raises(openai.AuthenticationError) as bad_key:
            await hub.client("ahk_not-a-key").models.list()
        assert raised(bad_key.value, 401, "invalid_api_key")["type"] == "invalid_request_error"
        async with httpx.AsyncClient(base_url=hub.app.url, timeout=20) as anonymous:
            openai_error(await anonymous.post("/v1/chat/completions", json={"model": agent, "messages": USER}),
                         401, "invalid_api_key")
            openai_error(await anonymous.get("/v1/models"), 401, "invalid_api_key")

        with pytest.raises(openai.NotFoundError) as unknown:
            await client.chat.completions.create(model="no-such-agent", messages=USER)  # type: ignore[arg-type]
        error = raised(unknown.value, 404, "model_not_found")
        assert "no-such-agent" in error["message"] and error["type"] == "invalid_request_error"
        with pytest.raises(openai.NotFoundError):
            await client.models.retrieve("no-such-agent")

        refused_bodies: list[tuple[dict[str, Any], str]] = [
            ({"messages": [*USER, {"role": "assistant", "content": "hi"}]}, "messages.1.role"),
            ({"messages": []}, "messages"),
            ({"messages": [{"role": "user", "content": "   "}]}, "messages.0.content"),
            ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
             "messages.0.content"),
            ({"messages": USER, "extra_body": {"chat_id": "not a chat id"}}, "chat_id"),
            ({"messages": [{"role": "wizard", "content": "hi"}]}, "messages.0.role"),
        ]
        for body, param in refused_bodies:
            with pytest.raises(openai.BadRequestError) as bad:
                await client.chat.completions.create(model=agent, **body)
            error = raised(bad.value, 400, bad.value.code)
            assert (error["param"], error["type"]) == (param, "invalid_request_error"), (body, error)
        async with httpx.AsyncClient(base_url=hub.app.url, timeout=20, headers=hub.app.headers) as raw:
            not_json = await raw.post(
                "/v1/chat/completions", content=b'{"model": ', headers={"content-type": "application/json"}
            )
            assert "JSON" in openai_error(not_json, 400, "bad_request")["message"]
            openai_error(await raw.get("/v1/embeddings"), 404, "not_found")
        assert hub.model.requests == []  # nothing refused reached the model


async def test_another_organisations_agent_is_no_model_of_its_keys(sqlite_url: str) -> None:
    async with setup(sqlite_url) as hub:
        agent = await hub.agent()
        mine = await hub.agent()
        limited = hub.client((await hub.key(agent_ids=[mine]))["key"], max_retries=0)
        assert [m.id for m in (await limited.models.list()).data] == [mine]
        with pytest.raises(openai.NotFoundError):
            await limited.chat.completions.create(model=agent, messages=USER)  # type: ignore[arg-type]

        registered = await hub.owner.post("/api/v1/auth/register", headers={"Authorization": ""}, json={
            "email": "other@example.com", "password": "other-password-1", "org_name": "Other",
        })
        assert registered.status_code == 201, registered.text
        token = registered.json()["access_token"]
        other = hub.client(token, max_retries=0)  # an access token works as a key too
        assert (await other.models.list()).data == []
        with pytest.raises(openai.NotFoundError) as refused:
            await other.chat.completions.create(model=agent, messages=USER)
        raised(refused.value, 404, "model_not_found")
        with pytest.raises(openai.NotFoundError):
            await other.models.retrieve(agent)


async def test_an_agent_needing_an_authorisation_is_403_and_unlisted(sqlite_url: str) -> None:
    async with setup(sqlite_url) as hub:
        agent = await hub.agent(access="authorized")
        key = await hub.key()
        client = hub.client(key["key"], max_retries=0)
        assert (await client.models.list()).data == []
        with pytest.raises(openai.PermissionDeniedError) as refused:
            await client.chat.completions.create(model=agent, messages=USER)
        assert "authorised" in raised(refused.value, 403, "forbidden")["message"]

        granted = await hub.owner.post(
            f"/api/v1/agents/{agent}/authorizations", json={"channel": "web", "platform_user_id": key["id"]}
        )
        assert granted.status_code == 201, granted.text
        assert [m.id for m in (await client.models.list()).data] == [agent]
        answer = await client.chat.completions.create(model=agent, messages=USER)
        assert answer.choices[0].message.content == "echo: hello"


async def test_a_spent_budget_is_insufficient_quota(database_url: str) -> None:
    async with setup(database_url) as hub:
        hub.model.add_answer("costly", prompt_tokens=1000, completion_tokens=500)
        agent = await hub.agent()
        key = await hub.key()
        budget = await hub.owner.put(f"/api/v1/api-keys/{key['id']}/budget", json={"max_budget": "0.0004"})
        assert budget.status_code == 200, budget.text
        client = hub.client(key["key"], max_retries=0)
        await client.chat.completions.create(model=agent, messages=USER)
        await _spend(hub, key["id"], turns=1)
        asked = len(hub.model.requests)
        for stream in (False, True):
            with pytest.raises(openai.APIStatusError) as refused:
                await client.chat.completions.create(model=agent, messages=USER, stream=stream)
            assert raised(refused.value, 402, "insufficient_quota")["type"] == "insufficient_quota"
        assert len(hub.model.requests) == asked  # nothing more reached the model


async def test_over_the_rate_limit_is_429_with_retry_after(sqlite_url: str) -> None:
    async with setup(sqlite_url, rate_limit_per_minute=2) as hub:
        client = hub.client((await hub.key())["key"], max_retries=0)
        await client.models.list()
        await client.models.list()
        # The third is refused; right after a minute begins, the sliding window's weighted
        # count of the last minute (2 × 0.99...) may let one more through first.
        with pytest.raises(openai.RateLimitError) as refused:
            for _ in range(2):
                await client.models.list()
        assert raised(refused.value, 429, "rate_limit_exceeded")["type"] == "requests"
        assert int(refused.value.response.headers["retry-after"]) >= 1


async def test_an_agent_that_fails_is_a_server_error_the_client_does_not_retry(sqlite_url: str) -> None:
    async with setup(sqlite_url) as hub:
        for _ in range(6):  # every attempt of the agent's model client fails, twice over
            hub.model.add_error(500, "the model is on fire")
        agent = await hub.agent()
        client = hub.client((await hub.key())["key"])  # retries as it does by default
        with pytest.raises(openai.InternalServerError) as failed:
            await client.chat.completions.create(model=agent, messages=USER, extra_body={"chat_id": "doomed"})
        error = raised(failed.value, 500, "agent_error")
        assert "on fire" not in error["message"] and error["type"] == "server_error"
        assert failed.value.response.headers["x-should-retry"] == "false"

        # Streaming: the error comes as an error object in the stream, which the client raises.
        stream = await client.chat.completions.create(
            model=agent, messages=USER, stream=True, extra_body={"chat_id": "doomed-too"}
        )
        with pytest.raises(openai.APIError) as in_stream:
            async for _chunk in stream:
                pass
        assert in_stream.value.code == "agent_error"
        assert await _user_messages(hub, agent, "doomed") == 1  # sent once: not retried


async def test_a_failed_agent_is_409_agent_failed(sqlite_url: str) -> None:
    async with setup(sqlite_url, agent_error_cooldown=3600) as hub:
        agent = await hub.agent()
        await hub.app.app.state.supervisor.statuses.write(agent, "error", error="gave up after 3 restarts")
        client = hub.client((await hub.key())["key"])
        with pytest.raises(openai.ConflictError) as refused:
            await client.chat.completions.create(model=agent, messages=USER)
        raised(refused.value, 409, "agent_failed")
        assert hub.model.requests == []


async def _user_messages(hub: Setup, agent: str, chat_id: str) -> int:
    response = await hub.owner.get(f"/api/v1/agents/{agent}/chats/{chat_id}/messages")
    assert response.status_code == 200, response.text
    return sum(1 for m in response.json()["items"] if m["role"] == "user")
