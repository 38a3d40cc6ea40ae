"""The settings area: a credential's value never comes back; an API key is shown once, works,
and is gone after a reload; an invitation link registers the invitee into the organisation;
notification channels and their delivery log; calendar events with a cron schedule; what a
member may not do is said; a tab that does not exist is said, with the real ones; axe-core
on every tab; a phone never scrolls sideways."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.accounts import PASSWORD, ApiUser, register_user
from tests.web.console_login import log_in
from tests.web.console_server import ConsoleServer
from tests.web.org_setup import make_agent, me, member_of

pytestmark = pytest.mark.browser


def _widths(page: Page) -> tuple[int, int]:
    """The page's content width and its layout viewport's. Not ``innerWidth``: on a mobile
    page chromium widens the window to content that overflows, and the two would agree."""
    return page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")

TABS = ["credentials", "keys", "members", "notifications", "calendar"]


def _open(page: Page, tab: str) -> None:
    page.goto(f"/#/settings/{tab}")
    expect(page.get_by_role("navigation", name="Settings").get_by_role("link", name=_TAB_NAMES[tab])).to_have_attribute(
        "aria-current", "page"
    )


_TAB_NAMES = {
    "credentials": "Credentials", "keys": "API keys", "members": "Members",
    "notifications": "Notifications", "calendar": "Calendar",
}



def test_a_credentials_value_never_appears_again(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    page = logged_in_page
    secret = f"sk-secret-{uuid.uuid4().hex}"
    _open(page, "credentials")
    expect(page.get_by_text("No credentials yet.")).to_be_visible()
    page.get_by_label("Name").fill("OpenAI key")
    page.get_by_label("Type").fill("api_key")
    page.get_by_label("Value").fill(secret)
    page.get_by_role("button", name="Save credential").click()
    expect(page.get_by_role("status")).to_contain_text("will not be shown again")
    row = page.get_by_role("row", name="OpenAI key")
    expect(row).to_contain_text("api_key")
    expect(row).to_contain_text("••••••••")
    expect(page.get_by_label("Value")).to_have_value("")
    assert secret not in page.content()
    page.reload()
    expect(page.get_by_role("row", name="OpenAI key")).to_be_visible()
    assert secret not in page.content()

    with httpx.Client(base_url=console_server.url, headers=api_user.headers) as client:
        assert [c["name"] for c in client.get("/api/v1/credentials").json()["items"]] == ["OpenAI key"]

    # Deleting asks once more, in place and by keyboard.
    page.get_by_role("button", name="Delete OpenAI key").click()
    expect(page.get_by_role("button", name="Delete for good OpenAI key")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("No credentials yet.")).to_be_visible()


def test_an_api_key_is_shown_once_works_and_is_revoked(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    page = logged_in_page
    _open(page, "keys")
    expect(page.get_by_text("No API keys yet.")).to_be_visible()
    page.get_by_label("Name").fill("CI")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("alert")).to_contain_text("shown only this once")
    key = page.get_by_role("textbox", name="API key").input_value()
    assert key.startswith("ahk_")
    row = page.get_by_role("row", name="CI")
    expect(row).to_contain_text(f"{key[:12]}…")
    expect(page.get_by_role("button", name="Copy")).to_be_visible()

    with httpx.Client(base_url=console_server.url) as client:
        answer = client.get("/api/v1/agents", headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 200, answer.text
        assert "items" in answer.json()

        page.reload()
        expect(page.get_by_role("row", name="CI")).to_contain_text(key[:12])
        assert key not in page.content()
        expect(page.get_by_role("textbox", name="API key")).to_have_count(0)

        page.get_by_role("button", name="Revoke CI").click()
        page.get_by_role("button", name="Revoke now CI").click()
        expect(page.get_by_text("No API keys yet.")).to_be_visible()
        assert client.get("/api/v1/agents", headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_an_invitation_link_registers_the_invitee_into_the_organisation(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer, browser: Browser
) -> None:
    page = logged_in_page
    _open(page, "members")
    expect(page.get_by_role("row", name=api_user.email)).to_contain_text("owner")
    expect(page.get_by_text("No invitations.")).to_be_visible()
    page.get_by_label("Role").select_option("admin")
    page.get_by_role("button", name="Create invitation").click()
    expect(page.get_by_role("alert")).to_contain_text("shown only this once")
    link = page.get_by_role("textbox", name="Invitation link").input_value()
    assert link.startswith(f"{console_server.url}/#/invite/"), link
    expect(page.get_by_role("row", name="anyone with the link")).to_contain_text("0 of 1")

    invitee = f"invitee-{uuid.uuid4().hex[:8]}@example.com"
    other = browser.new_context(base_url=console_server.url)
    try:
        visitor = other.new_page()
        visitor.goto(link)
        expect(visitor.get_by_role("heading", name="Accept the invitation")).to_be_visible()
        visitor.get_by_label("E-mail").fill(invitee)
        visitor.get_by_label("Password").fill(PASSWORD)
        visitor.get_by_role("button", name="Join").click()
        expect(visitor.get_by_role("navigation", name="Main")).to_be_visible()
        visitor.goto(f"{console_server.url}/#/settings/members")
        expect(visitor.get_by_role("row", name=api_user.email)).to_be_visible()
    finally:
        other.close()

    page.reload()
    expect(page.get_by_role("row", name=invitee)).to_be_visible()
    expect(page.get_by_label(f"Role of {invitee}")).to_have_value("admin")
    expect(page.get_by_role("row", name="anyone with the link")).to_contain_text("1 of 1")  # used up
    who = me(console_server.url, api_user)
    with httpx.Client(base_url=console_server.url, headers=api_user.headers) as client:
        members = client.get(f"/api/v1/orgs/{who['org_id']}/members").json()["items"]
    assert {m["email"]: m["role"] for m in members}[invitee] == "admin"

    # An owner changes the role and removes the member.
    page.get_by_label(f"Role of {invitee}").select_option("member")
    expect(page.get_by_label(f"Role of {invitee}")).to_have_value("member")
    page.get_by_role("button", name=f"Remove {invitee}").click()
    page.get_by_role("button", name=f"Remove and delete the account {invitee}").click()
    expect(page.get_by_role("row", name=invitee)).to_have_count(0)


def test_notification_channels_and_the_delivery_log(logged_in_page: Page) -> None:
    page = logged_in_page
    _open(page, "notifications")
    expect(page.get_by_text("No channels yet")).to_be_visible()
    expect(page.get_by_text("Nothing was sent to you yet.")).to_be_visible()
    page.get_by_label("E-mail address").fill("me@example.com")
    page.get_by_label("Priority").fill("5")
    page.get_by_role("button", name="Add channel").click()
    expect(page.get_by_role("row", name="me@example.com")).to_contain_text("email")

    # The same address twice is refused, said above the form.
    page.get_by_label("E-mail address").fill("me@example.com")
    page.get_by_role("button", name="Add channel").click()
    expect(page.locator("form[aria-labelledby=new-channel] .form-error")).to_be_visible()

    page.get_by_label("Subject").fill("Console check")
    page.get_by_label("Text").fill("Does it arrive?")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_text("Queued for 1 channel")).to_be_visible()
    expect(page.get_by_role("row", name="Console check")).to_contain_text("email")

    page.get_by_role("button", name="Delete me@example.com").click()
    page.get_by_role("button", name="Delete channel me@example.com").click()
    expect(page.get_by_text("No channels yet")).to_be_visible()


def test_calendar_events_with_a_cron_schedule(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    page = logged_in_page
    make_agent(console_server.url, api_user)
    _open(page, "calendar")
    expect(page.get_by_text("No events yet.")).to_be_visible()
    page.get_by_label("Title").fill("Morning briefing")
    page.get_by_label("Agent").select_option("helper")
    page.get_by_label("Prompt").fill("What is on today?")
    page.get_by_label("Time zone").fill("Europe/Berlin")
    cron = page.get_by_label("Repeat (cron, optional)")
    cron.fill("every morning")
    page.get_by_role("button", name="Create event").click()
    expect(cron).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("is not a valid cron expression")).to_be_visible()

    cron.fill("0 9 * * 1-5")
    page.get_by_role("button", name="Create event").click()
    row = page.get_by_role("row", name="Morning briefing")
    expect(row).to_contain_text("0 9 * * 1-5 (Europe/Berlin)")
    expect(row).to_contain_text("helper")
    page.get_by_role("button", name="Delete Morning briefing").click()
    page.get_by_role("button", name="Delete event Morning briefing").click()
    expect(page.get_by_text("No events yet.")).to_be_visible()


def test_a_member_is_told_what_only_owners_and_admins_may_do(
    page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    member = member_of(console_server.url, api_user)
    log_in(page, member)
    _open(page, "credentials")
    expect(page.get_by_text("Only the organisation's owners and admins add and delete credentials.")).to_be_visible()
    expect(page.get_by_role("button", name="Save credential")).to_have_count(0)
    _open(page, "members")
    expect(page.get_by_role("row", name=api_user.email)).to_contain_text("owner")
    expect(page.get_by_text("Only the organisation's owners and admins change roles")).to_be_visible()
    expect(page.get_by_role("combobox")).to_have_count(0)
    _open(page, "keys")
    expect(page.get_by_text("The keys you made.")).to_be_visible()


def test_an_unknown_settings_page_says_so_and_names_the_real_ones(
    logged_in_page: Page, axe_check: Callable[[Page], None]
) -> None:
    page = logged_in_page
    page.goto("/#/settings/nonsense")
    missing = page.get_by_role("region", name="No such settings page")
    expect(missing).to_contain_text("Settings has no page named nonsense")
    # No tab's page is shown as if it were the one asked for.
    expect(page.get_by_role("navigation", name="Settings").locator("[aria-current]")).to_have_count(0)
    expect(page.get_by_role("button", name="Save credential")).to_have_count(0)
    expect(missing.get_by_role("link")).to_have_text(list(_TAB_NAMES.values()))
    axe_check(page)
    missing.get_by_role("link", name="API keys").click()
    expect(page).to_have_url(re.compile(r"#/settings/keys$"))
    expect(page.get_by_role("navigation", name="Settings").get_by_role("link", name="API keys")).to_have_attribute(
        "aria-current", "page"
    )
    # The area's own address, with no tab named, is its first tab.
    page.goto("/#/settings")
    expect(page.get_by_role("navigation", name="Settings").get_by_role("link", name="Credentials")).to_have_attribute(
        "aria-current", "page"
    )


def test_settings_tabs_have_no_serious_accessibility_violations(
    logged_in_page: Page, axe_check: Callable[[Page], None]
) -> None:
    for tab in TABS:
        _open(logged_in_page, tab)
        expect(logged_in_page.locator(".loading")).to_have_count(0)
        axe_check(logged_in_page)


def test_settings_on_a_phone_never_scroll_sideways_and_show_every_action(
    phone_page: Page, console_server: ConsoleServer
) -> None:
    user = register_user(console_server.url)
    make_agent(console_server.url, user)
    with httpx.Client(base_url=console_server.url, headers=user.headers) as client:
        assert client.post("/api/v1/credentials", json={"name": "a rather long credential name", "type": "api_key", "value": "x"}).status_code == 201
        assert client.post("/api/v1/api-keys", json={"name": "phone key"}).status_code == 201
        org_id = client.get("/api/v1/auth/me").json()["org_id"]
        invitation = {"email": "someone-with-a-long-address@example.com"}
        assert client.post(f"/api/v1/orgs/{org_id}/invitations", json=invitation).status_code == 201
        channel = {"type": "email", "address": "someone-with-a-long-address@example.com", "priority": 1}
        assert client.post("/api/v1/notification-channels", json=channel).status_code == 201
        event = {"title": "A morning briefing with a long title", "agent_id": "helper", "prompt": "What is on today?",
                 "start_at": "2099-01-01T09:00:00", "timezone": "Europe/Berlin", "cron": "0 9 * * 1-5"}
        assert client.post("/api/v1/calendar/events", json=event).status_code == 201
    log_in(phone_page, user)
    viewport = phone_page.viewport_size
    assert viewport is not None
    for tab in TABS:
        _open(phone_page, tab)
        expect(phone_page.locator(".loading")).to_have_count(0)
        scroll_width, inner_width = _widths(phone_page)
        assert scroll_width <= inner_width, f"{tab}: {scroll_width}px wide in a {inner_width}px page"
        # Every row's action (Revoke, Delete, Remove) is wholly on screen, not behind a sideways scroll.
        actions = phone_page.locator(".settings-tab table button")
        expect(actions.first).to_be_visible()
        for index in range(actions.count()):
            box = actions.nth(index).bounding_box()
            assert box is not None, f"{tab}: action {index} has no box"
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], f"{tab}: action {index} at {box}"
