"""Structured logs: JSON lines with agent and chat ids, and never a secret."""

from __future__ import annotations

import json
import logging

from agenthub.ops.logging import JsonFormatter


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
