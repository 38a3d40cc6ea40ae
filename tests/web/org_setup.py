"""What the usage and settings browser tests set up through the API, as a client would: an
agent of the user's organisation on the offline ``fake`` model, turns sent over the SSE chat
route (``POST /api/v1/agents/{id}/chat``) and read to their ``done``, a member invited into
the organisation, budgets."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

from tests.web.accounts import PASSWORD, ApiUser

AGENT_ID = "helper"
MODEL = "fake-1"


@dataclass
class Usage:
    turns: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


def make_agent(url: str, user: ApiUser, agent_id: str = AGENT_ID) -> None:
    with httpx.Client(base_url=url, headers=user.headers, timeout=30) as client:
        response = client.post(
            "/api/v1/agents",
            json={"id": agent_id, "name": "Helper", "settings": {"provider": "fake", "model_id": MODEL}},
        )
    assert response.status_code == 201, response.text


def make_turns(url: str, user: ApiUser, contents: list[str], agent_id: str = AGENT_ID) -> Usage:
    """Send each message and read its answer to the end; the usage the stream reported."""
    usage = Usage()
    with httpx.Client(base_url=url, headers=user.headers, timeout=60) as client:
        for content in contents:
            event = ""
            with client.stream("POST", f"/api/v1/agents/{agent_id}/chat", json={"content": content}) as response:
                assert response.status_code == 200, response.read()
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        event = line.removeprefix("event: ")
                    elif line.startswith("data: ") and event == "usage":
                        data = json.loads(line.removeprefix("data: "))
                        usage.turns += 1
                        usage.input_tokens += data["input_tokens"]
                        usage.output_tokens += data["output_tokens"]
                    elif line.startswith("data: ") and event == "error":
                        raise AssertionError(f"the turn failed: {line}")
                    elif event == "done":
                        break
    return usage


def me(url: str, user: ApiUser) -> dict[str, str]:
    with httpx.Client(base_url=url, headers=user.headers, timeout=30) as client:
        response = client.get("/api/v1/auth/me")
    assert response.status_code == 200, response.text
    return response.json()


def set_budget(url: str, user: ApiUser, path: str, max_budget: str, duration: str | None) -> None:
    with httpx.Client(base_url=url, headers=user.headers, timeout=30) as client:
        response = client.put(path, json={"max_budget": max_budget, "budget_duration": duration})
    assert response.status_code == 200, response.text


def member_of(url: str, owner: ApiUser) -> ApiUser:
    """A new member of the owner's organisation, invited and registered through the API."""
    org_id = me(url, owner)["org_id"]
    with httpx.Client(base_url=url, headers=owner.headers, timeout=30) as client:
        invitation = client.post(f"/api/v1/orgs/{org_id}/invitations", json={}).json()
        email = f"member-{invitation['id'][-8:]}@example.com"
        registered = client.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "invitation": invitation["token"]}
        )
    assert registered.status_code == 201, registered.text
    tokens = registered.json()
    return ApiUser(email, PASSWORD, owner.org_name, tokens["access_token"], tokens["refresh_token"])
