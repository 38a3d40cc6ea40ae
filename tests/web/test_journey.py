"""A new user's first visit, through the console alone: register through the form (a new
organisation), create an agent with the Agents form, chat with it and see the answer come in,
reload and find the conversation, then see the turn in the usage chart."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.web.page_watch import watch

pytestmark = pytest.mark.browser


def test_register_create_an_agent_chat_reload_and_see_the_usage(page: Page) -> None:
    watched = watch(page)
    email = f"journey-{uuid.uuid4().hex[:10]}@example.com"
    page.goto("/")
    page.get_by_role("link", name="Create one").click()
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill("journey-password-1")
    page.get_by_label("Organisation name").fill("Journey Ltd")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    # The new organisation has no agent: the chat says where to make one.
    page.get_by_role("link", name="Agents").first.click()
    page.get_by_role("link", name="Create your first agent").click()
    page.get_by_label("Name", exact=True).fill("Echo")
    page.get_by_label("Id (optional)").fill("echo")
    page.get_by_label("Provider").select_option("fake")
    page.get_by_role("combobox", name="Model", exact=True).fill("demo")
    page.get_by_role("button", name="Create agent").click()
    expect(page.get_by_role("status").filter(has_text="Agent created.")).to_be_visible()

    page.goto("/#/chat/echo")
    box = page.get_by_role("textbox", name="Message")
    box.fill("Hello from the journey")
    page.get_by_role("button", name="Send").click()
    answer = page.locator(".bubble.assistant").last
    expect(answer).to_contain_text('You said: "Hello from the journey"')
    expect(page.get_by_role("button", name="Send")).to_be_enabled()

    page.reload()
    expect(page.locator(".bubble.user")).to_contain_text(["Hello from the journey"])
    expect(page.locator(".bubble.assistant")).to_contain_text(['You said: "Hello from the journey"'])

    page.get_by_role("link", name="Usage").click()
    chart = page.get_by_role("img", name="Your tokens by agent:")
    expect(chart.locator("text")).to_contain_text(["echo"])
    expect(page.get_by_label("Your totals")).to_contain_text("Turns1")
    assert watched.errors == []
