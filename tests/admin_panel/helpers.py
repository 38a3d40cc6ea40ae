"""Helpers of the admin panel tests: a browser-like client signed in through the login form,
and every page of every view."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from agenthub.admin_panel import VIEWS

IDENTITIES = tuple(view.identity for view in VIEWS)


@asynccontextmanager
async def panel_client(url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client keeping cookies, as a browser does, not signed in."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    """Post the login form, as the page does."""
    return await client.post("/admin/login", data={"username": email, "password": password})


async def every_page(client: httpx.AsyncClient) -> dict[str, str]:
    """Every view's list page and the details page of each row it lists, by URL."""
    pages: dict[str, str] = {}
    for identity in IDENTITIES:
        listed = await client.get(f"/admin/{identity}/list", params={"pageSize": 100})
        assert listed.status_code == 200, (identity, listed.status_code, listed.text[:300])
        pages[str(listed.url)] = listed.text
        for path in sorted(set(re.findall(rf'href="[^"]*?(/admin/{identity}/details/[^"]+)"', listed.text))):
            details = await client.get(path)
            assert details.status_code == 200, (path, details.status_code)
            pages[path] = details.text
    return pages


def row_ids(page: str, identity: str) -> set[str]:
    """The ids a list page links to."""
    return set(re.findall(rf'/admin/{identity}/details/([^"?]+)"', page))
