"""Secrets in agent settings are masked at every depth in every response, and sending back
what a response showed keeps every stored secret."""

from __future__ import annotations

import copy

import httpx
import pytest

from agenthub.agents.schemas import mask_secrets, mask_settings
from tests.agents.helpers import agent_body, client_for

SECRETS = (
    "TOPTOKEN", "NESTEDTOK", "LISTSECRET", "DEEPKEY", "URLPASS", "BASEPASS", "PROMPTPASS", "PASSWD6", "BEARER7",
)
INTEGRATION = {
    "type": "webhook",
    "settings": {
        "bot_token": "TOPTOKEN",
        "chat_id": 42,
        "nested": {"token": "NESTEDTOK", "mode": "fast"},
        "list": [{"secret": "LISTSECRET", "name": "first"}, {"deeper": [{"api_key": "DEEPKEY"}]}],
        "url": "https://user:URLPASS@example.com/x",
        "plain_url": "https://example.com/y",
        "passwd": "PASSWD6",
        "headers": {"authorization": {"bearer": "BEARER7"}},
    },
}
SETTINGS = {
    "provider": "openai_compatible",
    "model_id": "house-model",
    "base_url": "https://proxy:BASEPASS@llm.example.com/v1",
    "system_prompt": "Fetch from https://bot:PROMPTPASS@files.example.com/a when asked.",
    "integrations": [INTEGRATION],
}
SHOWN_INTEGRATION = {
    "type": "webhook",
    "settings": {
        "bot_token": "***",
        "chat_id": 42,
        "nested": {"token": "***", "mode": "fast"},
        "list": [{"secret": "***", "name": "first"}, {"deeper": [{"api_key": "***"}]}],
        "url": "https://user:***@example.com/x",
        "plain_url": "https://example.com/y",
        "passwd": "***",
        "headers": {"authorization": "***"},
    },
}


async def _stored(app, agent_id: str) -> dict:  # type: ignore[no-untyped-def]
    """The settings as stored: what the runtime loads."""
    from agenthub.agents import service

    async with app.app.state.session_factory() as session:
        return (await service.load_for_runtime(session, agent_id=agent_id)).settings


def _assert_no_secret(response: httpx.Response) -> None:
    assert response.status_code in (200, 201), response.text
    for secret in SECRETS:
        assert secret not in response.text, (secret, response.request.url)


async def test_nested_secrets_and_url_passwords_never_leave_the_server(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        created = await client.post("/api/v1/agents", json=agent_body(id="deep", settings=SETTINGS))
        responses = [
            created,
            await client.get("/api/v1/agents"),
            await client.get("/api/v1/agents/deep"),
            await client.get("/api/v1/agents/deep/config"),
            await client.patch("/api/v1/agents/deep", json={"name": "Renamed"}),
        ]
        for response in responses:
            _assert_no_secret(response)

        shown = (await client.get("/api/v1/agents/deep")).json()["settings"]
        assert shown["integrations"] == [SHOWN_INTEGRATION]
        # Only the password is hidden: the rest of each URL stays readable.
        assert shown["base_url"] == "https://proxy:***@llm.example.com/v1"
        assert shown["system_prompt"] == "Fetch from https://bot:***@files.example.com/a when asked."
        # The runner's view (GET .../config) is masked the same way; runners load the real
        # settings from the database.
        assert (await client.get("/api/v1/agents/deep/config")).json()["settings"] == shown


async def test_sending_back_what_was_read_keeps_every_nested_secret(database_url: str) -> None:
    async with client_for(database_url) as (app, client):
        await client.post("/api/v1/agents", json=agent_body(id="deep", settings=SETTINGS))
        original = await _stored(app, "deep")
        read_back = (await client.get("/api/v1/agents/deep")).json()["settings"]

        same = await client.patch("/api/v1/agents/deep", json={"settings": read_back})
        _assert_no_secret(same)
        assert same.json()["config_version"] == 1, "what was read back is no change"
        assert await _stored(app, "deep") == original

        # Editing around the masked values keeps every secret as stored.
        edited = copy.deepcopy(read_back)
        edited["temperature"] = 0.1
        edited["integrations"][0]["settings"]["nested"]["mode"] = "slow"
        updated = await client.patch("/api/v1/agents/deep", json={"settings": edited})
        _assert_no_secret(updated)
        assert updated.json()["config_version"] == 2
        stored = await _stored(app, "deep")
        expected = copy.deepcopy(original["integrations"][0]["settings"])
        expected["nested"]["mode"] = "slow"
        assert stored["integrations"][0]["settings"] == expected
        assert stored["base_url"] == SETTINGS["base_url"]
        assert stored["system_prompt"] == SETTINGS["system_prompt"]

        # A new value replaces just that secret; a new URL password replaces just that one.
        edited["integrations"][0]["settings"]["list"][0]["secret"] = "ROTATED"
        edited["integrations"][0]["settings"]["url"] = "https://user:NEWPASS@example.com/x"
        await client.patch("/api/v1/agents/deep", json={"settings": edited})
        settings = (await _stored(app, "deep"))["integrations"][0]["settings"]
        assert settings["list"][0]["secret"] == "ROTATED"
        assert settings["url"] == "https://user:NEWPASS@example.com/x"
        assert settings["nested"]["token"] == "NESTEDTOK"
        assert settings["list"][1]["deeper"][0]["api_key"] == "DEEPKEY"
        assert settings["bot_token"] == "TOPTOKEN"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("https://user:pw@example.com/x", "https://user:***@example.com/x"),
        ("postgresql://app:p@ss:w@db.internal:5432/main", "postgresql://app:***@db.internal:5432/main"),
        ("redis://:hunter2@cache:6379/0", "redis://:***@cache:6379/0"),
        ("https://a:one@h1/x or http://b:two@h2:8080?q=1", "https://a:***@h1/x or http://b:***@h2:8080?q=1"),
        ("https://example.com:8443/path?user=a@b", "https://example.com:8443/path?user=a@b"),
        ("https://user@example.com/x", "https://user@example.com/x"),
        ("https://user:@example.com/x", "https://user:@example.com/x"),
    ],
)
def test_url_passwords_are_masked_and_the_rest_stays_readable(text: str, shown: str) -> None:
    assert mask_secrets({"where": text}) == {"where": shown}


def test_a_secret_name_masks_its_whole_value_and_empty_values_stay_visible() -> None:
    settings = {
        "options": {"user": "u"},
        "credentials": {"user": "u", "pin": "1234"},
        "secrets": ["a", "b"],
        "api_key": "",
        "token_ttl": 0,
        "keep": [[{"password": "x"}]],
    }
    assert mask_secrets(settings) == {
        "options": {"user": "u"},
        "credentials": "***",
        "secrets": "***",
        "api_key": "",
        "token_ttl": 0,
        "keep": [[{"password": "***"}]],
    }


def test_masking_leaves_the_stored_settings_untouched() -> None:
    settings = {**SETTINGS, "integrations": [copy.deepcopy(INTEGRATION)]}
    before = copy.deepcopy(settings)
    assert mask_settings(settings)["integrations"] == [SHOWN_INTEGRATION]
    assert settings == before
