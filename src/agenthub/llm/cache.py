"""Chat models shared by every agent of a process with the same model settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from agenthub.config import Settings
from agenthub.llm.factory import build_chat_model


class ModelCache:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._models: dict[tuple[Any, ...], BaseChatModel] = {}

    def for_agent(self, s: Mapping[str, Any], *, api_key: SecretStr | None = None) -> BaseChatModel:
        """The model an ``llm`` agent with settings ``s`` talks to; ``api_key``: the value of
        the credential it names (agents with the same settings and key share a model)."""
        key = (
            s["provider"], s["model_id"], s.get("base_url"), s.get("temperature", 0.7),
            api_key.get_secret_value() if api_key is not None else None,
        )
        model = self._models.get(key)
        if model is None:
            model = self._models[key] = build_chat_model(
                self._settings,
                provider=s["provider"],
                model_id=s["model_id"],
                temperature=s.get("temperature", 0.7),
                base_url=s.get("base_url"),
                timeout=self._settings.turn_timeout,
                api_key=api_key,
            )
        return model
