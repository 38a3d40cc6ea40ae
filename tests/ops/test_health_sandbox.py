"""The code sandbox in a running AgentHub: started in the background at start-up, shown in
/health (ok while starting or ready; unavailable, 503, when a required layer is missing or it
could not start), logged once, refusing code steps when unavailable, closed at shutdown."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import httpx
import pytest

from agenthub.sandbox.pool import PoolConfig
from agenthub.sandbox.service import COULD_NOT_START, SandboxService
from tests.agents.helpers import client_for

SANDBOX_CHECK_KEYS = {"ok", "status", "layers", "missing", "required", "pool_size", "warm"}
HONEST_STEP = "async def main(message, variables):\n    return {'twice': message * 2}\n"
SECRET = "sk-health-must-not-show-this-0123456789"


async def _public_health(url: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=20) as anonymous:
        return await anonymous.get("/health")


async def test_health_shows_the_sandbox_ready_with_its_layers_and_nothing_secret(sqlite_url: str) -> None:
    async with client_for(sqlite_url, openai_api_key=SECRET) as (app, _client):
        sandbox = app.app.state.sandbox
        assert await sandbox.ready()
        response = await _public_health(app.url)
        assert response.status_code == 200, response.text
        check = response.json()["checks"]["sandbox"]
        assert set(check) == SANDBOX_CHECK_KEYS, check
        assert check["ok"] is True and check["status"] == "ready"
        assert {"process", "rlimits", "language"} <= set(check["layers"])
        for reason in check["missing"]:  # each missing layer, named, with its reason
            name, _, why = reason.partition(": ")
            assert name not in check["layers"] and why, reason
        assert len(check["layers"]) + len(check["missing"]) == 8
        assert check["required"] == [] and check["pool_size"] == 1
        # Layer names and reasons only: no secret, no path of the platform's.
        for private in (SECRET, "agenthub-sandbox-", sys.executable, "PYTHONPATH"):
            assert private not in response.text
        # The sandbox the app keeps is the one code steps will use.
        result = await sandbox.run(HONEST_STEP, message=21)
        assert result.ok and result.value == {"twice": 42}, result


async def test_a_missing_layer_that_is_not_required_is_logged_once_and_health_stays_ok(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agenthub.sandbox.service")
    async with client_for(sqlite_url, sandbox_bubblewrap="off") as (app, _client):
        assert await app.app.state.sandbox.ready()
        response = await _public_health(app.url)
        assert response.status_code == 200, response.text
        check = response.json()["checks"]["sandbox"]
        assert check["ok"] is True and check["status"] == "ready"
        assert "bubblewrap" not in check["layers"]
        assert any(reason.startswith("bubblewrap: ") for reason in check["missing"]), check
    records = [record for record in caplog.records if record.name == "agenthub.sandbox.service"]
    warnings = [record.getMessage() for record in records if record.levelno == logging.WARNING]
    infos = [record.getMessage() for record in records if record.levelno == logging.INFO]
    assert len(warnings) == 1 and "bubblewrap" in warnings[0], warnings
    assert len(infos) == 1 and "process" in infos[0] and "bubblewrap" not in infos[0], infos
    assert not [record for record in records if record.levelno >= logging.ERROR]


async def test_a_missing_required_layer_makes_the_sandbox_unavailable_but_agenthub_serves(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agenthub.sandbox.service")
    async with client_for(sqlite_url, sandbox_bubblewrap="off", sandbox_required_layers="bubblewrap") as (
        app, client
    ):
        sandbox = app.app.state.sandbox
        assert not await sandbox.ready()
        response = await _public_health(app.url)
        assert response.status_code == 503, response.text
        body = response.json()
        assert body["status"] == "degraded"
        check = body["checks"]["sandbox"]
        assert check["ok"] is False and check["status"] == "unavailable"
        assert check["required"] == ["bubblewrap"]
        assert check["problem"] == "required layers are not active: bubblewrap"
        assert "bubblewrap" not in check["layers"] and "process" in check["layers"]
        assert body["checks"]["database"]["ok"] is True and body["checks"]["supervisor"]["ok"] is True
        # AgentHub itself goes on: only code steps are refused.
        assert (await client.get("/api/v1/agents")).status_code == 200
        refused = await sandbox.run(HONEST_STEP, message=1)
        assert not refused.ok and refused.error is not None
        assert refused.error.kind == "exception" and "bubblewrap" in refused.error.message
    errors = [r.getMessage() for r in caplog.records if r.name == "agenthub.sandbox.service" and r.levelno == logging.ERROR]
    assert len(errors) == 1 and "SANDBOX_REQUIRED_LAYERS" in errors[0] and "bubblewrap" in errors[0], errors


async def test_a_sandbox_that_could_not_start_is_unavailable_and_health_says_so_without_internals(
    sqlite_url: str, tmp_path: Path
) -> None:
    broken_python = str(tmp_path / "no-such-python")
    broken = SandboxService(PoolConfig(size=1, python=broken_python, bubblewrap="off"))
    await broken.start()
    try:
        assert broken.status == "unavailable" and broken.error
        health = broken.health()
        assert health["ok"] is False and health["problem"] == COULD_NOT_START
        assert broken_python not in json.dumps(health)
        result = await broken.run(HONEST_STEP, message=1)
        assert not result.ok and result.error is not None and "could not start" in result.error.message
        async with client_for(sqlite_url) as (app, _client):
            started = app.app.state.sandbox
            assert await started.ready()
            await started.close()
            app.app.state.sandbox = broken  # as if this one had been started
            response = await _public_health(app.url)
            assert response.status_code == 503
            assert response.json()["checks"]["sandbox"]["status"] == "unavailable"
            assert broken_python not in response.text
    finally:
        await broken.close()


async def test_a_starting_sandbox_is_ok_and_a_run_waits_for_it() -> None:
    sandbox = SandboxService(PoolConfig(size=1), report=False)
    sandbox.start_in_background()
    try:
        health = sandbox.health()
        assert health["ok"] is True and health["status"] == "starting"
        assert health["layers"] == [] and "problem" not in health
        result = await sandbox.run(HONEST_STEP, message=2)  # arrives before the sandbox is ready
        assert result.ok and result.value == {"twice": 4}, result
        assert sandbox.status == "ready"
    finally:
        await sandbox.close()
    assert sandbox.status == "stopped"


async def test_shutdown_closes_the_sandbox_and_its_fork_server(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, _client):
        sandbox = app.app.state.sandbox
        assert await sandbox.ready()
        fork_server = sandbox.pool._process
        assert fork_server is not None and fork_server.returncode is None
    assert sandbox.status == "stopped"
    assert fork_server.returncode is not None
