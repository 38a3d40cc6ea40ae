"""Secrets of accounts (passwords, access and refresh tokens, invitation tokens, API keys,
credential values) never reach a log line at DEBUG, a response that is not the one meant
to show them once, or the database in plain text."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect, text

from agenthub.db.engine import create_engine
from agenthub.ops.logging import configure_logging
from tests.agents.helpers import agent_body, migrated
from tests.channels.helpers import receive_until_final
from tests.ops.test_logging import _served_like_agenthub_serve, restored_logging  # noqa: F401 - a fixture
from tests.support.server import OWNER_EMAIL, OWNER_PASSWORD, make_settings
from tests.support.ws import connect

NEW_PASSWORD = "plain-PASSWORD-8812"
CREDENTIAL_VALUE = "credential-VALUE-5521"


async def _every_text_in_the_database(database_url: str) -> str:
    """Every value of every table, as text."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
            dumped = []
            for table in tables:
                rows = (await connection.execute(text(f'SELECT * FROM "{table}"'))).all()
                dumped.extend(json.dumps([str(value) for value in row]) for row in rows)
            return "\n".join(dumped)
    finally:
        await engine.dispose()


async def test_account_secrets_stay_out_of_logs_lists_and_the_database(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], restored_logging: None  # noqa: F811
) -> None:
    settings = make_settings(database_url=sqlite_url, log_level="DEBUG", log_json=True)
    await migrated(sqlite_url)
    configure_logging(settings, component="gateway")
    secrets: dict[str, str] = {"owner password": OWNER_PASSWORD, "new password": NEW_PASSWORD}
    async with _served_like_agenthub_serve(settings) as address, \
            httpx.AsyncClient(base_url=f"http://{address}", timeout=20) as client:
        login = (await client.post("/api/v1/auth/login", json={"email": OWNER_EMAIL, "password": OWNER_PASSWORD}))
        assert login.status_code == 200, login.text
        tokens = login.json()
        secrets["access token"], secrets["refresh token"] = tokens["access_token"], tokens["refresh_token"]
        owner = {"Authorization": f"Bearer {tokens['access_token']}"}
        me = (await client.get("/api/v1/auth/me", headers=owner)).json()

        registered = await client.post(
            "/api/v1/auth/register", json={"email": "second@example.com", "password": NEW_PASSWORD}
        )
        assert registered.status_code == 201, registered.text
        secrets["second refresh token"] = registered.json()["refresh_token"]
        refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refreshed.status_code == 200, refreshed.text
        secrets["rotated refresh token"] = refreshed.json()["refresh_token"]
        owner = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}

        invitation = await client.post(f"/api/v1/orgs/{me['org_id']}/invitations", json={"role": "member"},
                                       headers=owner)
        assert invitation.status_code == 201, invitation.text
        secrets["invitation token"] = invitation.json()["token"]

        key = await client.post("/api/v1/api-keys", json={"name": "a program"}, headers=owner)
        assert key.status_code == 201, key.text
        secrets["API key"] = key.json()["key"]
        key_headers = {"Authorization": f"Bearer {secrets['API key']}"}

        credential = await client.post(
            "/api/v1/credentials", json={"name": "provider", "type": "api_key", "value": CREDENTIAL_VALUE},
            headers=owner,
        )
        assert credential.status_code == 201, credential.text
        assert CREDENTIAL_VALUE not in credential.text
        secrets["credential value"] = CREDENTIAL_VALUE

        created = await client.post("/api/v1/agents", json=agent_body(), headers=key_headers)
        assert created.status_code == 201, created.text
        agent_id = created.json()["id"]
        async with connect(f"ws://{address}/ws/agents/{agent_id}?token={secrets['API key']}") as socket:
            await socket.send(json.dumps({"type": "message", "content": "hello"}))
            events = await receive_until_final(socket)
        assert events[-1]["type"] == "message", events

        # What lists and reads show: never a secret.
        reads: list[tuple[str, dict[str, Any]]] = [
            ("/api/v1/api-keys", owner), ("/api/v1/credentials", owner),
            (f"/api/v1/credentials/{credential.json()['id']}", owner),
            (f"/api/v1/orgs/{me['org_id']}/invitations", owner), (f"/api/v1/orgs/{me['org_id']}/members", owner),
            ("/api/v1/auth/me", owner), ("/api/v1/audit", owner), ("/api/v1/user/export", owner),
        ]
        for path, headers in reads:
            response = await client.get(path, headers=headers)
            assert response.status_code == 200, f"{path}: {response.text}"
            shown = [name for name, value in secrets.items() if value in response.text]
            assert not shown, f"{path} shows the {shown}"
        # A refused login does not echo the password it was sent.
        refused = await client.post("/api/v1/auth/login", json={"email": OWNER_EMAIL, "password": NEW_PASSWORD})
        assert refused.status_code == 401 and NEW_PASSWORD not in refused.text
        short = await client.post("/api/v1/auth/register", json={"email": "x@example.com", "password": "short"})
        assert short.status_code == 422 and '"short"' not in short.text
        logged_out = await client.post("/api/v1/auth/logout", json={"refresh_token": secrets["rotated refresh token"]})
        assert logged_out.status_code == 204

    logging.getLogger("agenthub.accounts.test").debug("a debug line of ours")
    output = capsys.readouterr().err
    assert "a debug line of ours" in output, "logs are not at DEBUG: the test would prove nothing"
    in_logs = [name for name, value in secrets.items() if value in output]
    assert not in_logs, f"the logs hold the {in_logs}: " + "\n".join(l for l in output.splitlines() if any(secrets[n] in l for n in in_logs))[:1500]
    database = await _every_text_in_the_database(sqlite_url)
    in_database = [name for name, value in secrets.items() if value in database]
    assert not in_database, f"the database holds the {in_database} in plain text"
