"""Who may read /metrics (the install's operators: owners and admins of the default
organisation; or METRICS_TOKEN when it is set), and that /health stays public without
showing any organisation's data."""

from __future__ import annotations

import httpx

from tests.agents.helpers import assert_error, client_for
from tests.support.accounts import api_key, bearer, second_org, user_token

METRICS_TOKEN = "scraper-secret-123"


async def test_metrics_need_an_operator(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, client):
        admin = await user_token(app, "admin@example.com", role="admin")
        member = await user_token(app, "member@example.com")
        key = await api_key(app)
        other_owner = await second_org(app)
        async with httpx.AsyncClient(base_url=app.url, timeout=20) as anonymous:
            assert_error(await anonymous.get("/metrics"), 401)
            assert_error(await anonymous.get("/metrics", headers=bearer("forged.jwt.token")), 401)
            # Without METRICS_TOKEN set, no bearer value stands for it.
            assert_error(await anonymous.get("/metrics", headers=bearer(METRICS_TOKEN)), 401)

            for token in (app.token, admin):
                response = await anonymous.get("/metrics", headers=bearer(token))
                assert response.status_code == 200, response.text
                assert "agenthub_messages_total" in response.text
            # The metrics count every organisation's traffic: another organisation's owner
            # (anybody may register one) may not read them.
            for token in (member, key, other_owner):
                assert_error(await anonymous.get("/metrics", headers=bearer(token)), 403, "forbidden")


async def test_metrics_token_is_a_bearer_for_the_metrics_only(sqlite_url: str) -> None:
    async with client_for(sqlite_url, metrics_token=METRICS_TOKEN) as (app, client):
        async with httpx.AsyncClient(base_url=app.url, timeout=20) as scraper:
            response = await scraper.get("/metrics", headers=bearer(METRICS_TOKEN))
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/plain")
            assert_error(await scraper.get("/metrics", headers=bearer(METRICS_TOKEN + "x")), 401)
            assert_error(await scraper.get("/metrics"), 401)
            assert_error(await scraper.get("/api/v1/agents", headers=bearer(METRICS_TOKEN)), 401)
        assert (await client.get("/metrics")).status_code == 200  # the owner still may


async def test_health_is_public_and_shows_no_organisation_data(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        created = await client.post("/api/v1/agents", json={
            "id": "private-agent", "name": "Private name", "settings": {"provider": "fake", "model_id": "demo"}})
        assert created.status_code == 201
        assert (await client.post("/api/v1/agents/private-agent/start")).status_code == 200
        async with httpx.AsyncClient(base_url=client.base_url, timeout=20) as anonymous:
            response = await anonymous.get("/health")
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
        for private in ("private-agent", "Private name", "owner@example.com", "default"):
            assert private not in response.text
