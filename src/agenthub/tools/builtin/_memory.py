"""What the memory tools share: whose memory a turn uses, and the embedder of archival
memory (not a tool: the tools are the modules named after them)."""

from __future__ import annotations

from typing import Any

from agenthub.llm.embeddings import FAKE_MODEL, Embedder, build_embedder
from agenthub.tools.base import ToolContext, ToolDeps, ToolError


def user_of(context: ToolContext) -> str:
    """The turn's memory user; a ToolError for a message from nobody known."""
    user = context.memory_user
    if not user:
        raise ToolError("long-term memory needs to know who the user is, and this message does not say")
    return user


class Embedders:
    """The embedder of archival memory: offline ``fake`` for an agent on the ``fake``
    provider (or with ``EMBEDDING_MODEL=fake``), else ``EMBEDDING_MODEL`` at the platform's
    ``OPENAI_BASE_URL`` with its key (the operator's configuration, not a user's URL). Made
    once per model; every passage records its model, and a search compares only those."""

    def __init__(self, deps: ToolDeps) -> None:
        self._deps = deps
        self._made: dict[str, Embedder] = {}

    def model_for(self, agent_settings: dict[str, Any]) -> str:
        """The embedding model of the agent's archival memory."""
        return FAKE_MODEL if agent_settings.get("provider") == "fake" else self._deps.settings.embedding_model

    def for_agent(self, agent_settings: dict[str, Any]) -> Embedder:
        model = self.model_for(agent_settings)
        embedder = self._made.get(model)
        if embedder is None:
            embedder = self._made[model] = build_embedder(self._deps.settings, model=model)
        return embedder


def text_argument(arguments: dict[str, Any], name: str, *, required: bool = True, limit: int = 20_000) -> str:
    value = arguments.get(name, "")
    if not isinstance(value, str):
        raise ToolError(f"{name} must be a string")
    if required and not value.strip():
        raise ToolError(f"{name} is required")
    if len(value) > limit:
        raise ToolError(f"{name} may hold {limit} characters at most")
    return value


def count_argument(arguments: dict[str, Any], name: str, *, default: int, most: int) -> int:
    value = arguments.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise ToolError(f"{name} must be a whole number")
    return max(1, min(int(value), most))
