"""Budgets that hold: at 100 % a turn is refused before anything reaches the model (402 before
any SSE stream, an ``error`` event on the WebSocket), whoever asks: the owner, an API key, an
end user with the default budget. A new period lets turns through again."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import update

from agenthub.billing.models import Budget
from agenthub.db.base import utcnow
from agenthub.db.engine import session_scope
from tests.agents.helpers import assert_error, chat
from tests.billing.conftest import MakeSettings
from tests.billing.helpers import (
    api_key,
    budget,
    cost,
    logged_spend,
    me,
    member,
    priced_agent,
    spend_reaches,
    sse_turn,
)
from tests.channels.helpers import chat_messages, eventually, turn
from tests.support.fake_openai import FakeOpenAI
from tests.support.server import running_app
from tests.support.ws import connect

FIRST = cost(1000, 500)  # 0.00045 USD


async def test_a_spent_budget_refuses_the_next_turn_before_the_model_is_called(
    settings_on_each_bus: MakeSettings,
) -> None:
    with FakeOpenAI() as model:
        model.add_answer("first answer", prompt_tokens=1000, completion_tokens=500)
        settings = await settings_on_each_bus()
        async with running_app(settings) as app, httpx.AsyncClient(
            base_url=app.url, timeout=30, headers=app.headers
        ) as client:
            agent = await priced_agent(client, model.url)
            owner = await me(client)
            # The owner too: no role is exempt.
            response = await client.put(f"/api/v1/users/{owner['id']}/budget", json={"max_budget": "0.0004"})
            assert response.status_code == 200, response.text
            await chat(client, agent, "one")  # 0 spent: allowed, and costs more than the budget
            await spend_reaches(client, FIRST)
            asked = len(model.requests)

            refused = await client.post(f"/api/v1/agents/{agent}/chat", json={"content": "two", "chat_id": "c2"})
            error = assert_error(refused, 402, "budget_exceeded")
            assert "0.00045000 of 0.00040000" in error["message"]
            async with connect(app.ws(f"/ws/agents/{agent}")) as socket:
                events = await turn(socket, "three")
                assert [e["type"] for e in events] == ["error"], events
                assert events[0]["code"] == "budget_exceeded"
                # The connection stays open: a raised budget lets the next message through.
                raised = await client.put(f"/api/v1/users/{owner['id']}/budget", json={"max_budget": 1})
                assert raised.json()["remaining"] == "0.99955000", raised.text
                events = await turn(socket, "four")
                assert events[-1]["type"] == "message", events
            assert len(model.requests) == asked + 1  # only "four" reached the model
            assert await chat_messages(client, agent, "c2") == []  # the refused message was not kept


async def test_a_new_period_lets_turns_through_again(embedded_settings: MakeSettings) -> None:
    with FakeOpenAI() as model:
        model.add_answer("first answer", prompt_tokens=1000, completion_tokens=500)
        settings = await embedded_settings()
        async with running_app(settings) as app, httpx.AsyncClient(
            base_url=app.url, timeout=30, headers=app.headers
        ) as client:
            agent = await priced_agent(client, model.url)
            owner = await me(client)
            body = {"max_budget": "0.0004", "budget_duration": "1d"}
            assert (await client.put(f"/api/v1/users/{owner['id']}/budget", json=body)).status_code == 200
            await chat(client, agent, "one")
            await spend_reaches(client, FIRST)
            assert_error(await client.post(f"/api/v1/agents/{agent}/chat", json={"content": "two"}), 402)

            # Had the budget been set a day ago, its second period would start now.
            async with session_scope(app.app.state.session_factory) as session:
                await session.execute(
                    update(Budget).where(Budget.subject_id == owner["id"])
                    .values(period_started_at=utcnow() - timedelta(days=1))
                )
            app.app.state.budgets.forget()  # as a change through the API does (other processes: within 5 s)
            status = await budget(client)
            assert status["spend"] == "0.00000000" and status["remaining"] == "0.00040000", status
            assert 24 * 3600 - 60 < (_parse(status["resets_at"]) - utcnow()).total_seconds() <= 24 * 3600
            await chat(client, agent, "three")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_an_api_key_and_the_organisation_have_budgets_of_their_own(embedded_settings: MakeSettings) -> None:
    with FakeOpenAI() as model:
        for _ in range(3):
            model.add_answer("answer", prompt_tokens=1000, completion_tokens=500)
        settings = await embedded_settings()
        async with running_app(settings) as app, httpx.AsyncClient(
            base_url=app.url, timeout=30, headers=app.headers
        ) as client:
            agent = await priced_agent(client, model.url)
            owner = await me(client)
            key_id, key_headers = await api_key(app, org_id=owner["org_id"])
            budget = await client.put(f"/api/v1/api-keys/{key_id}/budget", json={"max_budget": "0.0001"})
            assert budget.status_code == 200, budget.text
            await sse_turn(client, agent, "by the key", headers=key_headers)
            await spend_reaches(client, FIRST, headers=key_headers)
            refused = await client.post(f"/api/v1/agents/{agent}/chat", json={"content": "x"}, headers=key_headers)
            assert_error(refused, 402, "budget_exceeded")
            assert "API key's budget" in refused.json()["error"]["message"]
            await chat(client, agent, "the owner has no budget of their own")

            async def both_logged() -> bool:  # a turn counts in the periods going on when it is stored
                return (await logged_spend(app))[0] == 2

            await eventually(both_logged, what="both turns to be logged")

            # The organisation's budget counts every turn from when it is set, and holds for
            # everyone in it: its users, its API keys.
            org_budget = await client.put(f"/api/v1/orgs/{owner['org_id']}/budget", json={"max_budget": "0.0004"})
            assert org_budget.json()["spend"] == "0.00000000", org_budget.text
            await sse_turn(client, agent, "the last one")
            org_budget_url = f"/api/v1/orgs/{owner['org_id']}/budget"
            await eventually(lambda: _org_spend_reaches(client, org_budget_url, FIRST), what="the org's spend")
            for headers in (app.headers, key_headers, (await member(app, org_id=owner["org_id"]))[1]):
                refused = await client.post(f"/api/v1/agents/{agent}/chat", json={"content": "x"}, headers=headers)
                assert_error(refused, 402, "budget_exceeded")
                assert "organisation's budget" in refused.json()["error"]["message"]
            assert len(model.requests) == 3


async def _org_spend_reaches(client: httpx.AsyncClient, url: str, amount: Decimal) -> bool:
    return Decimal((await client.get(url)).json()["spend"]) >= amount


async def test_users_without_a_budget_of_their_own_have_the_default(embedded_settings: MakeSettings) -> None:
    with FakeOpenAI() as model:
        model.add_answer("answer", prompt_tokens=1000, completion_tokens=500)
        settings = await embedded_settings(user_default_budget="0.0004", user_budget_duration="1w")
        async with running_app(settings) as app, httpx.AsyncClient(
            base_url=app.url, timeout=30, headers=app.headers
        ) as client:
            agent = await priced_agent(client, model.url)
            status = await budget(client)
            assert status["scope"] == "user" and status["max_budget"] == "0.00040000", status
            assert status["budget_duration"] == "1w" and _parse(status["resets_at"]).weekday() == 0  # a Monday
            await chat(client, agent, "one")
            await spend_reaches(client, FIRST)
            assert_error(await client.post(f"/api/v1/agents/{agent}/chat", json={"content": "x"}), 402)
            # Another user has a default budget of their own, untouched.
            _, headers = await member(app, org_id=(await me(client))["org_id"])
            other = await budget(client, headers=headers)
            assert other["spend"] == "0.00000000" and other["max_budget"] == "0.00040000", other
