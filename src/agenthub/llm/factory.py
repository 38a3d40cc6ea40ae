"""Chat models by provider. Every OpenAI-compatible endpoint goes through langchain-openai
(its ChatOpenAI, with a lean transport for streamed answers: ``llm/streaming.py``); ``fake``
is the offline demo model."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from agenthub.config import Settings
from agenthub.errors import InvalidInput, ModelFailed
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
KEY_VARIABLES = {"openai": "OPENAI_API_KEY", "openrouter": "OPENROUTER_API_KEY"}
"""The platform key of each provider that has one, by its environment variable."""
OWN_HOSTS = {"openai": "api.openai.com", "openrouter": OPENROUTER_HOST}
"""The provider's own service, which answers nothing without its key."""


class MissingProviderKey(ModelFailed):
    """An agent's model calls would go to its provider's own service, whose key is not set
    on the server: refused before any connection is made."""

    code = "missing_provider_key"

    def __init__(self, variable: str, host: str) -> None:
        super().__init__(
            f"{variable} is not set on the server, so the agent's model at {host} can't be called. "
            f"Set it for `agenthub serve` and every `agenthub worker` (then restart them), "
            "or give the agent another provider."
        )
        self.variable = variable


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
    model = StreamingChatOpenAI(
        model=model_id,
        temperature=temperature,
        base_url=url,
        api_key=_api_key(settings, provider, url),
        streaming=True,
        stream_usage=True,
        timeout=timeout,
        max_retries=1,
    )
    _refuse_keyless_call_home(settings, provider, model)  # building a model connects to nothing
    return model


def _refuse_keyless_call_home(settings: Settings, provider: str, model: StreamingChatOpenAI) -> None:
    """Raise MissingProviderKey when ``model``'s requests would go to its provider's own
    service (wherever the client took that from: the agent's base_url, or the default) and
    the provider's key is not set. A keyed proxy or any other server named by base_url is
    called as it is."""
    own_host = OWN_HOSTS.get(provider)
    if own_host is None or model.root_async_client.base_url.host != own_host:
        return
    configured = settings.openai_api_key if provider == "openai" else settings.openrouter_api_key
    if not configured:
        raise MissingProviderKey(KEY_VARIABLES[provider], own_host)
