"""The start requests of Telegram bots' processes: a request is acknowledged once a supervisor
acted on it, so one that a serve read and never acted on (it died, or its database was away)
is taken up by another reader once it has waited too long, and none is acted on twice."""

from __future__ import annotations

from dataclasses import dataclass, field

from agenthub.bus import Bus, keys
from agenthub.channels.telegram.starts import StartRelay
from agenthub.errors import NotFound


@dataclass
class Starts:
    """The supervisor's side, as the relay reaches it: an id, and ``ensure_running``."""

    id: str
    started: list[str] = field(default_factory=list)
    failing: dict[str, Exception] = field(default_factory=dict)

    async def ensure_running(self, agent_id: str) -> bool:
        if agent_id in self.failing:
            raise self.failing[agent_id]
        self.started.append(agent_id)
        return True


async def test_a_request_read_by_a_serve_that_died_is_taken_up_by_another(bus: Bus) -> None:
    died = Starts("supervisor-died")
    await StartRelay(bus=bus, supervisor=died).setup()  # type: ignore[arg-type]
    await bus.add(keys.AGENT_START_REQUESTS, {"agent_id": "support"})
    # The serve that died had read it (then nothing more).
    read = await bus.read({keys.AGENT_START_REQUESTS: ">"}, keys.AGENT_START_GROUP, died.id)
    assert [entry.payload["agent_id"] for entry in read] == ["support"]

    alive = Starts("supervisor-alive")
    relay = StartRelay(bus=bus, supervisor=alive, stale_after_ms=0)  # type: ignore[arg-type]
    assert await relay.run_once() == 1
    assert alive.started == ["support"]
    assert await relay.run_once() == 0  # acknowledged: not again
    assert alive.started == ["support"]
    assert await bus.pending_count(keys.AGENT_START_REQUESTS, keys.AGENT_START_GROUP) == 0


async def test_a_request_is_acknowledged_only_once_acted_on(bus: Bus) -> None:
    starts = Starts("supervisor-1", failing={"flaky": ConnectionError("the database is away")})
    relay = StartRelay(bus=bus, supervisor=starts, stale_after_ms=0)  # type: ignore[arg-type]
    await relay.setup()
    await bus.add(keys.AGENT_START_REQUESTS, {"agent_id": "flaky"})
    try:
        await relay.run_once()
    except ConnectionError:
        pass
    else:
        raise AssertionError("the outage was not raised (the relay's loop logs it and reads again)")
    assert await bus.pending_count(keys.AGENT_START_REQUESTS, keys.AGENT_START_GROUP) == 1

    # Back: the request is acted on. One for an agent that is gone is dropped, not retried.
    del starts.failing["flaky"]
    starts.failing["gone"] = NotFound("agent 'gone' not found")
    await bus.add(keys.AGENT_START_REQUESTS, {"agent_id": "gone"})
    assert await relay.run_once() == 2
    assert starts.started == ["flaky"]
    assert await bus.pending_count(keys.AGENT_START_REQUESTS, keys.AGENT_START_GROUP) == 0
    assert await relay.run_once() == 0
