"""Chat models by provider. Every OpenAI-compatible endpoint goes through langchain-openai;
``fake`` is the offline demo model."""

from __future__ import annotations

from typing import Literal

from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from agenthub.config import Settings
from agenthub.errors import InvalidInput
from agenthub.llm.fake import DemoChatModel

Provider = Literal["openai", "openrouter", "ollama", "openai_compatible", "fake"]

DEFAULT_BASE_URLS: dict[str, str | None] = {
    "openai": None,
    "openrouter": "https://openrouter.ai/api/v1",
    "ollama": "http://127.0.0.1:11434/v1",
    "openai_compatible": None,
}


def _api_key(settings: Settings, provider: str) -> SecretStr:
    """The key for a provider. OPENAI_API_KEY goes only to ``openai`` (with or without a
    base_url: pick that provider for a keyed proxy), OPENROUTER_API_KEY only to
    ``openrouter``; a local server (``ollama``, ``openai_compatible``) never receives
    either, so a configured base_url can't collect a real key. The client insists on some
    key, so those get a placeholder."""
    if provider == "openrouter":
        key = settings.openrouter_api_key
    elif provider == "openai":
        key = settings.openai_api_key
    else:
        key = None
    return key or SecretStr("not-set")


def build_chat_model(
    settings: Settings,
    *,
    provider: str,
    model_id: str,
    temperature: float,
    base_url: str | None = None,
    timeout: float = 120.0,
) -> BaseChatModel:
    if provider == "fake":
        return DemoChatModel(model_id=model_id)
    if provider not in DEFAULT_BASE_URLS:
        raise InvalidInput(f"unknown provider {provider!r}")
    url = base_url or DEFAULT_BASE_URLS[provider]
    if provider == "openai_compatible" and not url:
        raise InvalidInput("provider 'openai_compatible' needs settings.base_url")
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=model_id,
        temperature=temperature,
        base_url=url,
        api_key=_api_key(settings, provider),
        streaming=True,
        stream_usage=True,
        timeout=timeout,
        max_retries=1,
    )
