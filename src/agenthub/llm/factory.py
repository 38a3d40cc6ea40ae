"""Chat models by provider. Every OpenAI-compatible endpoint goes through langchain-openai
(its ChatOpenAI, with a lean transport for streamed answers: ``llm/streaming.py``); ``fake``
is the offline demo model."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from agenthub.config import Settings
from agenthub.errors import InvalidInput
from agenthub.llm.fake import DemoChatModel

# Imported with this module, at a process's start, not on the first turn of an agent with an
# HTTP model: langchain-openai, the openai SDK and aiohttp take a second or more to import,
# a second in which the event loop would serve no other chat.
from agenthub.llm.streaming import StreamingChatOpenAI

Provider = Literal["openai", "openrouter", "ollama", "openai_compatible", "fake"]

OPENROUTER_HOST = "openrouter.ai"
DEFAULT_BASE_URLS: dict[str, str | None] = {
    "openai": None,
    "openrouter": f"https://{OPENROUTER_HOST}/api/v1",
    "ollama": "http://127.0.0.1:11434/v1",
    "openai_compatible": None,
}
PLACEHOLDER_KEY = SecretStr("not-set")


def model_host(provider: str, base_url: str | None) -> str:
    """Where an agent's model calls go, as ``host[:port]``: fit for a user's eyes (no
    credentials, no path)."""
    from urllib.parse import urlsplit

    url = base_url or DEFAULT_BASE_URLS.get(provider) or "https://api.openai.com/v1"
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        return f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return "?"


def _is_openrouter(url: str) -> bool:
    """``url`` is OpenRouter's own API over HTTPS (by host, whatever the path or port)."""
    parts = urlsplit(url)
    return parts.scheme == "https" and parts.hostname == OPENROUTER_HOST


def _api_key(settings: Settings, provider: str, url: str | None) -> SecretStr:
    """The platform key a provider's requests carry, given where they go (``url``).

    - OPENAI_API_KEY goes to ``openai``, with or without a base_url: that provider with a
      base_url is how a keyed OpenAI proxy is used, so whoever may set an ``openai`` agent's
      base_url can have the key sent to any server (the README warns of it).
    - OPENROUTER_API_KEY goes to ``openrouter`` only while the requests go to OpenRouter's
      own host (base_url unset or on https://openrouter.ai); an ``openrouter`` agent pointed
      anywhere else gets no platform key.
    - ``ollama`` and ``openai_compatible`` never receive a platform key.

    The client insists on some key, so every case without one gets a placeholder."""
    if provider == "openai":
        key = settings.openai_api_key
    elif provider == "openrouter" and url is not None and _is_openrouter(url):
        key = settings.openrouter_api_key
    else:
        key = None
    return key or PLACEHOLDER_KEY


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
        raise InvalidInput(f"unknown provider {provider!r}", field="settings.provider")
    url = base_url or DEFAULT_BASE_URLS[provider]
    if provider == "openai_compatible" and not url:
        raise InvalidInput("provider 'openai_compatible' needs settings.base_url", field="settings.base_url")
    return StreamingChatOpenAI(
        model=model_id,
        temperature=temperature,
        base_url=url,
        api_key=_api_key(settings, provider, url),
        streaming=True,
        stream_usage=True,
        timeout=timeout,
        max_retries=1,
    )
