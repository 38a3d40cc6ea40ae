"""The engines of a process, by kind: built by the entry point, one per kind."""

from __future__ import annotations

import pytest

from agenthub.config import Settings
from agenthub.engines.base import Answer, Engine, Turn, TurnEvents
from agenthub.engines.registry import EngineRegistry, UnknownKind, build_engines
from agenthub.errors import AgentHubError
from tests.runtime.helpers import migrated_sessions


class Silent(Engine):
    kind = "silent"

    async def answer(self, turn: Turn, events: TurnEvents) -> Answer:
        return Answer(text="")


async def test_every_process_runs_llm_and_scenario_and_more_kinds_are_added_by_whoever_builds_it(
    settings: Settings, sqlite_url: str
) -> None:
    engine, sessions = await migrated_sessions(sqlite_url)
    try:
        engines = build_engines(settings, sessions)
        silent = Silent()
        more = engines.with_engine(silent)
    finally:
        await engine.dispose()

    assert engines.kinds == ["llm", "scenario"]
    assert more.kinds == ["llm", "scenario", "silent"]
    assert more.for_kind("silent") is silent
    assert more.for_kind("llm") is engines.for_kind("llm")
    with pytest.raises(UnknownKind, match="silent") as refused:
        engines.for_kind("silent")
    assert isinstance(refused.value, AgentHubError)


def test_one_engine_per_kind() -> None:
    with pytest.raises(ValueError, match="silent"):
        EngineRegistry([Silent(), Silent()])
