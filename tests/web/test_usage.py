"""The usage area: the turns just made show in the charts (SVG bars with a name) and in the
totals written as text; the budget and what is left, the user's and, for owners and admins,
the organisation's; a period without turns says so; axe-core and a phone."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.web.accounts import ApiUser, register_user
from tests.web.console_login import log_in
from tests.web.console_server import ConsoleServer
from tests.web.org_setup import AGENT_ID, MODEL, make_agent, make_turns, me, member_of, set_budget
from tests.web.page_watch import watch

pytestmark = pytest.mark.browser


def _widths(page: Page) -> tuple[int, int]:
    """The page's content width and its layout viewport's. Not ``innerWidth``: on a mobile
    page chromium widens the window to content that overflows, and the two would agree."""
    return page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")


def _count(value: int) -> str:
    return f"{value:,}"



def _open_usage(page: Page, query: str = "") -> None:
    page.goto(f"/#/usage{query}")
    expect(page.get_by_role("heading", name="Usage", exact=True)).to_be_visible()


def test_a_usage_chart_shows_the_turns_just_made(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    page = logged_in_page
    watched = watch(page)
    make_agent(console_server.url, api_user)
    made = make_turns(console_server.url, api_user, ["first question", "second, longer question about usage"])
    assert made.turns == 2

    _open_usage(page)
    totals = page.get_by_label("Your totals")
    expect(totals).to_contain_text(f"Turns{made.turns}")
    expect(totals).to_contain_text(f"Tokens in{_count(made.input_tokens)}")
    expect(totals).to_contain_text(f"Tokens out{_count(made.output_tokens)}")
    total = made.input_tokens + made.output_tokens
    expect(page.locator(".summary").first).to_contain_text(f"2 turns, {made.input_tokens} tokens in and {made.output_tokens} out")

    by_day = page.get_by_role("img", name="Your tokens by day")
    expect(by_day).to_have_attribute("aria-label", f"Your tokens by day: 30 bars, {_count(total)} tokens in all")
    assert by_day.evaluate("svg => svg.tagName") == "svg"
    assert by_day.locator("title").first.text_content() == by_day.get_attribute("aria-label")
    bars = by_day.locator("rect.bar")
    expect(bars).to_have_count(2)  # today's column: input and output stacked
    assert all(float(bars.nth(i).get_attribute("height") or 0) > 0 for i in range(2))

    by_agent = page.get_by_role("img", name="Your tokens by agent:")
    expect(by_agent.locator("text")).to_contain_text([AGENT_ID, _count(total)])
    by_model = page.get_by_role("img", name="Your tokens by model:")
    expect(by_model.locator("text")).to_contain_text([MODEL, _count(total)])

    # The figures as a table too, and the cost drawn on request.
    page.get_by_text("Your usage by model as a table").click()
    expect(page.get_by_role("row", name=MODEL)).to_contain_text(f"{made.turns}{made.input_tokens}{made.output_tokens}$0.00")
    page.get_by_label("Cost").check()
    expect(page.get_by_role("img", name="Your cost by agent:")).to_have_attribute("aria-label", "Your cost by agent: 1 bar, $0.00 in all")
    assert watched.errors == []


def test_the_budget_and_what_is_left_for_the_user_and_the_organisation(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    page = logged_in_page
    who = me(console_server.url, api_user)
    set_budget(console_server.url, api_user, f"/api/v1/users/{who['id']}/budget", "5.00", "1mo")
    set_budget(console_server.url, api_user, f"/api/v1/orgs/{who['org_id']}/budget", "50", None)

    _open_usage(page)
    mine = page.get_by_role("region", name="Your budget")
    expect(mine).to_contain_text("$5.00 left of $5.00 per month: $0.00 spent, restarts")
    expect(mine.get_by_role("progressbar", name="Budget spent")).to_have_attribute("aria-valuenow", "0")
    org = page.get_by_role("region", name="The organisation")
    expect(org).to_contain_text("$50.00 left of $50.00 (never restarts)")

    # An owner sets the organisation's budget here; a bad amount is refused next to its field.
    amount = org.get_by_label("Organisation budget (USD)")
    amount.fill("-3")
    org.get_by_role("button", name="Set budget").click()
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(amount).to_have_accessible_description("must be 0 or more")
    amount.fill("ten")
    org.get_by_role("button", name="Set budget").click()
    expect(amount).to_have_accessible_description(re.compile("an amount in US dollars"))
    amount.fill("20.50")
    org.get_by_label("Period").select_option("1w")
    org.get_by_role("button", name="Set budget").click()
    expect(org).to_contain_text("$20.50 left of $20.50 per week")


def test_a_period_without_turns_says_so_and_a_backwards_period_is_refused(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    page = logged_in_page
    make_agent(console_server.url, api_user)
    make_turns(console_server.url, api_user, ["hello"])
    _open_usage(page, "?from=2020-01-01&to=2020-01-31")
    expect(page.get_by_role("region", name="Your usage").get_by_text("No turns in this period")).to_be_visible()
    expect(page.get_by_label("Your totals")).to_contain_text("Turns0")

    page.get_by_label("From", exact=True).fill("2020-02-10")
    expect(page.get_by_text("must be on or before the last day")).to_be_visible()
    expect(page.get_by_role("button", name="Show")).to_be_disabled()
    page.get_by_label("From", exact=True).fill("2020-01-01")
    page.get_by_label("To", exact=True).fill("")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_label("Your totals")).to_contain_text("Turns1")


def test_a_member_sees_their_own_usage_and_a_note_instead_of_the_organisations(
    page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    member = member_of(console_server.url, api_user)
    make_agent(console_server.url, api_user)
    make_turns(console_server.url, member, ["from the member"])

    log_in(page, member)
    _open_usage(page)
    expect(page.get_by_label("Your totals")).to_contain_text("Turns1")
    expect(page.get_by_text("shown to its owners and admins")).to_be_visible()
    expect(page.get_by_role("region", name="The organisation")).to_have_count(0)


def test_an_owner_sees_the_organisations_usage_over_the_period_with_its_members_turns(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    member = member_of(console_server.url, api_user)
    make_agent(console_server.url, api_user)
    mine = make_turns(console_server.url, api_user, ["from the owner"])
    theirs = make_turns(console_server.url, member, ["from the member", "and again"])

    _open_usage(logged_in_page)
    expect(logged_in_page.get_by_label("Your totals")).to_contain_text(f"Turns{mine.turns}")
    org = logged_in_page.get_by_role("region", name="The organisation")
    expect(org.get_by_label("The organisation's totals")).to_contain_text(f"Turns{mine.turns + theirs.turns}")
    tokens = mine.input_tokens + mine.output_tokens + theirs.input_tokens + theirs.output_tokens
    expect(org.get_by_role("img", name="The organisation's tokens by day")).to_have_attribute(
        "aria-label", f"The organisation's tokens by day: 30 bars, {_count(tokens)} tokens in all"
    )
    expect(org.get_by_role("img", name="The organisation's tokens by model:").locator("text")).to_contain_text([MODEL])

    # The period applies to the organisation's figures too.
    _open_usage(logged_in_page, "?from=2020-01-01&to=2020-01-31")
    expect(org.get_by_label("The organisation's totals")).to_contain_text("Turns0")


def test_usage_has_no_serious_accessibility_violations(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer, axe_check: Callable[[Page], None]
) -> None:
    make_agent(console_server.url, api_user)
    make_turns(console_server.url, api_user, ["hello"])
    _open_usage(logged_in_page)
    expect(logged_in_page.get_by_role("img", name="Your tokens by day")).to_be_visible()
    logged_in_page.get_by_text("Your usage by day as a table").click()
    axe_check(logged_in_page)


def test_usage_on_a_phone_never_scrolls_sideways(phone_page: Page, console_server: ConsoleServer) -> None:
    user = register_user(console_server.url)
    make_agent(console_server.url, user)
    make_turns(console_server.url, user, ["hello from a phone"])
    log_in(phone_page, user)
    _open_usage(phone_page)
    expect(phone_page.get_by_role("img", name="Your tokens by day").locator("rect.bar")).to_have_count(2)
    phone_page.get_by_text("Your usage by day as a table").click()
    scroll_width, inner_width = _widths(phone_page)
    assert scroll_width <= inner_width, f"{scroll_width}px wide in a {inner_width}px page"
    box = phone_page.get_by_role("img", name="Your tokens by day").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= inner_width
    # The table's figures are each wholly on screen (rows stacked as cards), none cut off on the right.
    figures = phone_page.locator("details.figures[open] table td")
    expect(figures.first).to_be_visible()
    for index in range(figures.count()):
        cell = figures.nth(index).bounding_box()
        assert cell is not None and cell["x"] >= 0 and cell["x"] + cell["width"] <= inner_width, f"figure {index} at {cell}"
