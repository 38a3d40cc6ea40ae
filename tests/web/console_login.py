"""Logging in through the console's own form, as a person does."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.web.accounts import ApiUser


def log_in(page: Page, user: ApiUser) -> None:
    """Log ``user`` in through the console's form, from its start page; returns once the
    logged-in frame shows (its "Log out" button)."""
    page.goto("/")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
