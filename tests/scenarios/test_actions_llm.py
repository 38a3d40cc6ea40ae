"""``llm`` groups: the bot asks an LLM agent of its organisation through the gateway, as the
scenario message's sender, and gets its answer; refusals and failures are error results."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from agenthub.bus import open_bus
from agenthub.channels.scenario_ask import GatewayAsker
from agenthub.scenarios.actions.asks import BusAsker
from agenthub.scenarios.actions.base import ActionDeps
from agenthub.scenarios.actions.llm import LateAsker
from agenthub.scenarios.actions.registry import run_action
from agenthub.scenarios.variables import Scopes
from tests.agents.helpers import agent_body, client_for
from tests.scenarios.action_helpers import call, deps
from tests.support.accounts import user_id
from tests.support.fake_openai import FakeOpenAI
from tests.support.server import RunningApp


@pytest.fixture
def model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def llm(agent: str, prompt: str) -> dict[str, Any]:
    return {"search_type": "llm", "llm": {"agent_id": agent, "prompt": prompt}}


async def make_agent(client: httpx.AsyncClient, model: FakeOpenAI, handle: str, **settings: Any) -> None:
    body = agent_body(id=handle, settings={"provider": "openai_compatible", "model_id": "m", "base_url": model.url,
                                           **settings})
    response = await client.post("/api/v1/agents", json=body)
    assert response.status_code == 201, response.text


def asking(app: RunningApp) -> ActionDeps:
    state = app.app.state
    asker = GatewayAsker(gateway=state.gateway, agents=state.agent_directory, sessions=state.session_factory)
    return deps(settings=app.settings, sessions=state.session_factory, ask_agent=LateAsker(asker))


def message(**sender: Any) -> dict[str, Any]:
    return {"text": "hi", "agent_id": "pizza-bot", "chat_id": "c1", "channel": "web", "org_id": "default", **sender}


async def test_an_llm_step_gets_the_agent_s_answer_as_the_sender(sqlite_url: str, model: FakeOpenAI) -> None:
    async with client_for(sqlite_url, outbound_allowlist="127.0.0.1") as (app, client):
        await make_agent(client, model, "helper")
        owner = await user_id(app, app.token)
        model.add_answer("Margherita, of course")
        scopes = Scopes(session={"dish": "pizza"}, message={"text": "hi"})
        result = await run_action(
            call(llm("helper", "Suggest a {$session.dish$}"), scopes=scopes,
                 message=message(user_id=owner, platform_user_id=owner)),
            asking(app),
        )
        assert result == {"text": "Margherita, of course"}
        asked = model.requests[-1].body["messages"]
        assert asked[-1] == {"role": "user", "content": "Suggest a pizza"}


async def test_refusals_and_failures_are_error_results(sqlite_url: str, model: FakeOpenAI) -> None:
    async with client_for(sqlite_url, outbound_allowlist="127.0.0.1") as (app, client):
        await make_agent(client, model, "helper")
        owner = await user_id(app, app.token)
        as_owner = message(user_id=owner, platform_user_id=owner)
        unknown = await run_action(call(llm("nobody", "hi"), message=as_owner), asking(app))
        assert unknown == {"error": "agent 'nobody': agent 'nobody' not found"}
        # An anonymous visitor of a public bot reaches only public agents.
        anonymous = await run_action(call(llm("helper", "hi"), message=message(platform_user_id="anonymous:1.2.3.4")),
                                     asking(app))
        assert anonymous["error"].startswith("agent 'helper': log in first")
        model.add_error(status=400, message="the model broke")
        failed = await run_action(call(llm("helper", "hi"), message=as_owner), asking(app))
        assert failed == {"error": "agent 'helper': The model provider answered with an error (HTTP 400)."}
        empty = await run_action(call(llm("helper", "{$session.none$}"), message=as_owner), asking(app))
        assert empty == {"error": "the prompt is empty"}
        # An agent open only to the senders on its list refuses the others.
        await make_agent(client, model, "listed", access="authorized")
        unlisted = await run_action(call(llm("listed", "hi"), message=as_owner), asking(app))
        assert unlisted["error"].startswith("agent 'listed': you are not authorised to chat with agent")


async def test_a_public_agent_answers_an_anonymous_sender(sqlite_url: str, model: FakeOpenAI) -> None:
    async with client_for(sqlite_url, outbound_allowlist="127.0.0.1") as (app, client):
        await make_agent(client, model, "open", access="public")
        model.add_answer("hello stranger")
        visitor = message(platform_user_id="anonymous:1.2.3.4", user_id="web:anonymous:1.2.3.4")  # billed as an end user
        result = await run_action(call(llm("open", "hi"), message=visitor), asking(app))
        assert result == {"text": "hello stranger"}


async def test_without_an_asker_an_llm_step_is_an_error() -> None:
    assert await run_action(call(llm("helper", "hi")), deps()) == {
        "error": "LLM steps cannot ask an agent from this process"
    }
    unbound = await run_action(call(llm("helper", "hi")), deps(ask_agent=LateAsker()))
    assert unbound == {"error": "agent 'helper': LLM steps cannot ask an agent from this process"}


@pytest.mark.redis
async def test_a_runner_s_question_is_relayed_to_a_gateway_over_redis(
    sqlite_url: str, model: FakeOpenAI, redis_server_url: str, redis_prefix: str
) -> None:
    """A bot hosted in a runner or worker asks through the bus; a gateway's relay asks the agent."""
    async with client_for(sqlite_url, outbound_allowlist="127.0.0.1", redis_url=redis_server_url,
                          redis_prefix=redis_prefix) as (app, client):
        await make_agent(client, model, "helper")
        owner = await user_id(app, app.token)
        model.add_answer("relayed answer")
        bus = open_bus(redis_server_url, prefix=redis_prefix)  # the runner's own connection
        try:
            over_bus = deps(settings=app.settings, ask_agent=BusAsker(bus, timeout=30))
            as_owner = message(user_id=owner, platform_user_id=owner)
            assert await run_action(call(llm("helper", "hi"), message=as_owner), over_bus) == {"text": "relayed answer"}
            unknown = await run_action(call(llm("nobody", "hi"), message=as_owner), over_bus)
            assert unknown == {"error": "agent 'nobody': agent 'nobody' not found"}
        finally:
            await bus.close()
    # With no gateway left, a question times out as an error result.
    bus = open_bus(redis_server_url, prefix=redis_prefix + "gone:")
    try:
        nobody_listens = deps(ask_agent=BusAsker(bus, timeout=0.5))
        result = await run_action(call(llm("helper", "hi"), message=as_owner), nobody_listens)
        assert result == {"error": "agent 'helper': timeout: no gateway answered within 0.5 s"}
    finally:
        await bus.close()
