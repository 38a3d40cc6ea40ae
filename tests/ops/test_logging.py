"""Structured logs: JSON lines with agent and chat ids, and never a secret, even at DEBUG."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn

from agenthub.app import create_app
from agenthub.config import Settings
from agenthub.ops.logging import LIBRARY_FLOORS, JsonFormatter, configure_logging
from tests.agents.helpers import agent_body, migrated
from tests.channels.helpers import receive_until_final
from tests.support.fake_telegram import FakeBotApi
from tests.support.server import OWNER_PASSWORD, free_port, log_in, make_settings
from tests.support.ws import connect


def _render(record: logging.LogRecord) -> dict:
    return json.loads(JsonFormatter("gateway").format(record))


def test_a_log_line_is_json_with_the_agent_and_chat_ids() -> None:
    record = logging.makeLogRecord({
        "name": "agenthub.runtime.turns", "levelname": "WARNING", "msg": "turn failed: %s",
        "args": ("APIError",), "agent_id": "helper", "chat_id": "c-1",
    })
    line = _render(record)
    assert line["msg"] == "turn failed: APIError"
    assert line["agent_id"] == "helper" and line["chat_id"] == "c-1"
    assert line["level"] == "warning" and line["component"] == "gateway"


def test_keys_and_tokens_are_masked_wherever_they_appear() -> None:
    openai_key = "sk-proj-abcdefghijklmnop1234"
    bot_token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    try:
        raise RuntimeError(f"401 from provider for key {openai_key}")
    except RuntimeError:
        import sys

        exc_info = sys.exc_info()
    record = logging.makeLogRecord({
        "name": "x", "levelname": "ERROR", "msg": "calling telegram with %s",
        "args": (bot_token,), "error": f"Authorization: Bearer {openai_key}", "exc_info": exc_info,
    })
    rendered = JsonFormatter("runner").format(record)
    assert openai_key not in rendered
    assert bot_token not in rendered
    assert "[redacted]" in json.loads(rendered)["msg"]


def test_access_tokens_and_api_keys_are_masked_wherever_they_appear() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3JfMSJ9.c2lnbmF0dXJlLW9mLWl0"
    opaque = "opaque-token-0123456789"
    api_key = "ahk_Zm9vYmFyYmF6cXV4MDEyMzQ1"
    record = logging.makeLogRecord({
        "name": "uvicorn.error", "levelname": "INFO", "msg": '%s - "WebSocket %s" [accepted]',
        "args": ("127.0.0.1:5000", f"/ws/agents/demo?chat_id=c1&token={opaque}&after=m1"),
        "detail": f"a key {api_key} and a token {jwt}",
    })
    rendered = JsonFormatter("gateway").format(record)
    for secret in (jwt, opaque, api_key):
        assert secret not in rendered
    assert "/ws/agents/demo?chat_id=c1&token=[redacted]&after=m1" in json.loads(rendered)["msg"]


SECRET = "123:debug-secret-token"
NESTED = "NESTED-DEBUG-SECRET"
PAYLOAD = "a private question about PAYLOAD-7731"


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """configure_logging changes process-wide logging: put it back after the test."""
    root = logging.getLogger()
    names = [*LIBRARY_FLOORS, "agenthub"]
    saved = (root.handlers[:], root.level, {name: logging.getLogger(name).level for name in names})
    yield
    root.handlers[:], root.level = saved[0], saved[1]
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


@asynccontextmanager
async def _served_like_agenthub_serve(settings: Settings) -> AsyncIterator[str]:
    """The app under uvicorn as ``agenthub serve`` runs it: uvicorn leaves logging alone
    (``log_config=None``, no level), WebSockets by uvicorn's default implementation."""
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


async def test_debug_logs_keep_secrets_and_chat_text_out(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    settings = make_settings(database_url=sqlite_url, log_level="DEBUG", log_json=True)
    await migrated(sqlite_url)
    configure_logging(settings, component="gateway")
    integration = {"type": "custom", "settings": {"bot_token": SECRET, "extra": {"token": NESTED}}}
    async with _served_like_agenthub_serve(settings) as address:
        token = await log_in(f"http://{address}")
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=f"http://{address}", timeout=20, headers=headers) as client:
            body = agent_body(settings={"integrations": [integration]})
            created = await client.post("/api/v1/agents", json=body)
            assert created.status_code == 201, created.text
            agent_id = created.json()["id"]
            async with connect(f"ws://{address}/ws/agents/{agent_id}?token={token}") as socket:
                await socket.send(json.dumps({"type": "message", "content": PAYLOAD}))
                events = await receive_until_final(socket)
            assert events[-1]["type"] == "message" and "PAYLOAD-7731" in events[-1]["content"]
    logging.getLogger("agenthub.ops.test").debug("our own debug line")

    output = capsys.readouterr().err
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(line["msg"] == "our own debug line" and line["level"] == "debug" for line in lines)
    assert any(line["logger"].startswith("agenthub.") and line["level"] == "info" for line in lines)
    for secret in (SECRET, NESTED, "PAYLOAD-7731", OWNER_PASSWORD, token, token.rsplit(".", 1)[1]):
        assert secret not in output
    assert not [line for line in lines if line["logger"] == "aiosqlite" and line["level"] == "debug"]


