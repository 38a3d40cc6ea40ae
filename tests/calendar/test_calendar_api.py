"""The calendar routes against the real app: create, read, change and delete events; every
refusal a clear JSON error; events are their user's alone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.agents.helpers import agent_body, assert_error, client_for
from tests.scheduler.helpers import add_channel

EVENTS = "/api/v1/calendar/events"


def event_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Morning brief", "agent_id": "helper", "prompt": "What is on today?",
        "start_at": "2030-03-01T09:00:00", "timezone": "Europe/Berlin",
    }
    body.update(overrides)
    return body


async def _member(client: httpx.AsyncClient, base_url: str) -> httpx.AsyncClient:
    """A second user of the owner's organisation, logged in."""
    me = (await client.get("/api/v1/auth/me")).json()
    email = f"member-{uuid.uuid4().hex[:6]}@example.com"
    created = await client.post(
        f"/api/v1/orgs/{me['org_id']}/members", json={"email": email, "password": "member-password-1", "role": "member"}
    )
    assert created.status_code == 201, created.text
    async with httpx.AsyncClient(base_url=base_url, timeout=20) as anonymous:
        token = (await anonymous.post(
            "/api/v1/auth/login", json={"email": email, "password": "member-password-1"}
        )).json()["access_token"]
    return httpx.AsyncClient(base_url=base_url, timeout=20, headers={"Authorization": f"Bearer {token}"})


async def test_an_event_is_created_read_changed_and_deleted(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_app, client):
        assert (await client.post("/api/v1/agents", json=agent_body(id="helper"))).status_code == 201
        created = await client.post(EVENTS, json=event_body())
        assert created.status_code == 201, created.text
        event = created.json()
        # 09:00 in Berlin on 1 March (winter time, UTC+1) is 08:00 UTC; once: it runs then.
        assert event["agent_id"] == "helper"
        assert event["start_at"] == event["next_run_at"] == "2030-03-01T08:00:00Z"
        assert event["cron"] is None and event["missed"] == "run_once" and event["enabled"] is True
        assert event["last_run_at"] is None

        assert (await client.get(f"{EVENTS}/{event['id']}")).json() == event
        listed = (await client.get(EVENTS)).json()
        assert listed["total"] == 1 and listed["items"] == [event]

        # Daily at 09:00 Berlin time from 1 March: 08:00 UTC until the clocks change on
        # 31 March 2030, 07:00 UTC after.
        changed = await client.patch(f"{EVENTS}/{event['id']}", json={"cron": "0 9 * * *", "title": "Daily brief"})
        assert changed.status_code == 200, changed.text
        assert changed.json()["title"] == "Daily brief"
        assert changed.json()["next_run_at"] == "2030-03-01T08:00:00Z"
        summer = await client.patch(f"{EVENTS}/{event['id']}", json={"start_at": "2030-04-01T00:00:00+02:00"})
        assert summer.json()["next_run_at"] == "2030-04-01T07:00:00Z"
        paused = await client.patch(f"{EVENTS}/{event['id']}", json={"enabled": False})
        assert paused.json()["enabled"] is False and paused.json()["next_run_at"] is None
        once = await client.patch(f"{EVENTS}/{event['id']}", json={"enabled": True, "cron": None})
        assert once.json()["cron"] is None and once.json()["next_run_at"] == "2030-03-31T22:00:00Z"

        assert (await client.delete(f"{EVENTS}/{event['id']}")).status_code == 204
        assert_error(await client.get(f"{EVENTS}/{event['id']}"), 404, "not_found")
        assert (await client.get(EVENTS)).json() == {"items": [], "total": 0}


async def test_a_recurring_event_starting_in_the_past_runs_next_from_now(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_app, client):
        assert (await client.post("/api/v1/agents", json=agent_body(id="helper"))).status_code == 201
        body = event_body(start_at="2020-01-01T00:00:00Z", timezone="UTC", cron="0 12 * * *", missed="skip")
        event = (await client.post(EVENTS, json=body)).json()
        next_run = datetime.fromisoformat(event["next_run_at"])
        now = datetime.now(UTC)
        assert now < next_run <= now + timedelta(days=1) and next_run.hour == 12 and next_run.minute == 0


async def test_bad_input_is_refused_with_the_field_named(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_app, client):
        assert (await client.post("/api/v1/agents", json=agent_body(id="helper"))).status_code == 201
        cases = {
            "timezone": event_body(timezone="Mars/Olympus"),
            "cron": event_body(cron="every day at nine"),
            "start_at": event_body(start_at="tomorrow morning"),
            "missed": event_body(missed="twice"),
            "title": event_body(title="   "),
        }
        for field, body in cases.items():
            error = assert_error(await client.post(EVENTS, json=body), 422)
            assert any(d["field"].endswith(field) for d in error["details"]), (field, error)
        assert_error(await client.post(EVENTS, json=event_body(agent_id="nobody-here")), 404, "not_found")
        assert_error(await client.post(EVENTS, json=event_body(channels=["pigeon"])), 404, "not_found")
        assert_error(await client.post(EVENTS, json=event_body(start_at="1900-01-01T00:00:00Z")), 422)
        never = assert_error(await client.post(EVENTS, json=event_body(cron="0 0 30 2 *")), 422)
        assert "never" in never["message"]
        assert_error(await client.post(EVENTS, json={**event_body(), "colour": "red"}), 422)
        assert_error(await client.post(EVENTS, content=b"{not json", headers={"Content-Type": "application/json"}), 400)
        event = (await client.post(EVENTS, json=event_body())).json()
        kept = await client.patch(f"{EVENTS}/{event['id']}", json={"title": None, "missed": None})
        assert kept.status_code == 200 and kept.json()["title"] == event["title"]  # null keeps a field
        assert_error(await client.patch(f"{EVENTS}/{event['id']}", json={"timezone": "Nowhere"}), 422)
        after = (await client.get(f"{EVENTS}/{event['id']}")).json()
        assert {**after, "updated_at": None} == {**event, "updated_at": None}  # nothing changed


