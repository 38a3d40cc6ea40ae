"""build_chat_model against a real OpenAI-compatible HTTP server (tests.support.fake_openai)."""

from __future__ import annotations

import openai
import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from agenthub.config import Settings
from agenthub.errors import AgentHubError, InvalidInput
from agenthub.llm.factory import MissingProviderKey, build_chat_model
from agenthub.llm.fake import DemoChatModel
from agenthub.llm.streaming import NO_KEY
from tests.support.fake_openai import FakeOpenAI


def _build(settings: Settings, provider: str, base_url: str | None, **kwargs: object) -> ChatOpenAI:
    model = build_chat_model(
        settings, provider=provider, model_id="gpt-4o-mini", temperature=0.2, base_url=base_url, **kwargs
    )
    assert isinstance(model, ChatOpenAI)
    return model


async def test_openai_compatible_talks_to_base_url(settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.add_answer("Paris is the capital", prompt_tokens=9, completion_tokens=4)
    model = _build(settings, "openai_compatible", fake_openai.url)

    answer = await model.ainvoke([SystemMessage("Be brief."), HumanMessage("Capital of France?")])

    assert answer.content == "Paris is the capital"
    assert answer.usage_metadata is not None
    assert answer.usage_metadata["input_tokens"] == 9
    assert answer.usage_metadata["output_tokens"] == 4
    assert answer.usage_metadata["total_tokens"] == 13
    (request,) = fake_openai.requests
    assert request.path == "/v1/chat/completions"
    assert request.body["model"] == "gpt-4o-mini"
    assert request.body["temperature"] == 0.2
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}
    assert request.body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of France?"},
    ]
    # No key for this server: no Authorization header at all.
    assert "authorization" not in request.headers


async def test_openai_compatible_echoes_when_nothing_is_scripted(
    settings: Settings, fake_openai: FakeOpenAI
) -> None:
    model = _build(settings, "openai_compatible", fake_openai.url)
    answer = await model.ainvoke([HumanMessage("first"), HumanMessage("second")])
    assert answer.content == "echo: second"


async def test_openai_provider_sends_openai_api_key_to_openai_base_url(fake_openai: FakeOpenAI) -> None:
    """OPENAI_BASE_URL is the operator's address for OpenAI's API: agents without a base_url
    go there, with the key; so does one naming that address."""
    settings = Settings(
        _env_file=None, openai_api_key="sk-test-openai", openrouter_api_key="sk-or-other",
        openai_base_url=fake_openai.url + "/",
    )
    for base_url in (None, fake_openai.url):
        await _build(settings, "openai", base_url).ainvoke([HumanMessage("hello")])

    assert [request.headers["authorization"] for request in fake_openai.requests] == ["Bearer sk-test-openai"] * 2


async def test_a_credential_s_key_goes_wherever_the_agent_s_calls_go(fake_openai: FakeOpenAI) -> None:
    settings = Settings(_env_file=None, openai_api_key="sk-platform-key-123456")
    for provider in ("openai_compatible", "openai"):
        model = _build(settings, provider, fake_openai.url, api_key=SecretStr("org-own-key-7890"))
        await model.ainvoke([HumanMessage("hello")])
    assert [request.headers["authorization"] for request in fake_openai.requests] == ["Bearer org-own-key-7890"] * 2


async def test_openrouter_key_never_goes_to_another_base_url(fake_openai: FakeOpenAI) -> None:
    """An ``openrouter`` agent pointed at some other server must not collect the platform key."""
    settings = Settings(_env_file=None, openai_api_key="sk-openai-other", openrouter_api_key="sk-or-test")
    port = fake_openai.url.split(":")[2].split("/")[0]
    for base_url in (fake_openai.url, f"http://openrouter.ai@127.0.0.1:{port}/v1"):
        await _build(settings, "openrouter", base_url).ainvoke([HumanMessage("hello")])

    direct, look_alike = fake_openai.requests
    assert "authorization" not in direct.headers
    # (The URL's user name goes out as Basic auth, as the client does for any URL with one.)
    for request in (direct, look_alike):
        assert not any("sk-or-test" in value for value in request.headers.values())


@pytest.mark.parametrize(
    "base_url", [None, "https://openrouter.ai/api/v1", "https://OpenRouter.ai:443/api/v1/"]
)
def test_openrouter_key_goes_to_openrouter_itself(base_url: str | None) -> None:
    settings = Settings(_env_file=None, openai_api_key="sk-openai-other", openrouter_api_key="sk-or-test")
    client = _build(settings, "openrouter", base_url).root_async_client
    assert client.base_url.host == "openrouter.ai"
    assert client.api_key == "sk-or-test"


@pytest.mark.parametrize(
    "base_url",
    [
        "http://openrouter.ai/api/v1",
        "https://openrouter.ai.example.com/api/v1",
        "https://openrouter.ai@example.com/v1",
    ],
)
def test_openrouter_key_stays_home_for_look_alike_urls(base_url: str) -> None:
    settings = Settings(_env_file=None, openrouter_api_key="sk-or-test")
    assert _build(settings, "openrouter", base_url).root_async_client.api_key == NO_KEY


@pytest.mark.parametrize(
    "base_url",
    [
        "http://api.openai.com/v1",
        "https://api.openai.com.example.com/v1",
        "https://api.openai.com@example.com/v1",
        "https://example.com/v1",
    ],
)
def test_openai_key_stays_home_for_other_and_look_alike_urls(base_url: str) -> None:
    settings = Settings(_env_file=None, openai_api_key="sk-openai-test", openai_base_url="https://proxy.example.com/v1")
    assert _build(settings, "openai", base_url).root_async_client.api_key == NO_KEY


