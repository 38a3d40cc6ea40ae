"""What the graph tests share: models on the fake server, and a turn's configurable."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages.ai import UsageMetadata

from agenthub.config import Settings
from agenthub.llm.factory import build_chat_model
from tests.support.fake_openai import FakeOpenAI


def model_on(settings: Settings, server: FakeOpenAI, model_id: str = "agent-model") -> BaseChatModel:
    return build_chat_model(settings, provider="openai_compatible", model_id=model_id, temperature=0, base_url=server.url)


class TurnRecord:
    """The configurable of one turn, and what the graph sent to its callbacks."""

    def __init__(self, settings: Settings, server: FakeOpenAI, agent_settings: dict[str, Any], **more: Any) -> None:
        self.tokens: list[str] = []
        self.usages: list[UsageMetadata] = []
        self.configurable: dict[str, Any] = {
            "model": model_on(settings, server),
            "model_for": lambda model_id: model_on(settings, server, model_id),
            "system_prompt": "",
            "settings": agent_settings,
            "tools": [],
            "on_token": self.tokens.append,
            "on_usage": self.usages.append,
            "extras": {},
            **more,
        }

    @property
    def config(self) -> dict[str, Any]:
        return {"configurable": self.configurable}


def system_of(body: dict[str, Any]) -> str:
    return next((m["content"] for m in body["messages"] if m["role"] == "system"), "")


def users_of(body: dict[str, Any]) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "user"]
