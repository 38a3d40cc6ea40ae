"""The engines a process runs, by kind. Built by each entry point (the app, a runner, a
worker) from the settings and passed to the hosts it builds; nothing is registered at
import time."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from agenthub.bus import Bus
from agenthub.config import Settings
from agenthub.db.engine import SessionFactory
from agenthub.engines.base import Engine
from agenthub.engines.llm import LlmEngine
from agenthub.engines.scenario import ScenarioEngine
from agenthub.errors import AgentHubError
from agenthub.scenarios import export
from agenthub.scenarios.actions.base import ActionDeps


class UnknownKind(AgentHubError):
    """An agent of a kind no engine of this process runs."""

    code = "unknown_kind"


class EngineRegistry:
    def __init__(self, engines: Iterable[Engine]) -> None:
        self._by_kind: dict[str, Engine] = {}
        for engine in engines:
            if engine.kind in self._by_kind:
                raise ValueError(f"two engines for kind {engine.kind!r}")
            self._by_kind[engine.kind] = engine

    @property
    def kinds(self) -> list[str]:
        return list(self._by_kind)

    def for_kind(self, kind: str) -> Engine:
        engine = self._by_kind.get(kind)
        if engine is None:
            raise UnknownKind(f"no engine runs agents of kind {kind!r} (this process runs: {', '.join(self.kinds)})")
        return engine

    def with_engine(self, engine: Engine) -> EngineRegistry:
        """These engines and ``engine`` (for a kind none of them runs)."""
        return EngineRegistry([*self._by_kind.values(), engine])


EnginesFactory = Callable[..., EngineRegistry]
"""What an entry point calls to make its engines (:func:`build_engines`, or a test's own):
``(settings, session_factory, bus, *, actions=None)``."""


def build_engines(
    settings: Settings, session_factory: SessionFactory, bus: Bus | None = None, *, actions: ActionDeps | None = None
) -> EngineRegistry:
    """The engines every AgentHub process runs: ``llm`` and ``scenario``. With ``bus``, a
    conversation rebuilt after a restart includes the answers still on their way to the
    database. ``actions``: what the actions of scenario bots use in this process (its sandbox,
    its way to ask LLM agents: :class:`agenthub.scenarios.actions.process.ProcessActions`);
    without it, code and LLM steps answer that they are not available here. A builder's test
    message (``"test": true``, see :mod:`agenthub.engines.scenario`) runs the bot's draft."""
    return EngineRegistry([
        LlmEngine.from_settings(settings, session_factory, bus),
        ScenarioEngine.from_settings(settings, session_factory, deps=actions, draft=export.draft_document),
    ])
