"""Long-term memory as users notice it, through the real app and a fake model server that
scripts tool calls: a fact stored in core memory is in the agent's context after a restart,
two users of one agent keep apart, and a long chat is summarised without losing its turns.
On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from tests.agents.helpers import chat, client_for
from tests.support.accounts import bearer, user_id, user_token
from tests.support.fake_openai import FakeOpenAI
from tests.support.server import RunningApp
from tests.support.sse import parse_sse

MEMORY_TOOLS = ["core_memory_append", "core_memory_replace", "archival_memory_insert", "conversation_search"]


@asynccontextmanager
async def hub(database_url: str) -> AsyncIterator[tuple[RunningApp, httpx.AsyncClient]]:
    async with client_for(database_url) as (app, client):
        yield app, client


async def _create(client: httpx.AsyncClient, model: FakeOpenAI, **settings: Any) -> None:
    created = await client.post("/api/v1/agents", json={"id": "mem", "name": "Memory", "settings": {
        "provider": "openai_compatible", "model_id": "m", "base_url": model.url, "system_prompt": "You help.",
        "tools": MEMORY_TOOLS, **settings,
    }})
    assert created.status_code == 201, created.text


def _system(request_body: dict[str, Any]) -> str:
    return "\n".join(m["content"] for m in request_body["messages"] if m["role"] == "system")


async def _billed(client: httpx.AsyncClient, text: str) -> int:
    """One turn in the chat ``long``; the input tokens billed for it."""
    response = await client.post("/api/v1/agents/mem/chat", json={"content": text, "chat_id": "long"})
    assert response.status_code == 200, response.text
    usage = [data for name, data in parse_sse(response.text) if name == "usage"]
    return int(usage[0]["input_tokens"])


def _chats(model: FakeOpenAI) -> list[dict[str, Any]]:
    return [r.body for r in model.requests if r.path.endswith("/chat/completions")]


async def test_a_fact_stored_in_core_memory_is_in_the_context_after_a_restart(database_url: str) -> None:
    with FakeOpenAI() as model:
        async with hub(database_url) as (_, client):
            await _create(client, model)
            model.add_tool_call("core_memory_append", {"label": "human", "content": "Ada is allergic to peanuts."})
            model.add_answer("I'll remember that.")
            answer = await chat(client, "mem", "Remember: I am allergic to peanuts.", chat_id="first")
            assert answer["content"] == "I'll remember that."
            tool_result = [m for m in _chats(model)[-1]["messages"] if m["role"] == "tool"]
            assert tool_result[0]["content"].startswith("appended to human")

        async with hub(database_url) as (_, client):  # a new app on the same database: nothing in memory
            model.add_answer("No peanuts for you.")
            await chat(client, "mem", "What should I avoid eating?", chat_id="second")
            system = _system(_chats(model)[-1])
            assert system.startswith("You help.")
            assert "Ada is allergic to peanuts." in system and "<human" in system and "/2000" in system
            memory = (await client.get("/api/v1/agents/mem/memory")).json()
            assert {"label": "human", "value": "Ada is allergic to peanuts.", "limit": 2000} in memory["blocks"]


async def test_two_users_of_one_agent_never_see_each_others_memory(database_url: str) -> None:
    with FakeOpenAI() as model:
        async with hub(database_url) as (app, owner):
            await _create(client=owner, model=model)
            bob_token = await user_token(app, "bob@example.com")
            bob_id = await user_id(app, bob_token)
            async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=bearer(bob_token)) as bob:
                model.add_tool_call("core_memory_append", {"label": "human", "content": "Bob's cat is Pixel."})
                model.add_answer("Nice cat.")
                await chat(bob, "mem", "My cat is called Pixel.")
                model.add_tool_call("archival_memory_insert", {"content": "Bob's bank PIN hint: blue door."})
                model.add_answer("Stored.")
                await chat(bob, "mem", "Keep my PIN hint: blue door.")

                model.add_tool_call("conversation_search", {"query": "Pixel cat"})
                model.add_answer("I know nothing of a cat.")
                await chat(owner, "mem", "What is my cat called?")
                requests = _chats(model)
                assert "Pixel" not in _system(requests[-2])  # the owner's memory, not Bob's
                assert "Bob" not in json.dumps(requests[-1]["messages"][-1])  # the search found none of Bob's turns
                assert requests[-1]["messages"][-1]["content"] == "nothing found in past conversations"

                mine = (await owner.get("/api/v1/agents/mem/memory")).json()
                assert all("Pixel" not in block["value"] for block in mine["blocks"])
                his = (await bob.get("/api/v1/agents/mem/memory")).json()
                assert any(block["value"] == "Bob's cat is Pixel." for block in his["blocks"])
                # The owner may look at Bob's memory; Bob may not look at the owner's.
                seen = (await owner.get("/api/v1/agents/mem/memory", params={"user_id": bob_id})).json()
                assert seen == his
                me = (await owner.get("/api/v1/auth/me")).json()["id"]
                refused = await bob.get("/api/v1/agents/mem/memory", params={"user_id": me})
                assert refused.status_code == 403, refused.text


async def test_a_long_chat_is_summarised_and_its_old_turns_stay_searchable(database_url: str) -> None:
    def responder(body: dict[str, Any]) -> str | dict[str, Any] | None:
        system = _system(body)
        if system.startswith("Summarise this conversation"):
            return {"text": "SUMMARY: the user's project is code-named Heron.", "prompt_tokens": 5000}
        return None

    with FakeOpenAI(responder=responder) as model:
        async with hub(database_url) as (_, client):
            await _create(client, model, context_budget_tokens=500)  # about 2000 characters
            padding = " ".join(["lorem"] * 100)  # ~600 characters a message
            await chat(client, "mem", f"My project is code-named Heron. {padding}", chat_id="long")
            billed = [await _billed(client, f"Turn {n}. {padding}") for n in range(4)]
            summarised = [b for b in _chats(model) if _system(b).startswith("Summarise this conversation")]
            # each summary's call is billed with the turn that made it
            assert summarised and sum(1 for tokens in billed if tokens >= 5000) == len(summarised)
            assert "code-named Heron" in summarised[0]["messages"][-1]["content"]
            last = _chats(model)[-1]
            assert "SUMMARY: the user's project is code-named Heron." in _system(last)
            said = [m["content"] for m in last["messages"] if m["role"] != "system"]
            assert not any("code-named Heron" in text for text in said)  # the turn itself left the context
            assert sum(len(text) for text in said) <= 2000 + 700

            model.add_tool_call("conversation_search", {"query": "code-named"})
            model.add_answer("It is Heron.")
            await chat(client, "mem", "What was my project called?", chat_id="long")
            tool_result = [m for m in _chats(model)[-1]["messages"] if m["role"] == "tool"][-1]["content"]
            assert "My project is code-named Heron." in tool_result


async def test_when_no_summary_can_be_made_the_turns_stay_in_the_context(sqlite_url: str) -> None:
    def responder(body: dict[str, Any]) -> str | dict[str, Any] | None:
        if _system(body).startswith("Summarise this conversation"):
            return {"status": 500, "message": "summariser down"}
        return None

    with FakeOpenAI(responder=responder) as model:
        async with hub(sqlite_url) as (_, client):
            await _create(client, model, context_budget_tokens=500)
            padding = " ".join(["lorem"] * 100)
            await chat(client, "mem", f"The first thing I said. {padding}", chat_id="long")
            for n in range(4):
                answer = await chat(client, "mem", f"Turn {n}. {padding}", chat_id="long")
                assert answer["content"].startswith("echo: Turn")
            said = [m["content"] for m in _chats(model)[-1]["messages"] if m["role"] == "user"]
            assert said[0].startswith("The first thing I said.") and len(said) == 5


async def test_a_visitor_without_an_account_has_a_memory_of_their_own(sqlite_url: str) -> None:
    with FakeOpenAI() as model:
        async with hub(sqlite_url) as (app, owner):
            await _create(owner, model, access="public")
            async with httpx.AsyncClient(base_url=app.url, timeout=20) as visitor:
                model.add_tool_call("core_memory_append", {"label": "human", "content": "Visitor from Oslo."})
                model.add_answer("Welcome.")
                await chat(visitor, "mem", "Hi, I'm writing from Oslo.", user_data={"user_id": "someone-else"})
            visitor_key = "web:anonymous:127.0.0.1"  # the platform user of an anonymous visitor
            theirs = (await owner.get("/api/v1/agents/mem/memory", params={"user_id": visitor_key})).json()
            assert {"label": "human", "value": "Visitor from Oslo.", "limit": 2000} in theirs["blocks"]
            for whose in ({}, {"user_id": "someone-else"}):  # user_data chose no one
                blocks = (await owner.get("/api/v1/agents/mem/memory", params=whose)).json()["blocks"]
                assert all("Oslo" not in block["value"] for block in blocks)
