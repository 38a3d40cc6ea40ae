"""Registering, logging in, refreshing, logging out, who am I, and the tokens refused: as a
client sees them over HTTP."""

from __future__ import annotations

import base64
import json

import jwt

from agenthub.accounts.tokens import TokenIssuer
from tests.accounts.helpers import PASSWORD, app_signing_key, audit_records, bearer, login, me, register
from tests.agents.helpers import assert_error, client_for
from tests.support.server import OWNER_EMAIL, OWNER_PASSWORD


async def test_register_makes_an_organisation_with_its_owner(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        tokens = await register(client, "Ada.Lovelace@Example.com", org_name="Analytical Engines")
        assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in"}
        assert tokens["token_type"] == "bearer"
        assert tokens["expires_in"] == 15 * 60

        account = await me(client, tokens["access_token"])
        assert account["email"] == "ada.lovelace@example.com"
        assert account["username"] == "ada.lovelace"
        assert account["role"] == "owner"
        assert account["org_id"] != "default"
        organization = await client.get(f"/api/v1/orgs/{account['org_id']}", headers=bearer(tokens["access_token"]))
        assert organization.json() == {"id": account["org_id"], "name": "Analytical Engines", "role": "owner"}
        members = await client.get(f"/api/v1/orgs/{account['org_id']}/members", headers=bearer(tokens["access_token"]))
        assert [member["email"] for member in members.json()["items"]] == ["ada.lovelace@example.com"]

        # Without org_name the organisation is named after the user.
        other = await register(client, "grace@example.com")
        org_id = (await me(client, other["access_token"]))["org_id"]
        named = await client.get(f"/api/v1/orgs/{org_id}", headers=bearer(other["access_token"]))
        assert named.json()["name"] == "grace's organisation"

        (created,) = await audit_records(database_url, action="organization.create", resource_id=account["org_id"])
        assert created.actor_user_id == account["id"]
        assert created.after == {"name": "Analytical Engines", "owner": "ada.lovelace@example.com"}


async def test_register_refuses_a_short_password_and_a_bad_email(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        short = await client.post("/api/v1/auth/register", json={"email": "x@example.com", "password": "seven77"})
        error = assert_error(short, 422, "invalid_input")
        assert [detail["field"] for detail in error["details"]] == ["password"]
        assert "seven77" not in short.text

        for email in ("not-an-email", "two@@example.com", ""):
            response = await client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
            error = assert_error(response, 422, "invalid_input")
            assert [detail["field"] for detail in error["details"]] == ["email"]

        # Nothing was made: the e-mail is still free.
        await register(client, "x@example.com")


async def test_a_registered_email_is_409_whatever_its_case(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        await register(client, "Dup@Example.com")
        for email in ("dup@example.com", "DUP@EXAMPLE.COM", OWNER_EMAIL.upper()):
            response = await client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
            assert_error(response, 409, "conflict")
        # The first account is untouched and logs in with any case of its e-mail.
        await login(client, "dUp@example.com")


async def test_a_wrong_password_and_an_unknown_email_get_the_same_401(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        wrong = await client.post("/api/v1/auth/login", json={"email": OWNER_EMAIL, "password": "not-the-password"})
        unknown = await client.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": "x" * 12})
        assert assert_error(wrong, 401, "unauthorized") == assert_error(unknown, 401, "unauthorized")
        assert "not-the-password" not in wrong.text
        await login(client, OWNER_EMAIL.upper(), OWNER_PASSWORD)


async def test_refresh_rotates_the_refresh_token(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        first = await login(client, OWNER_EMAIL, OWNER_PASSWORD)
        refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert refreshed.status_code == 200, refreshed.text
        second = refreshed.json()
        assert second["refresh_token"] != first["refresh_token"]
        assert second["token_type"] == "bearer"
        assert (await me(client, second["access_token"]))["email"] == OWNER_EMAIL

        again = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert_error(again, 401, "unauthorized")
        # The new one goes on working (and rotates in turn).
        third = await client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
        assert third.status_code == 200, third.text
        bogus = await client.post("/api/v1/auth/refresh", json={"refresh_token": "made-up"})
        assert_error(bogus, 401, "unauthorized")


async def test_logout_revokes_the_session_at_once(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        tokens = await login(client, OWNER_EMAIL, OWNER_PASSWORD)
        await me(client, tokens["access_token"])  # known (and remembered) before the logout

        response = await client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
        assert response.status_code == 204, response.text

        assert_error(await client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"])), 401, "unauthorized")
        refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert_error(refresh, 401, "unauthorized")
        # Another login of the same user is not affected.
        assert (await client.get("/api/v1/auth/me")).status_code == 200


async def test_me_shows_the_account(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        account = (await client.get("/api/v1/auth/me")).json()
        assert set(account) == {"id", "email", "username", "org_id", "role"}
        assert account["id"].startswith("usr_")
        assert account == {
            "id": account["id"], "email": OWNER_EMAIL, "username": OWNER_EMAIL.split("@")[0],
            "org_id": "default", "role": "owner",
        }
        assert_error(await client.get("/api/v1/auth/me", headers={"Authorization": ""}), 401, "unauthorized")


def _claims(token: str) -> dict[str, object]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def _with_payload(token: str, payload: dict[str, object]) -> str:
    """``token`` with another payload and its own (now wrong) signature."""
    header, _, signature = token.split(".")
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


async def test_expired_forged_and_unsigned_tokens_get_401(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, client):
        claims = _claims(app.token)
        who = {"user_id": claims["sub"], "org_id": claims["org"], "role": claims["role"], "session_id": claims["sid"]}
        key = await app_signing_key(sqlite_url)
        # The key is the app's: a token it issues now is taken, so the refusals below are
        # about what is wrong with each, not about the key.
        fresh = TokenIssuer(key, lifetime_seconds=60).issue(**who)  # type: ignore[arg-type]
        assert (await client.get("/api/v1/auth/me", headers=bearer(fresh))).status_code == 200

        expired = TokenIssuer(key, lifetime_seconds=-60).issue(**who)  # type: ignore[arg-type]
        error = assert_error(await client.get("/api/v1/auth/me", headers=bearer(expired)), 401, "unauthorized")
        assert "expired" in error["message"]

        forged = TokenIssuer("another key, as long as the real one: 32+ bytes", lifetime_seconds=60).issue(**who)  # type: ignore[arg-type]
        unsigned = jwt.encode({**claims, "exp": int(claims["exp"]) + 3600}, None, algorithm="none")  # type: ignore[call-overload]
        tampered = _with_payload(app.token, {**claims, "sub": "usr_someone_else"})
        for token in (forged, unsigned, tampered, "not-a-token", unsigned.rstrip(".")):
            response = await client.get("/api/v1/auth/me", headers=bearer(token))
            assert_error(response, 401, "unauthorized")
            assert "Traceback" not in response.text

        basic = await client.get("/api/v1/auth/me", headers={"Authorization": "Basic b3duZXI6cGFzcw=="})
        assert_error(basic, 401, "unauthorized")
