"""Logging in through the console's own form, as a person does."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.web.accounts import ApiUser


def log_in(page: Page, user: ApiUser) -> None:
    """Log ``user`` in through the console's form, from its start page; returns once the
    logged-in frame shows (its "Log out" button) and its start page (the chat) has settled:
    nothing shows "Loading…" or "Opening the chat…" any more. Until then the chat may still
    move to an agent's chat (a replaced address), and a test going to another page at that
    moment could find itself back in the chat."""
    page.goto("/")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.locator(".loading")).to_have_count(0)
