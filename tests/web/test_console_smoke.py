"""The console as a visitor first meets it: the start page loads from the server alone,
without errors; a user logs in through its form; axe-core finds nothing serious; a phone
never scrolls sideways; an address the console has no page for says so and leads back."""

from __future__ import annotations

import re
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


def test_an_unknown_page_says_so_and_leads_back(logged_in_page: Page, axe_check: Callable[[Page], None]) -> None:
    page = logged_in_page
    watched = watch(page)
    page.goto("/#/nonsense/deeper")
    missing = page.get_by_role("region", name="Page not found")
    expect(missing).to_contain_text("The console has no page at #/nonsense/deeper")
    # The address stays as typed (it is not silently another page), the menu is there, no area current.
    expect(page).to_have_url(re.compile(r"#/nonsense/deeper$"))
    expect(page.get_by_role("navigation", name="Main").locator("[aria-current]")).to_have_count(0)
    axe_check(page)
    missing.get_by_role("link", name="Go to the chat").click()
    expect(page).to_have_url(re.compile(r"#/chat"))
    expect(page.get_by_text("No agent or bot to talk to yet")).to_be_visible()

    # An address that is not valid percent-encoding (a cut link) is a missing page too, not a blank one.
    page.goto("/#/nonsense%E0%A4")
    expect(page.get_by_role("region", name="Page not found")).to_contain_text("#/nonsense%E0%A4")
    # A logged-out page (the login form) while logged in leads to the chat.
    page.goto("/#/login")
    expect(page).to_have_url(re.compile(r"#/chat$"))
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Chat")).to_have_attribute("aria-current", "page")
    assert watched.errors == []


def test_pages_that_do_not_exist_fit_a_phone(phone_page: Page, api_user: ApiUser) -> None:
    log_in(phone_page, api_user)
    for address, heading in ((f"/#/{'a-rather-long-address-' * 6}", "Page not found"),
                             (f"/#/settings/{'no-such-tab-' * 8}", "No such settings page")):
        phone_page.goto(address)
        expect(phone_page.get_by_role("heading", name=heading)).to_be_visible()
        scroll_width, inner_width = _no_horizontal_scroll(phone_page)
        assert scroll_width <= inner_width, f"{address}: {scroll_width}px wide in a {inner_width}px window"