def test_openrouter_and_ollama_default_base_urls(settings: Settings) -> None:
    keyed = Settings(_env_file=None, openrouter_api_key="sk-or-test")
    assert _build(keyed, "openrouter", None).openai_api_base == "https://openrouter.ai/api/v1"
    assert _build(settings, "ollama", None).openai_api_base == "http://127.0.0.1:11434/v1"


@pytest.mark.parametrize(
    ("provider", "base_url", "variable"),
    [
        ("openai", None, "OPENAI_API_KEY"),
        ("openai", "https://api.openai.com/v1", "OPENAI_API_KEY"),
        ("openrouter", None, "OPENROUTER_API_KEY"),
        ("openrouter", "https://OpenRouter.ai/api/v1", "OPENROUTER_API_KEY"),
    ],
)
def test_a_provider_without_its_key_is_refused_when_its_own_service_would_be_called(
    settings: Settings, provider: str, base_url: str | None, variable: str
) -> None:
    with pytest.raises(MissingProviderKey, match=f"^{variable} is not set on the server") as refused:
        build_chat_model(settings, provider=provider, model_id="m", temperature=0, base_url=base_url)
    assert refused.value.variable == variable
    assert isinstance(refused.value, AgentHubError)


def test_openai_base_url_is_where_openai_agents_go_and_needs_no_key(
    monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI
) -> None:
    """OPENAI_BASE_URL (read from the environment as the settings are) replaces OpenAI's
    address for agents without a base_url; a proxy there may need no key."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.url)
    client = _build(Settings(_env_file=None), "openai", None).root_async_client
    assert client.base_url.host == "127.0.0.1" and client.api_key == NO_KEY


def test_a_credential_stands_in_for_a_missing_platform_key(settings: Settings) -> None:
    model = _build(settings, "openai", None, api_key=SecretStr("sk-org-own-123456"))
    assert model.root_async_client.base_url.host == "api.openai.com"
    assert model.root_async_client.api_key == "sk-org-own-123456"


def test_model_is_configured_to_stream_with_usage(settings: Settings) -> None:
    model = _build(settings, "openai_compatible", "http://127.0.0.1:9/v1", timeout=7.5)
    assert model.streaming is True
    assert model.stream_usage is True
    assert model.request_timeout == 7.5
    assert model.model_name == "gpt-4o-mini"


async def test_http_500_surfaces_as_an_exception(settings: Settings, fake_openai: FakeOpenAI) -> None:
    # The client retries once; both attempts fail.
    fake_openai.add_error(500, "the model server fell over")
    fake_openai.add_error(500, "the model server fell over")
    model = _build(settings, "openai_compatible", fake_openai.url)

    with pytest.raises(openai.InternalServerError) as caught:
        await model.ainvoke([HumanMessage("hello")])

    assert caught.value.status_code == 500
    assert "the model server fell over" in str(caught.value)
    assert len(fake_openai.requests) >= 1


async def test_http_400_surfaces_without_retry(settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.add_error(400, "bad request")
    model = _build(settings, "openai_compatible", fake_openai.url)

    with pytest.raises(openai.BadRequestError):
        await model.ainvoke([HumanMessage("hello")])

    assert len(fake_openai.requests) == 1


def test_unknown_provider_is_invalid_input(settings: Settings) -> None:
    with pytest.raises(InvalidInput, match="unknown provider"):
        build_chat_model(settings, provider="anthropic-direct", model_id="x", temperature=0)


def test_openai_compatible_without_base_url_is_invalid_input(settings: Settings) -> None:
    with pytest.raises(InvalidInput, match="base_url"):
        build_chat_model(settings, provider="openai_compatible", model_id="x", temperature=0)
    with pytest.raises(InvalidInput, match="base_url"):
        build_chat_model(settings, provider="openai_compatible", model_id="x", temperature=0, base_url="")


def test_fake_provider_builds_the_demo_model(settings: Settings) -> None:
    model = build_chat_model(settings, provider="fake", model_id="demo", temperature=0)
    assert isinstance(model, DemoChatModel)
    assert model.model_id == "demo"


async def test_no_platform_key_goes_to_a_configured_base_url(fake_openai: FakeOpenAI) -> None:
    """An agent pointed at some server must not be a way to collect the platform's keys:
    whatever its provider, its calls there carry no key at all."""
    settings = Settings(_env_file=None, openai_api_key="sk-real-openai-key-123456", openrouter_api_key="sk-or-key-1234567")
    providers = ("openai_compatible", "ollama", "openrouter", "openai")
    for provider in providers:
        await _build(settings, provider, fake_openai.url).ainvoke([HumanMessage("hi")])
    assert len(fake_openai.requests) == 4
    for request in fake_openai.requests:
        assert "authorization" not in request.headers
        assert not any("sk-" in value for value in request.headers.values())


async def test_the_sdk_s_own_transport_sends_no_placeholder_key(fake_openai: FakeOpenAI) -> None:
    """A call the lean transport leaves to the openai client (one with a response_format)
    carries no key either: the placeholder the client needs never goes out."""
    settings = Settings(_env_file=None, openai_api_key="sk-real-openai-key-123456")
    model = build_chat_model(settings, provider="openai", model_id="m", temperature=0, base_url=fake_openai.url)
    assert isinstance(model, ChatOpenAI)
    await model.ainvoke([HumanMessage("hi")], response_format={"type": "text"})
    (request,) = fake_openai.requests
    assert request.body["response_format"] == {"type": "text"}
    assert "authorization" not in request.headers
