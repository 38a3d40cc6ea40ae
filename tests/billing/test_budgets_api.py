"""Setting and reading budgets: owners and admins of an organisation set its users', its
own and its API keys' budgets; another organisation's are not found; bad values are clear
422s; every change is audited; everyone reads their own."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest
from sqlalchemy import select

from agenthub.audit.models import AuditRecord
from tests.agents.helpers import assert_error
from tests.billing.conftest import MakeSettings
from tests.billing.helpers import api_key, budget, me, member, other_org
from tests.support.server import running_app

NO_BUDGET = dict.fromkeys(("scope", "max_budget", "spend", "remaining", "budget_duration", "resets_at"))


async def test_admins_set_budgets_and_every_change_is_audited(embedded_settings: MakeSettings) -> None:
    settings = await embedded_settings(user_budget_duration="1mo")
    async with running_app(settings) as app, httpx.AsyncClient(
        base_url=app.url, timeout=30, headers=app.headers
    ) as client:
        owner = await me(client)
        assert await budget(client) == NO_BUDGET  # no USER_DEFAULT_BUDGET, none set
        user_id, user_headers = await member(app, org_id=owner["org_id"])
        url = f"/api/v1/users/{user_id}/budget"
        assert (await client.get(url)).json() == NO_BUDGET

        created = await client.put(url, json={"max_budget": "12.5"})
        assert created.status_code == 200, created.text
        body = created.json()
        # A new user budget takes USER_BUDGET_DURATION; its first period starts now.
        assert {k: body[k] for k in ("scope", "subject_id", "max_budget", "spend", "remaining", "budget_duration")} == {
            "scope": "user", "subject_id": user_id, "max_budget": "12.50000000", "spend": "0.00000000",
            "remaining": "12.50000000", "budget_duration": "1mo",
        }
        started = _when(body["period_started_at"])
        assert _when(body["resets_at"]).month != started.month
        # The user reads it as their own.
        own = await budget(client, headers=user_headers)
        assert own == {k: body[k] for k in NO_BUDGET}

        # A number is accepted; a duration left out is kept, null means never.
        changed = (await client.put(url, json={"max_budget": 3})).json()
        assert (changed["max_budget"], changed["budget_duration"]) == ("3.00000000", "1mo")
        assert changed["period_started_at"] == body["period_started_at"]  # the same period goes on
        forever = (await client.put(url, json={"max_budget": 0.1, "budget_duration": None})).json()
        assert (forever["max_budget"], forever["budget_duration"], forever["resets_at"]) == ("0.10000000", None, None)

        org = await client.put(f"/api/v1/orgs/{owner['org_id']}/budget", json={"max_budget": "100", "budget_duration": "1w"})
        assert org.json()["scope"] == "org" and org.json()["budget_duration"] == "1w", org.text
        key_id, _ = await api_key(app, org_id=owner["org_id"])
        key = await client.put(f"/api/v1/api-keys/{key_id}/budget", json={"max_budget": "0"})
        assert (key.json()["scope"], key.json()["remaining"]) == ("api_key", "0.00000000"), key.text
        assert (await client.get(f"/api/v1/api-keys/{key_id}/budget")).json()["max_budget"] == "0.00000000"

        async with app.app.state.session_factory() as session:
            records = list(await session.scalars(
                select(AuditRecord).where(AuditRecord.resource_type == "budget").order_by(AuditRecord.id)
            ))
        assert [(r.action, r.resource_id) for r in records] == [
            ("budget.create", f"user:{user_id}"), ("budget.update", f"user:{user_id}"),
            ("budget.update", f"user:{user_id}"), ("budget.create", f"org:{owner['org_id']}"),
            ("budget.create", f"api_key:{key_id}"),
        ]
        assert records[1].before["max_budget"] == "12.50000000" and records[1].after["max_budget"] == "3.00000000"
        assert all(r.actor_user_id == owner["id"] and r.address == "127.0.0.1" for r in records)


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_another_organisations_budgets_are_not_found(embedded_settings: MakeSettings) -> None:
    async with running_app(await embedded_settings()) as app, httpx.AsyncClient(
        base_url=app.url, timeout=30, headers=app.headers
    ) as client:
        owner = await me(client)
        user_id, _ = await member(app, org_id=owner["org_id"])
        key_id, _ = await api_key(app, org_id=owner["org_id"])
        stranger = await other_org(app)
        for path in (f"/users/{user_id}", f"/orgs/{owner['org_id']}", f"/api-keys/{key_id}",
                     "/users/usr_nobody", "/orgs/nowhere", "/api-keys/key_nothing"):
            url = f"/api/v1{path}/budget"
            assert_error(await client.get(url, headers=stranger), 404)
            assert_error(await client.put(url, json={"max_budget": "1"}, headers=stranger), 404)
        assert (await client.get(f"/api/v1/users/{user_id}/budget")).json() == NO_BUDGET  # nothing was set
        async with app.app.state.session_factory() as session:
            assert list(await session.scalars(select(AuditRecord).where(AuditRecord.resource_type == "budget"))) == []


async def test_members_and_api_keys_may_not_set_budgets(embedded_settings: MakeSettings) -> None:
    async with running_app(await embedded_settings()) as app, httpx.AsyncClient(
        base_url=app.url, timeout=30, headers=app.headers
    ) as client:
        owner = await me(client)
        user_id, member_headers = await member(app, org_id=owner["org_id"])
        _, key_headers = await api_key(app, org_id=owner["org_id"])
        for headers in (member_headers, key_headers):
            for url in (f"/api/v1/users/{user_id}/budget", f"/api/v1/orgs/{owner['org_id']}/budget"):
                assert_error(await client.put(url, json={"max_budget": "1000"}, headers=headers), 403)
                assert_error(await client.get(url, headers=headers), 403)
        # An admin may.
        _, admin_headers = await member(app, org_id=owner["org_id"], role="admin")
        set_by_admin = await client.put(f"/api/v1/users/{owner['id']}/budget", json={"max_budget": "5"}, headers=admin_headers)
        assert set_by_admin.status_code == 200, set_by_admin.text
        # An API key reads its own budget (none yet); without credentials: 401.
        assert await budget(client, headers=key_headers) == NO_BUDGET
        async with httpx.AsyncClient(base_url=app.url, timeout=30) as anonymous:
            assert_error(await anonymous.get("/api/v1/user/budget"), 401)
            assert_error(await anonymous.put(f"/api/v1/orgs/{owner['org_id']}/budget", json={"max_budget": "1"}), 401)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"max_budget": "-1"}, "max_budget"),
        ({"max_budget": -0.5}, "max_budget"),
        ({"max_budget": "ten"}, "max_budget"),
        ({"max_budget": "NaN"}, "max_budget"),
        ({"max_budget": "Infinity"}, "max_budget"),
        ({"max_budget": "1e3"}, "max_budget"),
        ({"max_budget": "12345678901"}, "max_budget"),
        ({"max_budget": 1e12}, "max_budget"),
        ({"max_budget": "0.123456789"}, "max_budget"),
        ({"max_budget": " 1"}, "max_budget"),
        ({"max_budget": True}, "max_budget"),
        ({"max_budget": None}, "max_budget"),
        ({"max_budget": [1]}, "max_budget"),
        ({}, "max_budget"),
        ({"max_budget": "1", "budget_duration": "1y"}, "budget_duration"),
        ({"max_budget": "1", "budget_duration": "0d"}, "budget_duration"),
        ({"max_budget": "1", "budget_duration": 5}, "budget_duration"),
        ({"max_budget": "1", "spend": "0"}, "spend"),
    ],
)
async def test_bad_budgets_are_clear_errors(sqlite_url: str, body: dict, field: str) -> None:
    from tests.agents.helpers import migrated
    from tests.support.server import make_settings

    await migrated(sqlite_url)
    async with running_app(make_settings(database_url=sqlite_url)) as app, httpx.AsyncClient(
        base_url=app.url, timeout=30, headers=app.headers
    ) as client:
        owner = await me(client)
        error = assert_error(await client.put(f"/api/v1/orgs/{owner['org_id']}/budget", json=body), 422)
        assert any(field in detail["field"] for detail in error["details"]), error
