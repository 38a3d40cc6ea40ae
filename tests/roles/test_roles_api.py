"""The role routes: anyone authenticated reads the roles; the platform's operators reload them."""

from __future__ import annotations

from pathlib import Path

from tests.agents.helpers import assert_error, client_for
from tests.support.accounts import api_key, bearer, second_org, user_token

ROLE = "---\ndescription: Coaches teams\nagent_type: simple\ntools: [role_call]\n---\n{prompt}\n"


async def test_roles_are_listed_and_read_with_their_prompt(sqlite_url: str, tmp_path: Path) -> None:
    (tmp_path / "coach.md").write_text(ROLE.format(prompt="You coach teams."), encoding="utf-8")
    async with client_for(sqlite_url, roles_dir=tmp_path) as (app, client):
        key = await api_key(app)
        for headers in ({}, bearer(key)):
            listed = await client.get("/api/v1/roles", headers=headers)
            assert listed.status_code == 200, listed.text
            by_name = {role["name"]: role for role in listed.json()}
            assert {"lawyer", "accountant", "hr", "coach"} <= set(by_name)
            assert by_name["coach"] == {
                "name": "coach", "description": "Coaches teams", "agent_type": "simple", "tools": ["role_call"],
            }

        lawyer = await client.get("/api/v1/roles/lawyer")
        assert lawyer.status_code == 200, lawyer.text
        assert lawyer.json()["source"] == "shipped"
        assert "lawyer" in lawyer.json()["prompt"] and "do not" in lawyer.json()["prompt"]
        error = assert_error(await client.get("/api/v1/roles/nobody"), 404, "not_found")
        assert "lawyer" in error["message"]
        assert_error(await client.get("/api/v1/roles/Not%20A%20Name"), 422)


async def test_an_edited_prompt_is_shown_after_a_reload(sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "coach.md"
    path.write_text(ROLE.format(prompt="First prompt."), encoding="utf-8")
    async with client_for(sqlite_url, roles_dir=tmp_path) as (_app, client):
        assert (await client.get("/api/v1/roles/coach")).json()["prompt"] == "First prompt."

        path.write_text(ROLE.format(prompt="Second prompt, edited."), encoding="utf-8")
        (tmp_path / "broken.md").write_text("no front matter", encoding="utf-8")
        (tmp_path / "lawyer.md").write_text(
            "---\ndescription: Our lawyer\n---\nYou are our lawyer.\n", encoding="utf-8"
        )
        reloaded = await client.post("/api/v1/roles/reload")

        assert reloaded.status_code == 200, reloaded.text
        assert "coach" in [role["name"] for role in reloaded.json()["roles"]]
        assert reloaded.json()["skipped"] == [{"file": "broken.md", "reason": reloaded.json()["skipped"][0]["reason"]}]
        assert "front matter" in reloaded.json()["skipped"][0]["reason"]
        assert (await client.get("/api/v1/roles/coach")).json()["prompt"] == "Second prompt, edited."
        lawyer = (await client.get("/api/v1/roles/lawyer")).json()
        assert (lawyer["prompt"], lawyer["source"]) == ("You are our lawyer.", "roles_dir")

        path.unlink()
        assert_error(await client.get("/api/v1/roles/coach"), 404)


async def test_only_the_platforms_operators_reload(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, client):
        admin = await user_token(app, "admin@example.com", role="admin")
        member = await user_token(app, "member@example.com", role="member")
        other_owner = await second_org(app)
        key = await api_key(app)

        assert (await client.post("/api/v1/roles/reload", headers=bearer(admin))).status_code == 200
        for token in (member, other_owner, key):
            assert_error(await client.post("/api/v1/roles/reload", headers=bearer(token)), 403, "forbidden")
            assert (await client.get("/api/v1/roles", headers=bearer(token))).status_code == 200
        anonymous = await client.post("/api/v1/roles/reload", headers={"Authorization": ""})
        assert anonymous.status_code == 401, anonymous.text
