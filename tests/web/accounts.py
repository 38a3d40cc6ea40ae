"""A fresh user and organisation for each browser test, registered through the API as a
visitor registers (``POST /api/v1/auth/register``), so tests never share data."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

PASSWORD = "a-good-password-1"


@dataclass(frozen=True)
class ApiUser:
    email: str
    password: str
    org_name: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def register_user(url: str) -> ApiUser:
    """Register a new user, owner of a new organisation, on the server at ``url``."""
    tag = uuid.uuid4().hex[:10]
    email, org_name = f"user-{tag}@example.com", f"Org {tag}"
    with httpx.Client(base_url=url, timeout=30) as client:
        response = client.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "org_name": org_name}
        )
    assert response.status_code == 201, f"register: {response.status_code} {response.text}"
    tokens = response.json()
    return ApiUser(email, PASSWORD, org_name, tokens["access_token"], tokens["refresh_token"])
