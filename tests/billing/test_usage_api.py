"""Token usage as users read it back: tokens from the model's own response, cost where the
provider charges a known price for the model; each user's own usage by day, agent and model."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx

from agenthub.db.base import utcnow
from tests.agents.helpers import migrated
from tests.billing.helpers import api_key, cost, logged_spend, me, member, priced_agent, sse_turn
from tests.channels.helpers import assert_json_error, create_agent, eventually, turn
from tests.support.fake_openai import FakeOpenAI
from tests.support.server import make_settings, running_app
from tests.support.ws import connect


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


async def test_each_user_reads_their_own_usage_by_day_agent_and_model(database_url: str) -> None:
    await migrated(database_url)
    with FakeOpenAI() as model:
        model.add_answer("streamed over SSE", prompt_tokens=1000, completion_tokens=500)
        model.add_answer("streamed over the socket", prompt_tokens=2000, completion_tokens=100)
        model.add_answer("the member's", prompt_tokens=10, completion_tokens=10)
        model.add_answer("the key's", prompt_tokens=10, completion_tokens=10)
        settings = make_settings(database_url=database_url, openai_api_key="sk-test-usage")
        async with running_app(settings) as app, httpx.AsyncClient(
            base_url=app.url, timeout=30, headers=app.headers
        ) as client:
            owner = await me(client)
            priced = await priced_agent(client, model.url)
            demo = await create_agent(client)
            await sse_turn(client, priced, "one")
            async with connect(app.ws(f"/ws/agents/{priced}")) as socket:
                assert (await turn(socket, "two"))[-1]["type"] == "message"
            await sse_turn(client, demo, "three")
            member_id, member_headers = await member(app, org_id=owner["org_id"])
            await sse_turn(client, priced, "four", headers=member_headers)
            key_id, key_headers = await api_key(app, org_id=owner["org_id"])
            await sse_turn(client, priced, "five", headers=key_headers)

            async def all_logged() -> bool:
                return (await logged_spend(app))[0] == 5

            await eventually(all_logged, what="the five turns to be logged")
            completions = [r for r in model.requests if r.path.endswith("/chat/completions")]
            assert len(completions) == 4 and all(r.body.get("stream") for r in completions)  # streamed answers
            # Whose each turn was: the web user, or the API key.
            assert (await logged_spend(app, user_id=owner["id"]))[0] == 3
            assert (await logged_spend(app, user_id=member_id))[0] == 1
            assert (await logged_spend(app, api_key_id=key_id)) == (1, Decimal("0.00000750"))

            usage = (await client.get("/api/v1/user/usage")).json()
            today = utcnow().date().isoformat()
            # 0.00045 + 0.00036 (gpt-4o-mini), and the free demo model
            assert usage["totals"]["turns"] == 3 and usage["totals"]["cost"] == "0.00081000", usage
            assert usage["totals"]["input_tokens"] == 3000 + usage["by_model"][0]["input_tokens"]
            assert usage["totals"]["total_tokens"] == usage["totals"]["input_tokens"] + usage["totals"]["output_tokens"]
            assert [d["date"] for d in usage["by_day"]] == [today] and usage["by_day"][0]["turns"] == 3
            by_agent = {a["agent_id"]: a for a in usage["by_agent"]}
            assert set(by_agent) == {priced, demo} and by_agent[priced]["cost"] == "0.00081000"
            assert by_agent[priced]["output_tokens"] == 600 and by_agent[demo]["cost"] == "0.00000000"
            assert [m["model"] for m in usage["by_model"]] == ["demo", "gpt-4o-mini"]

            mine = (await client.get("/api/v1/user/usage", headers=member_headers)).json()
            assert mine["totals"]["turns"] == 1 and mine["totals"]["input_tokens"] == 10, mine

            tomorrow = (utcnow().date() + timedelta(days=1)).isoformat()
            later = (await client.get("/api/v1/user/usage", params={"from": tomorrow})).json()
            assert later["totals"]["turns"] == 0 and later["by_day"] == later["by_agent"] == later["by_model"] == []
            until_today = (await client.get("/api/v1/user/usage", params={"from": today, "to": today})).json()
            assert until_today["totals"] == usage["totals"]
            backwards = (await client.get("/api/v1/user/usage", params={"from": tomorrow, "to": today})).json()
            assert backwards["totals"]["turns"] == 0  # an empty range
            for day in ("yesterday", "0", "2026-13-01", "20261206"):
                error = assert_json_error(await client.get("/api/v1/user/usage", params={"from": day}), 422)
                assert error["details"][0]["field"].endswith("from"), error
            # A program has no usage of its own here: its turns are the organisation's (GET /api/v1/usage).
            assert_json_error(await client.get("/api/v1/user/usage", headers=key_headers), 403)



async def test_owners_and_admins_read_the_organisations_usage_over_days(database_url: str) -> None:
    await migrated(database_url)
    with FakeOpenAI() as model:
        model.add_answer("the owner's", prompt_tokens=1000, completion_tokens=500)
        model.add_answer("the member's", prompt_tokens=10, completion_tokens=10)
        model.add_answer("the key's", prompt_tokens=20, completion_tokens=20)
        settings = make_settings(database_url=database_url, openai_api_key="sk-test-usage")
        async with running_app(settings) as app, httpx.AsyncClient(
            base_url=app.url, timeout=30, headers=app.headers
        ) as client:
            owner = await me(client)
            priced = await priced_agent(client, model.url)
            demo = await create_agent(client)
            await sse_turn(client, priced, "one")
            await sse_turn(client, demo, "two")
            member_id, member_headers = await member(app, org_id=owner["org_id"])
            await sse_turn(client, priced, "three", headers=member_headers)
            key_id, key_headers = await api_key(app, org_id=owner["org_id"])
            await sse_turn(client, priced, "four", headers=key_headers)

            async def all_logged() -> bool:
                return (await logged_spend(app))[0] == 4

            await eventually(all_logged, what="the four turns to be logged")
            report = (await client.get("/api/v1/usage/report")).json()
            today = utcnow().date().isoformat()
            mine = (await client.get("/api/v1/user/usage")).json()
            # Every member's, API key's and end user's turns: the owner's two, the member's, the key's.
            assert report["totals"]["turns"] == 4, report
            demo_tokens = mine["by_model"][0]
            assert report["totals"]["input_tokens"] == 1000 + 10 + 20 + demo_tokens["input_tokens"]
            assert Decimal(report["totals"]["cost"]) == cost(1030, 530), report
            assert [d["date"] for d in report["by_day"]] == [today] and report["by_day"][0]["turns"] == 4
            by_agent = {a["agent_id"]: a["turns"] for a in report["by_agent"]}
            assert by_agent == {priced: 3, demo: 1}
            assert [m["model"] for m in report["by_model"]] == ["demo", "gpt-4o-mini"]
            # The same figures as GET /api/v1/usage, which has no days.
            totals = (await client.get("/api/v1/usage")).json()
            assert (totals["turns"], totals["input_tokens"]) == (4, report["totals"]["input_tokens"])

            tomorrow = (utcnow().date() + timedelta(days=1)).isoformat()
            later = (await client.get("/api/v1/usage/report", params={"from": tomorrow})).json()
            assert later["totals"]["turns"] == 0 and later["by_day"] == later["by_agent"] == later["by_model"] == []
            assert (await client.get("/api/v1/usage/report", params={"to": today})).json()["totals"] == report["totals"]
            error = assert_json_error(await client.get("/api/v1/usage/report", params={"to": "tomorrow"}), 422)
            assert error["details"][0]["field"].endswith("to"), error

            # A member, an API key: 403; another organisation sees only its own (nothing here).
            assert_json_error(await client.get("/api/v1/usage/report", headers=member_headers), 403)
            assert_json_error(await client.get("/api/v1/usage/report", headers=key_headers), 403)
            admin_id, admin_headers = await member(app, org_id=owner["org_id"], role="admin")
            assert (await client.get("/api/v1/usage/report", headers=admin_headers)).json() == report
            registered = await client.post(
                "/api/v1/auth/register", json={"email": "elsewhere@example.com", "password": "a-good-password-1"}
            )
            elsewhere = {"Authorization": f"Bearer {registered.json()['access_token']}"}
            theirs = (await client.get("/api/v1/usage/report", headers=elsewhere)).json()
            assert theirs["totals"]["turns"] == 0 and theirs["by_agent"] == []
            assert member_id and key_id and admin_id