async def test_events_are_their_users_own(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, owner):
        assert (await owner.post("/api/v1/agents", json=agent_body(id="helper"))).status_code == 201
        mine = (await owner.post(EVENTS, json=event_body())).json()
        async with await _member(owner, app.url) as member:
            assert (await member.get(EVENTS)).json() == {"items": [], "total": 0}
            for method in ("GET", "PATCH", "DELETE"):
                kwargs: dict[str, Any] = {"json": {"title": "mine now"}} if method == "PATCH" else {}
                assert_error(await member.request(method, f"{EVENTS}/{mine['id']}", **kwargs), 404, "not_found")
            theirs = await member.post(EVENTS, json=event_body(title="Member's"))
            assert theirs.status_code == 201, theirs.text
        assert [e["id"] for e in (await owner.get(EVENTS)).json()["items"]] == [mine["id"]]
        key = (await owner.post("/api/v1/api-keys", json={"name": "a program"})).json()["key"]
        async with httpx.AsyncClient(base_url=app.url, headers={"Authorization": f"Bearer {key}"}) as program:
            assert_error(await program.post(EVENTS, json=event_body()), 403, "forbidden")
            assert_error(await program.get(EVENTS), 403, "forbidden")
        async with httpx.AsyncClient(base_url=app.url) as anonymous:
            assert_error(await anonymous.get(EVENTS), 401, "unauthorized")


async def test_an_event_names_only_an_agent_its_user_may_chat_with(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, owner):
        body = agent_body(id="vip", settings={"access": "authorized"})
        assert (await owner.post("/api/v1/agents", json=body)).status_code == 201
        async with await _member(owner, app.url) as member:
            refused = await member.post(EVENTS, json=event_body(agent_id="vip"))
            assert_error(refused, 403, "forbidden")
        me = (await owner.get("/api/v1/auth/me")).json()
        granted = await owner.post(
            "/api/v1/agents/vip/authorizations", json={"channel": "web", "platform_user_id": me["id"]}
        )
        assert granted.status_code == 201, granted.text
        assert (await owner.post(EVENTS, json=event_body(agent_id="vip"))).status_code == 201


async def test_an_event_moves_to_another_agent_and_an_unknown_one_is_404(sqlite_url: str) -> None:
    # On SQLite (one connection) the agent check must not wait for the connection the update holds.
    async with client_for(sqlite_url) as (_app, client):
        for handle in ("helper", "other"):
            assert (await client.post("/api/v1/agents", json=agent_body(id=handle))).status_code == 201
        event = (await client.post(EVENTS, json=event_body())).json()

        moved = await client.patch(f"{EVENTS}/{event['id']}", json={"agent_id": "other"})
        assert moved.status_code == 200, moved.text
        assert moved.json()["agent_id"] == "other"
        assert_error(await client.patch(f"{EVENTS}/{event['id']}", json={"agent_id": "nosuch"}), 404, "not_found")
        assert (await client.get(f"{EVENTS}/{event['id']}")).json()["agent_id"] == "other"


async def test_an_event_names_no_channel_this_server_cannot_send_on(sqlite_url: str) -> None:
    """Without SMTP_HOST or TELEGRAM_BOT_TOKEN an event naming e-mail or Telegram (by type, or
    a channel of that type by id) is a 422 at the entry, before anything is stored."""
    async with client_for(sqlite_url) as (app, client):
        me = (await client.get("/api/v1/auth/me")).json()
        channel = await add_channel(app.app.state.session_factory, org_id=me["org_id"], user_id=me["id"],
                                    type_="telegram")
        assert (await client.post("/api/v1/agents", json=agent_body(id="helper"))).status_code == 201
        unset_by = (["email"], "SMTP_HOST"), (["telegram"], "TELEGRAM_BOT_TOKEN"), ([channel], "TELEGRAM_BOT_TOKEN")
        for channels, unset in unset_by:
            refused = assert_error(await client.post(EVENTS, json=event_body(channels=channels)), 422, "invalid_input")
            assert refused["details"][0]["field"] == "channels.0" and unset in refused["message"], refused
        assert (await client.get(EVENTS)).json()["items"] == []
        created = await client.post(EVENTS, json=event_body())  # no channels named: the user's, by priority
        assert created.status_code == 201, created.text
        moved = assert_error(await client.patch(f"{EVENTS}/{created.json()['id']}", json={"channels": ["email"]}),
                             422, "invalid_input")
        assert "SMTP_HOST" in moved["message"], moved
