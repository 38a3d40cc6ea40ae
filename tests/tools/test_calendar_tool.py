"""The ``calendar`` tool: an agent creates, lists and deletes the events of the user it talks
to, which the calendar routes show as theirs (running that agent); without a signed-in user
the model is told there is no calendar."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from agenthub.config import Settings
from agenthub.outbound.guard import OutboundGuard
from agenthub.tools.base import ToolContext, ToolDeps
from agenthub.tools.registry import ToolRegistry
from tests.agents.helpers import chat, client_for
from tests.scheduler.helpers import add_channel, deliveries, eventually, iso
from tests.support.fake_openai import FakeOpenAI

EVENTS = "/api/v1/calendar/events"


async def test_an_agent_creates_lists_and_deletes_the_users_events(sqlite_url: str) -> None:
    with FakeOpenAI() as model:
        async with client_for(sqlite_url) as (_app, client):
            body = {
                "name": "Planner",
                "settings": {
                    "provider": "openai_compatible", "model_id": "m", "base_url": model.url,
                    "system_prompt": "Plan.", "tools": ["calendar"],
                },
            }
            created = await client.post("/api/v1/agents", json=body)
            assert created.status_code == 201, created.text
            agent_id = created.json()["id"]

            model.add_tool_call("calendar", {
                "action": "create", "title": "Morning brief", "prompt": "What is on today?",
                "start_at": "2030-03-01T09:00:00", "timezone": "Europe/Berlin", "cron": "0 9 * * *",
            })
            model.add_answer("Done: every day at 9.")
            message = await chat(client, agent_id, "Brief me every morning at 9")
            assert message["content"] == "Done: every day at 9."
            assert message["tool_calls"][0]["result"].startswith("Created: ")

            (event,) = (await client.get(EVENTS)).json()["items"]
            assert event["title"] == "Morning brief" and event["agent_id"] == agent_id
            assert event["cron"] == "0 9 * * *" and event["next_run_at"] == "2030-03-01T08:00:00Z"

            model.add_tool_call("calendar", {"action": "list"})
            model.add_answer("You have one event.")
            listed = (await chat(client, agent_id, "What is on my calendar?"))["tool_calls"][0]["result"]
            assert json.loads(listed)[0]["event_id"] == event["id"]

            model.add_tool_call("calendar", {"action": "delete", "event_id": event["id"]})
            model.add_answer("Deleted.")
            deleted = (await chat(client, agent_id, "Cancel it"))["tool_calls"][0]["result"]
            assert deleted == f"Deleted event {event['id']}."
            assert (await client.get(EVENTS)).json()["items"] == []

            # Mistakes come back to the model as errors it can act on.
            model.add_tool_call("calendar", {"action": "delete", "event_id": event["id"]})
            model.add_answer("It was gone already.")
            gone = (await chat(client, agent_id, "Cancel it again"))["tool_calls"][0]["result"]
            assert gone == f"error: event {event['id']!r} not found"
            model.add_tool_call("calendar", {"action": "create", "title": "x", "prompt": "y", "start_at": "soon"})
            model.add_answer("Which date?")
            bad = (await chat(client, agent_id, "Remind me soon"))["tool_calls"][0]["result"]
            assert bad.startswith("error: start_at: ")


async def test_an_anonymous_caller_has_no_calendar() -> None:
    deps = ToolDeps(settings=Settings(_env_file=None), sessions=None, guard=OutboundGuard())  # type: ignore[arg-type]
    context = ToolContext(org_id="default", agent_id="a1", agent_settings={}, chat_id="c1", message={})
    toolset = await ToolRegistry(deps).open({"tools": ["calendar"]}, context)

    text, ok = await toolset.call("calendar", {"action": "list"}, context)

    assert not ok and text == "error: the calendar is for signed-in users: this conversation has none"


async def test_an_event_the_agent_created_runs_it_and_notifies_the_user(sqlite_url: str) -> None:
    with FakeOpenAI() as model:
        async with client_for(sqlite_url, scheduler_interval=0.2) as (app, client):
            me = (await client.get("/api/v1/auth/me")).json()
            await add_channel(app.app.state.session_factory, org_id=me["org_id"], user_id=me["id"])
            created = await client.post("/api/v1/agents", json={
                "name": "Planner", "settings": {
                    "provider": "openai_compatible", "model_id": "m", "base_url": model.url,
                    "system_prompt": "Plan.", "tools": ["calendar"],
                },
            })
            agent_id = created.json()["id"]
            model.add_tool_call("calendar", {
                "action": "create", "title": "Stretch", "prompt": "Remind me to stretch", "start_at": iso(datetime.now(UTC)),
            })
            model.add_answer("Scheduled.")
            model.add_answer("Time to stretch!")  # the event's run
            await chat(client, agent_id, "Remind me to stretch now")
            (event,) = (await client.get(EVENTS)).json()["items"]

            sent = await eventually(lambda: deliveries(app.app.state.session_factory, event["id"]))
            assert sent[0].subject == "Stretch" and sent[0].body == "Time to stretch!"
            run = model.requests[-1].body["messages"]
            assert run[-1] == {"role": "user", "content": "Remind me to stretch"}
