"""The admin panel at /admin, on the real app under uvicorn: owners and admins sign in with
the login form and see their own organisation's rows only, never a secret; members are
refused; another organisation's rows can be neither read nor changed; edits are audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from agenthub.accounts.models import ApiKey, AuthSession, User
from agenthub.admin_panel.auth import REFUSED_MEMBER
from agenthub.caller import DEFAULT_ORG
from agenthub.credentials.models import Credential
from tests.admin_panel.helpers import every_page, panel_client, row_ids, sign_in
from tests.agents.helpers import agent_body, chat, client_for
from tests.support.accounts import PASSWORD, bearer, user_id, user_token
from tests.support.server import OWNER_EMAIL, OWNER_PASSWORD, RunningApp

SECRETS = {
    "integration token": "TOPTOKEN-5521",
    "integration webhook secret": "HOOKSECRET-8812",
    "URL password": "URLPASS-3390",
    "HTTP tool header": "TOOLHEADER-4471",
    "request header": "REQHEADER-9034",
    "bot variable": "BOTVAR-6618",
    "credential value": "123456789:AAE-credential-value-xyz",
}
ALPHA_WORDS = ("Alpha agent", "Alpha bot", "lighthouse-question")
BRAVO_WORDS = ("Bravo agent", "Bravo bot", "Bravo Org", "panel-b", "bravo@example.com")


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _plant_alpha(owner: httpx.AsyncClient) -> dict[str, str]:
    """The default organisation's rows, with secrets in each place one can be; the plain
    values the API gave back once (API key, refresh token)."""
    await _post(owner, "/api/v1/agents", agent_body(id="panel-a", name="Alpha agent", settings={
        "base_url": f"https://proxy:{SECRETS['URL password']}@llm.example.com/v1",
        "integrations": [{"type": "webhook", "settings": {
            "bot_token": SECRETS["integration token"], "webhook_secret": SECRETS["integration webhook secret"],
        }}],
        "http_tools": [{"name": "lookup", "url": "https://example.com/x",
                        "headers": {"X-Api": SECRETS["HTTP tool header"]}}],
    }))
    await chat(owner, "panel-a", "lighthouse-question")
    key = await _post(owner, "/api/v1/api-keys", {"name": "Alpha key"})
    await _post(owner, "/api/v1/credentials", {"name": "Alpha cred", "type": "token",
                                               "value": SECRETS["credential value"]})
    bot = await _post(owner, "/api/v1/bots", {"name": "Alpha bot", "variables": {"api_token": SECRETS["bot variable"]}})
    await _post(owner, "/api/v1/requests", {"bot_id": bot["id"], "key": "menu", "url": "https://example.com/m",
                                            "headers": {"X-Key": SECRETS["request header"]}})
    login = await owner.post("/api/v1/auth/login", json={"email": OWNER_EMAIL, "password": OWNER_PASSWORD})
    return {"api key": key["key"], "refresh token": login.json()["refresh_token"], "password": OWNER_PASSWORD}


async def _plant_bravo(app: RunningApp) -> dict[str, str]:
    """A second organisation with an agent, a bot and an API key; its ids."""
    async with httpx.AsyncClient(base_url=app.url, timeout=20) as client:
        registered = await client.post("/api/v1/auth/register", json={
            "email": "bravo@example.com", "password": PASSWORD, "org_name": "Bravo Org",
        })
        assert registered.status_code == 201, registered.text
        client.headers.update(bearer(registered.json()["access_token"]))
        org_id = (await client.get("/api/v1/auth/me")).json()["org_id"]
        agent = await _post(client, "/api/v1/agents", agent_body(id="panel-b", name="Bravo agent"))
        await _post(client, "/api/v1/bots", {"name": "Bravo bot"})
        key = await _post(client, "/api/v1/api-keys", {"name": "Bravo key"})
    return {"org": org_id, "agent": agent["id"], "key": key["id"]}


async def _stored_secrets(app: RunningApp) -> dict[str, str]:
    """What the database holds in place of the secrets: hashes and sealed values."""
    async with app.app.state.session_factory() as session:
        stored = {f"password hash {u.email}": u.password_hash for u in await session.scalars(select(User))}
        stored |= {f"key hash {k.name}": k.key_hash for k in await session.scalars(select(ApiKey))}
        stored |= {f"sealed {c.name}": c.sealed_value for c in await session.scalars(select(Credential))}
        stored |= {f"refresh hash {s.id}": s.refresh_token_hash for s in await session.scalars(select(AuthSession))}
    return stored


async def test_an_owner_sees_every_view_of_their_organisation_only_and_no_secret(
    database_url: str, tmp_path: Path
) -> None:
    async with client_for(database_url, data_dir=tmp_path / "data") as (app, owner):
        plain = await _plant_alpha(owner)
        bravo = await _plant_bravo(app)
        secrets = {**SECRETS, **plain, **await _stored_secrets(app)}
        async with panel_client(app.url) as panel:
            signed_in = await sign_in(panel, OWNER_EMAIL, OWNER_PASSWORD)
            assert signed_in.status_code == 302, signed_in.text
            pages = await every_page(panel)

            text = "\n".join(pages.values())
            for word in ALPHA_WORDS:
                assert word in text, word
            for where, page in pages.items():
                for word in BRAVO_WORDS:
                    assert word not in page, (where, word)
                for name, secret in secrets.items():
                    assert secret not in page, (where, name)
            assert "***" in pages["/admin/agent/details/panel-a"]
            agents = next(page for url, page in pages.items() if url.endswith("/admin/agent/list?pageSize=100"))
            listed = row_ids(agents, "agent")  # the agents, and the bot (an agent of kind scenario)
            assert "panel-a" in listed and len(listed) == 2 and bravo["agent"] not in listed

            # Another organisation's rows by id: not found, and a search finds nothing of theirs.
            assert (await panel.get(f"/admin/agent/details/{bravo['agent']}")).status_code == 404
            assert (await panel.get(f"/admin/organization/details/{bravo['org']}")).status_code == 404
            assert (await panel.get(f"/admin/api-key/edit/{bravo['key']}")).status_code == 404
            searched = await panel.get("/admin/agent/list", params={"search": "Bravo"})
            assert searched.status_code == 200 and "Bravo agent" not in searched.text


async def test_edits_change_only_plain_fields_of_the_operators_organisation_and_are_audited(
    sqlite_url: str
) -> None:
    async with client_for(sqlite_url) as (app, owner):
        bravo = await _plant_bravo(app)
        async with panel_client(app.url) as panel:
            assert (await sign_in(panel, OWNER_EMAIL, OWNER_PASSWORD)).status_code == 302

            theirs = await panel.post(f"/admin/organization/edit/{bravo['org']}", data={"name": "Taken over"})
            assert theirs.status_code == 404
            their_key = await panel.post(f"/admin/api-key/edit/{bravo['key']}", data={"name": "Taken over"})
            assert their_key.status_code == 404
            deleted = await panel.delete("/admin/agent/delete", params={"pks": bravo["agent"]})
            assert deleted.status_code == 403
            async with app.app.state.session_factory() as session:
                names = set(await session.scalars(select(ApiKey.name)))
            assert "Bravo key" in names and "Taken over" not in names

            too_long = await panel.post(f"/admin/organization/edit/{DEFAULT_ORG}", data={"name": "x" * 201})
            assert too_long.status_code == 400
            # A page of another site can't post the form (the cookie is SameSite=Strict, and
            # such a request is refused before the panel); the panel's own page can.
            forged = await panel.post(f"/admin/organization/edit/{DEFAULT_ORG}", data={"name": "Forged"},
                                      headers={"Origin": "https://evil.example"})
            assert forged.status_code == 403
            renamed = await panel.post(f"/admin/organization/edit/{DEFAULT_ORG}", data={"name": "Alpha Renamed"},
                                       headers={"Origin": app.url})
            assert renamed.status_code == 302, renamed.text
            # Read-only views have no edit page at all.
            assert (await panel.get("/admin/agent/list")).status_code == 200
            assert (await panel.post("/admin/chat-message/edit/1", data={"content": "x"})).status_code == 403

        assert (await owner.get(f"/api/v1/orgs/{DEFAULT_ORG}")).json()["name"] == "Alpha Renamed"
        records = (await owner.get("/api/v1/audit")).json()["items"]
        update = next(r for r in records if r["action"] == "organization.update")
        assert update["resource_id"] == DEFAULT_ORG and update["address"] == "127.0.0.1"
        assert update["before"] == {"name": "Default"} and update["after"] == {"name": "Alpha Renamed"}
        assert update["actor_user_id"] == await user_id(app, app.token)


async def test_members_are_refused_and_a_demoted_admin_is_signed_out(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, owner):
        await user_token(app, "member@example.com", role="member")
        admin_token = await user_token(app, "admin@example.com", role="admin")
        async with panel_client(app.url) as anonymous:
            for path in ("/admin/", "/admin/user/list", f"/admin/organization/details/{DEFAULT_ORG}"):
                response = await anonymous.get(path)
                assert response.status_code == 302 and response.headers["location"].endswith("/admin/login"), path
            wrong = await sign_in(anonymous, OWNER_EMAIL, "not-the-password")
            assert wrong.status_code == 400 and "Invalid credentials" in wrong.text

        async with panel_client(app.url) as member:
            refused = await sign_in(member, "member@example.com", PASSWORD)
            assert refused.status_code == 403 and REFUSED_MEMBER in refused.text
            assert (await member.get("/admin/user/list")).status_code == 302

        async with panel_client(app.url) as admin:
            assert (await sign_in(admin, "admin@example.com", PASSWORD)).status_code == 302
            members = await admin.get("/admin/user/list")
            assert members.status_code == 200 and "member@example.com" in members.text
            admin_id = await user_id(app, admin_token)
            demoted = await owner.patch(f"/api/v1/orgs/{DEFAULT_ORG}/members/{admin_id}", json={"role": "member"})
            assert demoted.status_code == 200, demoted.text
            after = await admin.get("/admin/user/list")
            assert after.status_code == 302 and after.headers["location"].endswith("/admin/login")


async def test_the_panel_is_not_in_the_api_document_and_can_be_turned_off(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_, owner):
        paths = (await owner.get("/openapi.json")).json()["paths"]
        assert not [path for path in paths if path.startswith("/admin")]
    async with client_for(sqlite_url, admin_panel=False) as (_, owner):
        assert (await owner.get("/admin/login")).status_code == 404
