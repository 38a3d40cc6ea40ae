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
from agenthub.llm.streaming import NO_KEY, StreamingChatOpenAI

Provider = Literal["openai", "openrouter", "ollama", "openai_compatible", "fake"]

OPENAI_HOST = "api.openai.com"
OPENAI_URL = f"https://{OPENAI_HOST}/v1"
OPENROUTER_HOST = "openrouter.ai"
DEFAULT_BASE_URLS: dict[str, str | None] = {
    "openai": OPENAI_URL,
    "openrouter": f"https://{OPENROUTER_HOST}/api/v1",
    "ollama": "http://127.0.0.1:11434/v1",
    "openai_compatible": None,
}
"""Where each provider's calls go without a base_url (``openai``: OPENAI_BASE_URL when set)."""
KEY_VARIABLES = {"openai": "OPENAI_API_KEY", "openrouter": "OPENROUTER_API_KEY"}
"""The platform key of each provider that has one, by its environment variable."""
OWN_HOSTS = {"openai": OPENAI_HOST, "openrouter": OPENROUTER_HOST}
"""The provider's own service, which answers nothing without its key."""


class MissingProviderKey(ModelFailed):
    """An agent's model calls would go to its provider's own service, whose key is not set
    on the server: refused before any connection is made."""

    code = "missing_provider_key"

    def __init__(self, variable: str, host: str) -> None:
        super().__init__(
            f"{variable} is not set on the server, so the agent's model at {host} can't be called. "
            f"Set it for `agenthub serve` and every `agenthub worker` (then restart them), "
            "give the agent a credential with a key of its own (settings.api_key_credential_id), "
            "or another provider."
        )
        self.variable = variable


def model_host(provider: str, base_url: str | None, *, openai_base_url: str | None = None) -> str:
    """Where an agent's model calls go, as ``host[:port]``: fit for a user's eyes (no
    credentials, no path). ``openai_base_url``: OPENAI_BASE_URL."""
    url = base_url or default_base_url(provider, openai_base_url) or OPENAI_URL
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        return f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return "?"


def default_base_url(provider: str, openai_base_url: str | None) -> str | None:
    if provider == "openai" and openai_base_url:
        return openai_base_url
    return DEFAULT_BASE_URLS.get(provider)


def _on_host(url: str, host: str) -> bool:
    """``url`` is ``host``'s own API over HTTPS (by host, whatever the path or port)."""
    try:
        parts = urlsplit(url)
        return parts.scheme == "https" and parts.hostname == host
    except ValueError:
        return False


def _same_endpoint(url: str, other: str) -> bool:
    """The two URLs name the same endpoint (scheme, host, port and path; case of the host
    and a trailing slash aside)."""
    try:
        a, b = urlsplit(url), urlsplit(other)
        return (a.scheme, a.hostname, a.port, a.path.rstrip("/"), a.username, a.password) == (
            b.scheme, b.hostname, b.port, b.path.rstrip("/"), b.username, b.password
        )
    except ValueError:
        return False


def platform_key(settings: Settings, provider: str, url: str) -> SecretStr | None:
    """The platform key a provider's requests may carry, given where they go (``url``): none
    but to the provider's own service, so that nobody who may edit an agent can have the
    platform's key sent to a server of theirs.

    - OPENAI_API_KEY goes to ``openai`` agents calling OpenAI's own API (https://api.openai.com)
      or OPENAI_BASE_URL, the operator's address for it.
    - OPENROUTER_API_KEY goes to ``openrouter`` agents calling https://openrouter.ai.
    - ``ollama`` and ``openai_compatible`` never receive a platform key."""
    if provider == "openai" and (
        _on_host(url, OPENAI_HOST) or (settings.openai_base_url and _same_endpoint(url, settings.openai_base_url))
    ):
        return settings.openai_api_key
    if provider == "openrouter" and _on_host(url, OPENROUTER_HOST):
        return settings.openrouter_api_key
    return None


def build_chat_model(
    settings: Settings,
    *,
    provider: str,
    model_id: str,
    temperature: float,
    base_url: str | None = None,
    timeout: float = 120.0,
    api_key: SecretStr | None = None,
) -> BaseChatModel:
    """The model of an agent. ``api_key``: the value of the credential the agent names
    (``settings.api_key_credential_id``), sent wherever its calls go; without one, its calls
    carry the provider's platform key where :func:`platform_key` allows, else no key."""
    if provider == "fake":
        return DemoChatModel(model_id=model_id)
    if provider not in DEFAULT_BASE_URLS:
        raise InvalidInput(f"unknown provider {provider!r}", field="settings.provider")
    url = base_url or default_base_url(provider, settings.openai_base_url)
    if not url:
        raise InvalidInput("provider 'openai_compatible' needs settings.base_url", field="settings.base_url")
    key = api_key or platform_key(settings, provider, url)
    if key is None and provider in OWN_HOSTS and _on_host(url, OWN_HOSTS[provider]):
        # Its own service answers nothing without its key: refused before any connection.
        raise MissingProviderKey(KEY_VARIABLES[provider], OWN_HOSTS[provider])
    return StreamingChatOpenAI(
        model=model_id,
        temperature=temperature,
        base_url=url,
        api_key=key or SecretStr(NO_KEY),  # the client insists on one; NO_KEY is never sent
        streaming=True,
        stream_usage=True,
        timeout=timeout,
        max_retries=1,
    )