@pytest.mark.parametrize("level", ["DEBUG", "INFO", "ERROR"])
def test_libraries_that_log_data_stay_above_it_and_never_below_log_level(
    level: str, restored_logging: None
) -> None:
    configure_logging(make_settings(database_url="sqlite+aiosqlite://", log_level=level), component="gateway")
    root_level = logging.getLevelName(level)
    for name, floor in LIBRARY_FLOORS.items():
        for logger in (logging.getLogger(name), logging.getLogger(f"{name}.child")):
            assert not logger.isEnabledFor(floor - 1), name
            assert not logger.isEnabledFor(root_level - 1), name
    for name in ("aiosqlite", "sqlalchemy.engine.Engine", "uvicorn.error", "websockets.server", "httpx"):
        assert not logging.getLogger(name).isEnabledFor(logging.DEBUG)
    assert logging.getLogger("agenthub.runtime.turns").getEffectiveLevel() == root_level


BOT_TOKEN = "555000:telegram-debug-secret-token"
BOT_TEXT = "a private reminder about TELEGRAM-4417"


async def test_a_telegram_bot_at_debug_logs_neither_its_token_nor_the_text_it_sends(
    capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    from telegram import Bot

    configure_logging(make_settings(database_url="sqlite+aiosqlite://", log_level="DEBUG", log_json=True),
                      component="gateway")
    async with FakeBotApi() as api:
        api.add_bot(BOT_TOKEN)
        async with Bot(BOT_TOKEN, base_url=api.root + "/bot") as bot:
            await bot.send_message(chat_id=42, text=BOT_TEXT)
    logging.getLogger("agenthub.ops.test").debug("our own debug line")
    assert [call.params["text"] for call in api.sent(BOT_TOKEN)] == [BOT_TEXT]
    output = capsys.readouterr().err
    assert "our own debug line" in output
    for secret in (BOT_TOKEN, BOT_TOKEN.split(":")[1], "TELEGRAM-4417"):
        assert secret not in output


PLAIN_KEY = "plainkey0123456789abcdef"  # no sk- prefix: only its value gives it away
BOX_KEY = "Ym94LWtleS1wbGFpbi12YWx1ZS0zMi1ieXRlcy1sb24="  # a valid SECRET_BOX_KEY: 32 bytes
DB_PASSWORD = "db-pa55:w%rd"


def _secret_settings() -> Settings:
    return make_settings(
        database_url=f"postgresql://agenthub:{DB_PASSWORD.replace('%', '%25').replace(':', '%3A')}@db/agenthub",
        redis_url="redis://:redis-pa55word@cache:6379/0",
        openai_api_key=PLAIN_KEY,
        openrouter_api_key="or-plain-0987654321",
        smtp_password="smtp-pa55word",
        telegram_bot_token="bot-token-plain-value",
        secret_box_key=BOX_KEY,
    )


def _basic(user: str, password: str) -> str:
    import base64

    return base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize("log_json", [True, False])
def test_the_configured_secret_values_are_masked_wherever_they_appear(
    log_json: bool, capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    settings = _secret_settings().model_copy(update={"log_json": log_json})
    configure_logging(settings, component="gateway")
    secrets = [
        PLAIN_KEY, "or-plain-0987654321", "smtp-pa55word", "bot-token-plain-value", BOX_KEY,
        DB_PASSWORD, "redis-pa55word", _basic("agenthub", DB_PASSWORD), _basic("", "redis-pa55word"),
    ]
    log = logging.getLogger("agenthub.ops.test")
    log.warning("provider said: invalid key %s", PLAIN_KEY, extra={"error": f"401 for {secrets[1]}"})
    log.warning("echoed: Authorization: Basic %s / %s", secrets[7], secrets[8])
    log.warning("settings", extra={"seen": {"password": DB_PASSWORD, "others": secrets[2:6]}})
    try:
        raise RuntimeError(f"connect to redis://:{secrets[6]}@cache failed")
    except RuntimeError:
        log.exception("with a trace")
    output = capsys.readouterr().err
    assert output.count("[redacted]") >= len(secrets), output
    for secret in secrets:
        assert secret not in output, secret
    assert "provider said: invalid key" in output and "Authorization: Basic" in output
    if log_json:
        assert all(json.loads(line) for line in output.splitlines() if line.startswith("{"))


async def test_an_agents_base_url_credentials_echoed_by_its_provider_are_masked(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    from tests.support.fake_openai import FakeOpenAI
    from tests.support.server import running_app

    password = "agent-pa55word-77"
    basic = _basic("proxyuser", password)
    settings = make_settings(database_url=sqlite_url, log_json=True)
    await migrated(sqlite_url)
    configure_logging(settings, component="gateway")
    with FakeOpenAI() as model:
        # What a proxy does with credentials it refuses: says them back.
        model.add_error(401, f"bad credentials: Basic {basic} (user proxyuser, password {password})")
        base_url = model.url.replace("http://", f"http://proxyuser:{password}@")
        async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
            body = {"name": "proxied", "settings": {
                "provider": "openai_compatible", "model_id": "m", "base_url": base_url, "isolation": "shared",
            }}
            created = await client.post("/api/v1/agents", json=body)
            assert created.status_code == 201, created.text
            async with connect(app.ws(f"/ws/agents/{created.json()['id']}")) as socket:
                await socket.send(json.dumps({"type": "message", "content": "hello"}))
                events = await receive_until_final(socket)
        assert events[-1]["type"] == "error", events
        assert model.requests[-1].headers.get("authorization", "").endswith(basic), "sent as HTTP Basic"
    output = capsys.readouterr().err
    assert "turn failed" in output and "bad credentials" in output, output
    assert password not in output and basic not in output
