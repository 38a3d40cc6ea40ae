"""The gateway's per-process cache of agent lookups (agents/directory.py), on SQLite and
PostgreSQL: what it answers, what this process's changes do to it at once, and how soon it
sees what another process changed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import update

from agenthub.agents.directory import AGENT_CACHE_TTL, AgentDirectory, AgentSummary
from agenthub.agents.models import DEFAULT_ORG, Agent
from agenthub.db.base import utcnow
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.errors import NotFound
from tests.agents.helpers import agent_body, client_for
from tests.channels.helpers import eventually
from tests.runtime.helpers import migrated_sessions

ACCESS = {"mode": "members", "users": ["u-1"]}


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[SessionFactory]:
    engine, factory = await migrated_sessions(database_url)
    try:
        async with session_scope(factory) as session:
            session.add(Agent(id="helper", org_id="acme", name="Helper", kind="llm",
                              settings={"provider": "fake", "access": ACCESS}))
            session.add(Agent(id="plain", org_id="acme", name="Plain", kind="scenario", settings={}))
        yield factory
    finally:
        await engine.dispose()


async def _change(sessions: SessionFactory, agent_id: str, **values: object) -> None:
    """A change made by another process: straight to the database."""
    async with session_scope(sessions) as session:
        await session.execute(update(Agent).where(Agent.id == agent_id).values(**values))


async def test_a_lookup_gives_the_agents_summary_and_404_for_what_the_organisation_lacks(
    sessions: SessionFactory,
) -> None:
    directory = AgentDirectory(sessions)
    assert await directory.get(org_id="acme", agent_id="helper") == AgentSummary(
        id="helper", org_id="acme", kind="llm", access=ACCESS, handle="helper"
    )
    assert (await directory.get(org_id="acme", agent_id="plain")).access is None
    for org_id, agent_id in [("acme", "nobody"), ("other-org", "helper"), ("other-org", "plain")]:
        with pytest.raises(NotFound):
            await directory.get(org_id=org_id, agent_id=agent_id)
    # Known now (cached), still another organisation's: 404 all the same.
    with pytest.raises(NotFound):
        await directory.get(org_id="other-org", agent_id="helper")


async def test_what_this_process_changes_or_deletes_is_seen_at_once(sessions: SessionFactory) -> None:
    directory = AgentDirectory(sessions, ttl=3600)
    assert (await directory.get(org_id="acme", agent_id="helper")).access == ACCESS

    await _change(sessions, "helper", settings={"provider": "fake", "access": {"mode": "open"}})
    directory.forget("helper")
    assert (await directory.get(org_id="acme", agent_id="helper")).access == {"mode": "open"}

    await _change(sessions, "helper", deleted_at=utcnow())
    directory.forget("helper")
    with pytest.raises(NotFound):
        await directory.get(org_id="acme", agent_id="helper")


async def test_what_another_process_changes_is_seen_within_the_ttl(sessions: SessionFactory) -> None:
    assert 0 < AGENT_CACHE_TTL <= 5  # "a couple of seconds": how long another gateway's change may go unseen
    directory = AgentDirectory(sessions, ttl=0.3)
    await directory.get(org_id="acme", agent_id="helper")
    await _change(sessions, "helper", deleted_at=utcnow())

    async def gone() -> bool:
        try:
            await directory.get(org_id="acme", agent_id="helper")
        except NotFound:
            return True
        return False

    await eventually(gone, timeout=5, interval=0.05, what="the deletion to be seen after the TTL")


async def test_a_lookup_overlapping_a_forget_keeps_nothing(sessions: SessionFactory) -> None:
    """A lookup that read the agent while this process changed it must not keep what it read."""
    directory: AgentDirectory

    def forgetting_factory():  # type: ignore[no-untyped-def]
        directory.forget("helper")  # the change is committed and forgotten while this lookup reads
        return sessions()

    directory = AgentDirectory(forgetting_factory, ttl=3600)  # type: ignore[arg-type]
    await directory.get(org_id="acme", agent_id="helper")
    await _change(sessions, "helper", deleted_at=utcnow())
    with pytest.raises(NotFound):  # not answered from what the overlapping lookup read
        await directory.get(org_id="acme", agent_id="helper")


async def test_the_least_recently_looked_up_agent_goes_first_when_full(sessions: SessionFactory) -> None:
    directory = AgentDirectory(sessions, ttl=3600, size=1)
    await directory.get(org_id="acme", agent_id="helper")
    await directory.get(org_id="acme", agent_id="plain")  # "helper" is dropped
    await _change(sessions, "helper", deleted_at=utcnow())
    await _change(sessions, "plain", deleted_at=utcnow())
    with pytest.raises(NotFound):
        await directory.get(org_id="acme", agent_id="helper")
    assert (await directory.get(org_id="acme", agent_id="plain")).kind == "scenario"  # still kept


async def test_a_fresh_lookup_asks_the_database_and_keeps_its_answer(sessions: SessionFactory) -> None:
    directory = AgentDirectory(sessions, ttl=3600)
    await directory.get(org_id="acme", agent_id="helper")
    await _change(sessions, "helper", settings={"provider": "fake"})
    assert (await directory.get(org_id="acme", agent_id="helper", fresh=True)).access is None
    assert (await directory.get(org_id="acme", agent_id="helper")).access is None  # kept
    await _change(sessions, "helper", deleted_at=utcnow())
    with pytest.raises(NotFound):
        await directory.get(org_id="acme", agent_id="helper", fresh=True)
    with pytest.raises(NotFound):  # nor is what it no longer found kept
        await directory.get(org_id="acme", agent_id="helper")


async def test_an_update_or_delete_through_the_api_is_seen_by_this_gateways_next_lookup(
    database_url: str,
) -> None:
    async with client_for(database_url) as (app, client):
        assert (await client.post("/api/v1/agents", json=agent_body(id="kept"))).status_code == 201
        directory: AgentDirectory = app.app.state.agent_directory
        assert (await directory.get(org_id=DEFAULT_ORG, agent_id="kept")).access == "organization"
        # Another process gives it an access rule; this gateway still has its own lookup...
        sessions = app.app.state.session_factory
        async with session_scope(sessions) as session:
            agent = await session.get(Agent, "kept")
            assert agent is not None
            agent.settings = {**agent.settings, "access": ACCESS}
        # ...until an update through this gateway, which makes it look again.
        assert (await client.patch("/api/v1/agents/kept", json={"name": "Renamed"})).status_code == 200
        assert (await directory.get(org_id=DEFAULT_ORG, agent_id="kept")).access == ACCESS

        assert (await client.delete("/api/v1/agents/kept")).status_code == 204
        with pytest.raises(NotFound):
            await directory.get(org_id=DEFAULT_ORG, agent_id="kept")
