"""Turns at the same time at a nearly spent budget: every turn already in flight runs (the
overspend is what those turns cost, no more), the spend recorded is exactly the real usage of
each turn that ran, and once it is counted every later turn is refused without reaching
the model. On both buses (the spend counters live in Redis or in the process) and both
databases."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx

from tests.agents.helpers import assert_error
from tests.billing.conftest import MakeSettings
from tests.billing.helpers import cost, logged_spend, me, priced_agent, spend_reaches, sse_turn
from tests.channels.helpers import eventually
from tests.support.fake_openai import FakeOpenAI
from tests.support.server import running_app
from tests.support.sse import parse_sse

IN_FLIGHT = 8
BUDGET = Decimal("0.0005")
FIRST = cost(1000, 500)  # 0.00045: leaves 0.00005 of the budget


async def test_concurrent_turns_overspend_by_the_turns_in_flight_at_most(settings_on_each_bus: MakeSettings) -> None:
    with FakeOpenAI() as model:
        model.add_answer("first", prompt_tokens=1000, completion_tokens=500)
        for i in range(IN_FLIGHT):  # each a usage of its own; slow enough that all are in flight together
            model.add_answer("one two three four", prompt_tokens=100 * (i + 1), completion_tokens=7 * (i + 3), delay=0.3)
        settings = await settings_on_each_bus()
        async with running_app(settings) as app, httpx.AsyncClient(
            base_url=app.url, timeout=60, headers=app.headers
        ) as client:
            agent = await priced_agent(client, model.url)
            owner = await me(client)
            put = await client.put(f"/api/v1/users/{owner['id']}/budget", json={"max_budget": str(BUDGET)})
            assert put.status_code == 200, put.text
            await sse_turn(client, agent, "first")
            await spend_reaches(client, FIRST)

            wave = await asyncio.gather(*(
                client.post(f"/api/v1/agents/{agent}/chat", json={"content": f"turn {i}", "chat_id": f"c{i}"})
                for i in range(IN_FLIGHT)
            ))
            assert [r.status_code for r in wave] == [200] * IN_FLIGHT, [r.text for r in wave if r.status_code != 200]
            usages = [data for r in wave for name, data in parse_sse(r.text) if name == "usage"]
            assert len(usages) == IN_FLIGHT
            real = FIRST + sum(cost(u["input_tokens"], u["output_tokens"]) for u in usages)

            async def all_logged() -> bool:
                return (await logged_spend(app, user_id=owner["id"]))[0] == 1 + IN_FLIGHT

            await eventually(all_logged, what="every turn's usage to be logged")
            assert (await logged_spend(app, user_id=owner["id"]))[1] == real
            status = await spend_reaches(client, real)
            assert Decimal(status["spend"]) == real  # the counter says what the logs say
            overspend = real - BUDGET
            assert 0 < overspend <= real - FIRST  # at most what the turns in flight cost

            asked = len(model.requests)
            assert asked == 1 + IN_FLIGHT
            late = await asyncio.gather(*(
                client.post(f"/api/v1/agents/{agent}/chat", json={"content": f"late {i}"}) for i in range(IN_FLIGHT)
            ))
            for response in late:
                assert_error(response, 402, "budget_exceeded")
            assert len(model.requests) == asked
            assert (await logged_spend(app, user_id=owner["id"]))[1] == real
