"""Tracing: with ``OTEL_EXPORTER_OTLP_ENDPOINT`` set, a real turn's spans (the turn, each
model call, each tool call) reach a local OTLP/HTTP collector, with ids, names and token
counts but no message text or tool arguments; with nothing set nothing is made or sent;
LangSmith is LangChain's own tracing, turned on for the process and off again."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from agenthub.config import Settings
from agenthub.ops import tracing
from tests.agents.helpers import chat, client_for
from tests.support.fake_openai import FakeOpenAI
from tests.support.http_recorder import Recorder, Request
from tests.support.server import make_settings, running_app

SECRET_TEXT = "my card number is 4111"
TOOL_ARGUMENT = "zanzibar-weather"


def _collector(request: Request) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/x-protobuf"}, b""


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def _spans(requests: list[Request]) -> list[dict[str, Any]]:
    spans = []
    for request in requests:
        assert request.path == "/v1/traces" and request.headers["content-type"] == "application/x-protobuf"
        export = ExportTraceServiceRequest.FromString(request.body)
        for resource in export.resource_spans:
            service = {a.key: _value(a.value) for a in resource.resource.attributes}["service.name"]
            for scope in resource.scope_spans:
                for span in scope.spans:
                    spans.append({
                        "name": span.name, "service": service, "trace": span.trace_id, "id": span.span_id,
                        "parent": span.parent_span_id, "error": span.status.code == 2,
                        "attributes": {a.key: _value(a.value) for a in span.attributes},
                    })
    return spans


async def test_a_turns_spans_reach_the_otlp_collector(sqlite_url: str) -> None:
    with Recorder(_collector) as collector, FakeOpenAI() as model:
        model.add_tool_call("web_search", {"query": TOOL_ARGUMENT})
        model.add_answer("No idea, sorry.", prompt_tokens=11, completion_tokens=4)
        settings = {"otel_exporter_otlp_endpoint": collector.url, "otel_service_name": "agenthub-test"}
        async with client_for(sqlite_url, **settings) as (_app, client):
            body = {
                "name": "Traced",
                "settings": {
                    "provider": "openai_compatible", "model_id": "gpt-test", "base_url": model.url,
                    "system_prompt": "Be brief.", "tools": ["web_search"],
                },
            }
            created = await client.post("/api/v1/agents", json=body)
            assert created.status_code == 201, created.text
            message = await chat(client, created.json()["id"], SECRET_TEXT)
            assert message["content"] == "No idea, sorry."
        # The app's shutdown sent what the batch processor held.
        assert await asyncio.to_thread(
            collector.wait_for, lambda got: any(s["name"] == "agenthub.turn" for s in _spans(got))
        )
    spans = _spans(collector.requests)
    (turn,) = [s for s in spans if s["name"] == "agenthub.turn"]
    models = [s for s in spans if s["name"] == "agenthub.model"]
    (tool,) = [s for s in spans if s["name"] == "agenthub.tool"]
    assert turn["service"] == "agenthub-test"
    assert turn["attributes"]["agent.kind"] == "llm" and turn["attributes"]["chat.id"] == message["chat_id"]
    assert turn["attributes"]["agent.id"]
    # Model and tool calls are children of the turn, in its trace.
    assert len(models) == 2 and all(s["parent"] == turn["id"] and s["trace"] == turn["trace"] for s in models)
    assert tool["parent"] == turn["id"]
    assert {s["attributes"]["gen_ai.request.model"] for s in models} == {"gpt-test"}
    answer = models[-1]["attributes"]
    assert answer["gen_ai.usage.input_tokens"] == 11 and answer["gen_ai.usage.output_tokens"] == 4
    assert models[0]["attributes"]["gen_ai.response.tool_calls"] == 1
    # web_search without TAVILY_API_KEY: the tool answered an error.
    assert tool["attributes"] == {"tool.name": "web_search", "agent.id": turn["attributes"]["agent.id"], "tool.ok": False}
    assert tool["error"] and not turn["error"]
    everything = b"".join(r.body for r in collector.requests)
    assert SECRET_TEXT.encode() not in everything and TOOL_ARGUMENT.encode() not in everything
    assert tracing.span("after") is tracing.NO_SPAN  # off again after the shutdown


async def test_nothing_is_sent_when_nothing_is_set(sqlite_url: str) -> None:
    with Recorder(_collector) as collector:
        async with client_for(sqlite_url) as (_app, client):
            created = await client.post("/api/v1/agents", json={
                "name": "Quiet", "settings": {"provider": "fake", "model_id": "demo", "system_prompt": ""},
            })
            assert tracing.span("turn") is tracing.NO_SPAN
            await chat(client, created.json()["id"], "hello")
        assert collector.requests == []


def test_no_exporter_is_made_or_imported_without_settings() -> None:
    """In a fresh process (the SDK is imported by no other module): nothing is loaded."""
    code = (
        "import sys; from agenthub.config import Settings; from agenthub.ops.tracing import setup_tracing\n"
        "t = setup_tracing(Settings(_env_file=None))\n"
        "assert not t.enabled\n"
        "assert not [m for m in sys.modules if m.startswith('opentelemetry.sdk') or m.startswith('opentelemetry.exporter')]\n"
    )
    environment = {
        name: value for name, value in os.environ.items()
        if not name.startswith(("OTEL_", "LANGSMITH_", "LANGCHAIN_"))
    }
    result = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_langsmith_is_langchains_tracing_on_for_the_process_then_off(monkeypatch: Any) -> None:
    from langsmith.utils import tracing_is_enabled as tracing_v2_is_enabled

    for name in tracing.LANGSMITH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None, langsmith_api_key="lsv2-secret", langsmith_project="agents")

    traced = tracing.setup_tracing(settings)
    try:
        assert traced.enabled and traced.provider is None  # no OpenTelemetry without its endpoint
        assert os.environ["LANGSMITH_TRACING"] == "true" and os.environ["LANGSMITH_PROJECT"] == "agents"
        assert os.environ["LANGSMITH_API_KEY"] == "lsv2-secret"
        assert tracing_v2_is_enabled()
    finally:
        traced.shutdown()
    assert not any(name in os.environ for name in tracing.LANGSMITH_VARIABLES)
    assert not tracing_v2_is_enabled()


@pytest.mark.redis
async def test_a_runner_process_sends_the_spans_of_its_turns(
    postgres_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    from tests.runtime.helpers import chat as chat_over_sse
    from tests.runtime.helpers import create_agent, migrated_sessions

    engine, _sessions = await migrated_sessions(postgres_url)
    await engine.dispose()
    with Recorder(_collector) as collector:
        settings = make_settings(
            database_url=postgres_url, redis_url=redis_server_url, redis_prefix=redis_prefix,
            otel_exporter_otlp_endpoint=collector.url, otel_service_name="agenthub-runner-test",
        )
        async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, headers=app.headers, timeout=60) as client:
            agent_id = await create_agent(client, "isolated", isolation="process")
            reply = await chat_over_sse(client, agent_id, SECRET_TEXT)
            # Sent by the runner's batch processor within its delay (5 s), while it still runs.
            assert await asyncio.to_thread(
                collector.wait_for,
                lambda got: any(s["attributes"].get("chat.id") == reply.chat_id for s in _spans(got)), 20,
            )
            status = (await client.get(f"/api/v1/agents/{agent_id}/status")).json()
    (turn,) = [s for s in _spans(collector.requests) if s["attributes"].get("chat.id") == reply.chat_id]
    assert turn["name"] == "agenthub.turn" and turn["service"] == "agenthub-runner-test"
    assert status["isolation"] == "process" and status["pid"] != os.getpid()


def test_langsmith_receives_the_runs_of_a_model_call() -> None:
    """In a fresh process (LangChain keeps its LangSmith client for the process), against a
    local LangSmith endpoint (``LANGSMITH_ENDPOINT``): the model call's run arrives, in the
    project, with the key."""
    code = (
        "import asyncio\n"
        "from agenthub.config import Settings\n"
        "from agenthub.llm.fake import DemoChatModel\n"
        "from agenthub.ops.tracing import setup_tracing\n"
        "traced = setup_tracing(Settings(_env_file=None, langsmith_api_key='lsv2-test-key', "
        "langsmith_project='agents-test'))\n"
        "asyncio.run(DemoChatModel().ainvoke('hello'))\n"
        "traced.shutdown()\n"
    )
    with Recorder(lambda _request: (200, {"Content-Type": "application/json"}, b"{}")) as langsmith:
        environment = {
            name: value for name, value in os.environ.items() if not name.startswith(("LANGSMITH_", "LANGCHAIN_"))
        }
        environment["LANGSMITH_ENDPOINT"] = langsmith.url
        result = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
    runs = [r for r in langsmith.requests if r.method == "POST" and r.path.startswith("/runs")]
    assert runs and all(r.headers["x-api-key"] == "lsv2-test-key" for r in runs)
    assert any(b"agents-test" in r.body and b"DemoChatModel" in r.body for r in runs)
