"""Each run happens once, however many replicas look: claims by rival schedulers on one
database never overlap, and two AgentHub replicas on one PostgreSQL (and one Redis) run
each due event once."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import httpx

from agenthub.calendar import leases
from agenthub.db.engine import create_engine, create_session_factory
from tests.agents.helpers import agent_body, client_for, migrated
from tests.scheduler.helpers import (
    add_channel,
    deliveries,
    event_row,
    eventually,
    iso,
    set_event,
    user_messages,
)
from tests.support.server import make_settings, running_app

EVENTS = "/api/v1/calendar/events"


async def test_rival_claims_of_due_events_never_overlap(database_url: str) -> None:
    # The app's own scheduler looks once at start-up, then not for an hour: the claims here are the test's.
    async with client_for(database_url, scheduler_interval=3600) as (_app, client):
        assert (await client.post("/api/v1/agents", json=agent_body(id="helper"))).status_code == 201
        later = iso(datetime.now(UTC) + timedelta(days=1))
        ids = []
        for number in range(24):
            body = {"title": f"e{number}", "agent_id": "helper", "prompt": "hi", "start_at": later}
            ids.append((await client.post(EVENTS, json=body)).json()["id"])
        engine = create_engine(database_url)
        sessions = create_session_factory(engine)
        try:
            now = datetime.now(UTC)
            for event_id in ids:
                await set_event(sessions, event_id, next_run_at=now - timedelta(seconds=1))

            async def claimer(owner: str) -> list[str]:
                taken: list[str] = []
                while True:
                    async with sessions() as session:
                        firings = await leases.claim_due(
                            session, now=now, owner=owner, lease=timedelta(minutes=5), grace=timedelta(minutes=1),
                            limit=3,
                        )
                    if not firings:
                        return taken
                    taken.extend(f.event_id for f in firings)

            first, second, third = await asyncio.gather(claimer("a"), claimer("b"), claimer("c"))
        finally:
            await engine.dispose()
        claimed = first + second + third
        assert sorted(claimed) == sorted(ids)  # every due event taken, none twice


async def test_two_replicas_on_one_postgresql_run_each_due_event_once(
    postgres_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    await migrated(postgres_url)
    settings = make_settings(
        database_url=postgres_url, redis_url=redis_server_url, redis_prefix=redis_prefix, scheduler_interval=0.1,
    )
    async with AsyncExitStack() as stack:
        one = await stack.enter_async_context(running_app(settings))
        two = await stack.enter_async_context(running_app(settings))
        client = await stack.enter_async_context(httpx.AsyncClient(base_url=one.url, headers=one.headers, timeout=30))
        assert (await client.post("/api/v1/agents", json=agent_body(id="helper"))).status_code == 201
        me = (await client.get("/api/v1/auth/me")).json()
        sessions = one.app.state.session_factory
        runs = {replica.app.state.scheduler.owner: _count_runs(replica.app.state.scheduler) for replica in (one, two)}
        await add_channel(sessions, org_id=me["org_id"], user_id=me["id"])
        # Created paused, then all made due at once: both replicas find them in the same looks.
        later = iso(datetime.now(UTC) + timedelta(days=1))
        one_time = []
        for number in range(6):
            body = {"title": f"once {number}", "agent_id": "helper", "prompt": f"ping {number}", "start_at": later,
                    "enabled": False}
            one_time.append((await client.post(EVENTS, json=body)).json()["id"])
        body = {"title": "each second", "agent_id": "helper", "prompt": "tick", "start_at": later,
                "cron": "* * * * * *", "enabled": False}
        recurring = (await client.post(EVENTS, json=body)).json()["id"]
        now = datetime.now(UTC)
        for event_id in [*one_time, recurring]:
            await set_event(sessions, event_id, enabled=True, next_run_at=now)

        async def all_ran() -> bool:
            done = [bool(await deliveries(sessions, event_id)) for event_id in one_time]
            return all(done) and len(await deliveries(sessions, recurring)) >= 3

        await eventually(all_ran, timeout=60)
        assert (await client.patch(f"{EVENTS}/{recurring}", json={"enabled": False})).status_code == 200
        # Runs under way when it was paused end; then nothing changes any more.
        await eventually(lambda: _settled(sessions, recurring), timeout=60)
        for event_id in one_time:
            assert len(await deliveries(sessions, event_id)) == 1, event_id
            assert await user_messages(sessions, event_id) == 1, event_id
        ticks = await deliveries(sessions, recurring)
        assert len(ticks) == await user_messages(sessions, recurring)
        # Never two runs at once: each answer counts one more message of the event's chat.
        counted = [row.body.rsplit("message ", 1)[1] for row in ticks]
        assert counted == [f"{n} of this chat." for n in range(1, len(ticks) + 1)]
        # What the replicas took between them is what ran (which replica took which varies).
        assert sum(sum(counted_runs) for counted_runs in runs.values()) == len(one_time) + len(ticks)


def _count_runs(scheduler) -> list[int]:  # type: ignore[no-untyped-def]
    """How many runs each look of ``scheduler`` started (a list it adds to)."""
    counts: list[int] = []
    look = scheduler.run_once

    async def counting(**options):  # type: ignore[no-untyped-def]
        started = await look(**options)
        counts.append(len(started))
        return started

    scheduler.run_once = counting
    return counts


async def _settled(sessions, event_id: str) -> bool:  # type: ignore[no-untyped-def]
    row = await event_row(sessions, event_id)
    return row is not None and row.lease_owner is None
