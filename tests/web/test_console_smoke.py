"""The console as a visitor first meets it: the start page loads from the server alone,
without errors; a user logs in through its form; axe-core finds nothing serious; a phone
never scrolls sideways."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.web.accounts import ApiUser
from tests.web.console_login import log_in
from tests.web.console_server import ConsoleServer
from tests.web.page_watch import watch

pytestmark = pytest.mark.browser


def _no_horizontal_scroll(page: Page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")


def test_start_page_loads_from_the_server_alone_without_errors(page: Page, console_server: ConsoleServer) -> None:
    watched = watch(page)
    page.goto("/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    # The embedded server names its first owner (never the password), in words that read.
    expect(page.locator(".first-owner")).to_contain_text(f"Log in as {console_server.admin_email} with the password")
    page.wait_for_load_state("networkidle")
    assert watched.errors == []
    assert watched.requests, "the page requested nothing"
    assert watched.foreign_requests(console_server.url) == []


def test_a_registered_user_logs_in_through_the_form(page: Page, api_user: ApiUser) -> None:
    watched = watch(page)
    log_in(page, api_user)
    expect(page.get_by_label("Password")).to_have_count(0)
    assert watched.errors == []


def test_wrong_password_is_refused_and_the_form_stays(page: Page, api_user: ApiUser) -> None:
    page.goto("/")
    page.get_by_label("E-mail").fill(api_user.email)
    page.get_by_label("Password").fill("not-the-password-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()


def test_login_page_has_no_serious_accessibility_violations(page: Page, axe_check: Callable[[Page], None]) -> None:
    page.goto("/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    axe_check(page)


def test_logged_in_console_has_no_serious_accessibility_violations(
    logged_in_page: Page, axe_check: Callable[[Page], None]
) -> None:
    axe_check(logged_in_page)


def test_phone_never_scrolls_sideways(phone_page: Page, api_user: ApiUser) -> None:
    phone_page.goto("/")
    expect(phone_page.get_by_role("button", name="Log in")).to_be_visible()
    scroll_width, inner_width = _no_horizontal_scroll(phone_page)
    assert scroll_width <= inner_width, f"login page: {scroll_width}px wide in a {inner_width}px window"
    log_in(phone_page, api_user)
    scroll_width, inner_width = _no_horizontal_scroll(phone_page)
    assert scroll_width <= inner_width, f"logged in: {scroll_width}px wide in a {inner_width}px window"
