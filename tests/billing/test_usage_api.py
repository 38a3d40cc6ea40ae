"""Token usage as a user reads it back: tokens from the model's own response, cost where
the provider charges a known price for the model."""

from __future__ import annotations

from decimal import Decimal

import httpx

from tests.channels.helpers import assert_json_error, create_agent, eventually
from tests.support.fake_openai import FakeOpenAI
from tests.support.server import make_settings, running_app


async def test_usage_adds_up_what_the_model_reported_with_its_cost(database_url: str) -> None:
    from agenthub.db import migrate
    from agenthub.db.engine import create_engine

    engine = create_engine(database_url, pool_size=1)
    await migrate.upgrade(engine)
    await engine.dispose()
    with FakeOpenAI() as model:
        model.add_answer("first answer", prompt_tokens=1000, completion_tokens=500)
        model.add_answer("second answer", prompt_tokens=2000, completion_tokens=100)
        settings = make_settings(database_url=database_url, openai_api_key="sk-test-usage")
        async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
            # provider openai through a base_url: a keyed OpenAI proxy, charged OpenAI's prices
            priced = await create_agent(client, provider="openai", model_id="gpt-4o-mini", base_url=model.url)
            for text in ("one", "two"):
                assert (await client.post(f"/api/v1/agents/{priced}/chat", json={"content": text})).status_code == 200

            async def both_logged() -> dict | None:
                usage = (await client.get(f"/api/v1/agents/{priced}/usage")).json()
                return usage if usage["turns"] == 2 else None

            usage = await eventually(both_logged, what="the usage worker to log both turns")
            assert usage["input_tokens"] == 3000 and usage["output_tokens"] == 600
            # gpt-4o-mini: $0.15 / 1M input, $0.60 / 1M output
            assert usage["cost"] == "0.00081000"

            unpriced = await create_agent(client, provider="openai_compatible", model_id="house-model", base_url=model.url)
            assert (await client.post(f"/api/v1/agents/{unpriced}/chat", json={"content": "x"})).status_code == 200
            usage = await eventually(
                lambda: _turns(client, unpriced, 1), what="the usage of the unpriced model"
            )
            assert usage["cost"] is None and usage["input_tokens"] > 0

            # The same model name on any other OpenAI-compatible server has no known cost.
            for provider in ("openai_compatible", "ollama"):
                model.add_answer("local answer", prompt_tokens=1000, completion_tokens=500)
                local = await create_agent(
                    client, provider=provider, model_id="gpt-4o-mini", base_url=model.url
                )
                answered = await client.post(f"/api/v1/agents/{local}/chat", json={"content": "x"})
                assert answered.status_code == 200
                usage = await eventually(
                    lambda agent=local: _turns(client, agent, 1), what=f"the usage on {provider}"
                )
                assert usage["input_tokens"] == 1000 and usage["cost"] is None, provider

            # The offline demo model is free.
            demo = await create_agent(client)
            answered = await client.post(f"/api/v1/agents/{demo}/chat", json={"content": "x"})
            assert answered.status_code == 200
            usage = await eventually(lambda: _turns(client, demo, 1), what="the usage of the demo model")
            assert usage["input_tokens"] > 0 and Decimal(usage["cost"]) == 0

            assert_json_error(await client.get("/api/v1/agents/nobody/usage"), 404)


async def _turns(client: httpx.AsyncClient, agent_id: str, turns: int) -> dict | None:
    usage = (await client.get(f"/api/v1/agents/{agent_id}/usage")).json()
    return usage if usage["turns"] == turns else None
