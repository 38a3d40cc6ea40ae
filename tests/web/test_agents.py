"""The agents area of the console, driven in Debian's chromium against a real ``agenthub
serve``: an agent created through the form shows in the list with its status, Start and
Stop change the badge, a refused value is shown under its field, a document uploaded to a
knowledge base is processed to ``ready``, a core memory block is edited; axe-core on the
list and the editor, and a phone never scrolls sideways."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.web.accounts import ApiUser
from tests.web.console_login import log_in
from tests.web.console_server import ConsoleServer
from tests.web.page_watch import watch

pytestmark = pytest.mark.browser


def _api(server: ConsoleServer, user: ApiUser, method: str, path: str, **kwargs: Any) -> Any:
    with httpx.Client(base_url=server.url, headers=user.headers, timeout=30) as client:
        response = client.request(method, path, **kwargs)
    assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
    return response.json() if response.content else None


def _create_agent(server: ConsoleServer, user: ApiUser, agent_id: str = "helper", **settings: Any) -> None:
    _api(server, user, "POST", "/api/v1/agents", json={
        "id": agent_id, "name": f"Agent {agent_id}",
        "settings": {"provider": "fake", "model_id": "demo", **settings},
    })


def _row(page: Page, agent_id: str) -> Any:
    return page.get_by_role("listitem").filter(has=page.locator("code.agent-id", has_text=agent_id))


def test_an_agent_created_through_the_form_is_listed_with_its_status(logged_in_page: Page) -> None:
    page = logged_in_page
    watched = watch(page)
    page.goto("/#/agents")
    expect(page.get_by_text("No agents yet.")).to_be_visible()
    page.get_by_role("link", name="Create your first agent").click()
    page.get_by_label("Name", exact=True).fill("Front desk")
    page.get_by_label("Id (optional)").fill("front-desk")
    page.get_by_label("Start from a role").select_option("hr")
    expect(page.get_by_label("System prompt")).not_to_have_value("")
    page.get_by_label("System prompt").fill("You greet visitors.")
    page.get_by_label("Provider").select_option("fake")
    page.get_by_role("combobox", name="Model", exact=True).fill("demo")
    page.get_by_role("button", name="Create agent").click()
    expect(page.get_by_role("status").filter(has_text="Agent created.")).to_be_visible()
    expect(page.get_by_role("heading", name="Front desk", level=1)).to_be_visible()

    page.get_by_role("link", name="← All agents").click()
    row = _row(page, "front-desk")
    expect(row.get_by_role("link", name="Front desk", exact=True)).to_be_visible()
    expect(row.locator(".agent-status")).to_have_text("Stopped")
    expect(row.locator(".agent-kind")).to_have_text("llm")
    expect(row.get_by_role("link", name="Chat with Front desk")).to_have_attribute("href", "#/chat/front-desk")
    assert watched.errors == []


def test_choosing_a_provider_fills_in_its_first_model_and_says_its_health_briefly(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    page = logged_in_page
    offered = [model["id"] for model in _api(console_server, api_user, "GET", "/api/v1/providers/fake/models")["models"]]
    providers = _api(console_server, api_user, "GET", "/api/v1/providers")["items"]
    page.goto("/#/agents")
    page.get_by_role("link", name="Create your first agent").click()
    expect(page).to_have_url(re.compile(r"#/agents/\+new$"))
    page.get_by_label("Name", exact=True).fill("Quick one")
    provider = page.get_by_label("Provider")
    # Each provider's option says its health in a word or two (the details in its title).
    for item in providers:
        option = provider.locator(f"option[value='{item['name']}']")
        expect(option).to_have_text(re.compile(rf"^{item['name']}( \((ok|unreachable|timed out|[A-Z_]+ not set|HTTP \d+)\))?$"))
        if item["reachable"] is False:
            expect(option).to_have_attribute("title", item["status"])
    provider.select_option("fake")
    model = page.get_by_role("combobox", name="Model", exact=True)
    expect(model).to_have_value(offered[0])
    # A model id of another provider is replaced by the new one's when it is chosen again.
    model.fill("not-a-fake-model")
    provider.select_option("")
    provider.select_option("fake")
    expect(model).to_have_value(offered[0])
    page.get_by_role("button", name="Create agent").click()
    expect(page.get_by_role("status").filter(has_text="Agent created.")).to_be_visible()
    created = _api(console_server, api_user, "GET", "/api/v1/agents")["items"][0]
    assert created["settings"]["model_id"] == offered[0]


def test_an_agent_whose_id_is_new_opens_and_the_new_agent_form_has_its_own_address(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    _create_agent(console_server, api_user, agent_id="new")
    page = logged_in_page
    page.goto("/#/agents/new")
    expect(page.get_by_role("heading", name="Agent new", level=1)).to_be_visible()
    page.get_by_role("link", name="← All agents").click()
    page.get_by_role("link", name="New agent", exact=True).click()
    expect(page.get_by_role("heading", name="New agent", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Create agent")).to_be_visible()


def test_start_and_stop_change_the_badge_and_a_saved_change_offers_a_restart(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    _create_agent(console_server, api_user)
    page = logged_in_page
    page.goto("/#/agents")
    badge = _row(page, "helper").locator(".agent-status")
    expect(badge).to_have_text("Stopped")
    page.get_by_role("button", name="Start Agent helper", exact=True).click()
    expect(badge).to_have_text("Running")

    page.get_by_role("link", name="Edit Agent helper").click()
    page.get_by_label("System prompt").fill("Answer in one line.")
    page.get_by_role("button", name="Save", exact=True).click()
    restart = page.get_by_role("button", name="Restart to apply")
    expect(restart).to_be_visible()
    restart.click()
    expect(restart).to_have_count(0)
    assert _api(console_server, api_user, "GET", "/api/v1/agents/helper")["settings"]["system_prompt"] == (
        "Answer in one line."
    )

    page.get_by_role("link", name="← All agents").click()
    expect(badge).to_have_text("Running")
    page.get_by_role("button", name="Stop Agent helper", exact=True).click()
    expect(badge).to_have_text("Stopped")


def test_delete_asks_first(logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer) -> None:
    _create_agent(console_server, api_user)
    page = logged_in_page
    page.goto("/#/agents")
    page.get_by_role("button", name="Delete Agent helper").click()
    expect(page.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Delete Agent helper")).to_be_focused()
    page.get_by_role("button", name="Delete Agent helper").click()
    page.get_by_role("button", name="Yes, delete").click()
    expect(page.get_by_text("No agents yet.")).to_be_visible()
    with httpx.Client(base_url=console_server.url, headers=api_user.headers) as client:
        assert client.get("/api/v1/agents/helper").status_code == 404


def test_a_refused_value_is_shown_under_its_field(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    _create_agent(console_server, api_user)
    page = logged_in_page
    page.goto("/#/agents/helper")
    temperature = page.get_by_label("Temperature")
    temperature.fill("5")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(temperature).to_have_attribute("aria-invalid", "true")
    expect(temperature).to_have_accessible_description(re.compile(r"Temperature: 0 to 2\. .*less than or equal to 2"))
    expect(page.get_by_role("alert").filter(has_text="Some fields need a change")).to_be_visible()

    temperature.fill("")
    temperature.press_sequentially("0.5")
    expect(temperature).to_have_value("0.5")
    page.get_by_role("button", name="Add HTTP tool").click()
    page.get_by_label("Tool name").fill("forecast")
    url = page.get_by_label("URL", exact=True)
    url.fill("ftp://weather.example")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(url).to_have_attribute("aria-invalid", "true")
    expect(temperature).not_to_have_attribute("aria-invalid", "true")

    page.get_by_role("button", name="Remove HTTP tool forecast").click()
    page.get_by_label("Telegram bot").check()
    page.get_by_role("button", name="Save", exact=True).click()
    credential = page.get_by_label("Bot token credential")
    expect(credential).to_have_attribute("aria-invalid", "true")
    expect(credential).to_have_accessible_description(re.compile("not in the form it takes"))
    assert _api(console_server, api_user, "GET", "/api/v1/agents/helper")["settings"]["temperature"] == 0.7


def test_a_chain_needs_steps_said_in_its_section_and_saves_with_them(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    _create_agent(console_server, api_user)
    page = logged_in_page
    page.goto("/#/agents/helper")
    page.get_by_role("combobox", name="Agent type").select_option("chain")
    page.get_by_role("button", name="Save", exact=True).click()
    section = page.get_by_role("region", name="Agent type")
    expect(section.get_by_role("alert")).to_have_text("a `chain` agent needs steps")
    page.get_by_role("button", name="Add step").click()
    page.get_by_label("Step name").fill("Outline")
    page.get_by_label("Step prompt").fill("Write an outline.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    expect(section.get_by_role("alert")).to_have_count(0)
    settings = _api(console_server, api_user, "GET", "/api/v1/agents/helper")["settings"]
    assert settings["agent_type"] == "chain"
    assert settings["steps"] == [{"name": "Outline", "prompt": "Write an outline.", "model_id": None}]


def test_a_telegram_bot_is_set_up_with_a_credential_and_shows_its_status(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    _create_agent(console_server, api_user)
    credential = _api(console_server, api_user, "POST", "/api/v1/credentials",
                      json={"name": "Support bot", "type": "telegram_bot_token", "value": "123:not-a-real-token"})
    page = logged_in_page
    page.goto("/#/agents/helper")
    page.get_by_label("Telegram bot").check()
    page.get_by_label("Bot token credential").select_option(credential["id"])
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    expect(page.get_by_label("Bot token credential")).to_have_value("***")
    bot = page.locator(".telegram-status .badge")
    expect(bot).to_have_text(re.compile("starting|running|error"))
    page.get_by_role("button", name="Stop bot").click()
    expect(bot).to_have_text("stopped")
    integrations = _api(console_server, api_user, "GET", "/api/v1/agents/helper")["settings"]["integrations"]
    assert integrations == [{"type": "telegram", "settings": {"credential_id": "***", "mode": "polling"}}]


def test_a_document_uploaded_to_a_knowledge_base_is_processed(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    _create_agent(console_server, api_user)
    page = logged_in_page
    page.goto("/#/agents/helper")
    page.get_by_label("Knowledge base name").fill("Handbook")
    page.get_by_label("Embedding model").fill("fake")
    page.get_by_role("button", name="Create knowledge base").click()
    page.get_by_role("button", name="Documents of Handbook").click()
    page.get_by_label("Upload to Handbook").set_input_files(
        files=[{"name": "leave.txt", "mimeType": "text/plain", "buffer": b"Holidays: 25 days a year.\n" * 40}]
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    document = page.get_by_role("list", name="Documents of Handbook").get_by_role("listitem").filter(has_text="leave.txt")
    expect(document.locator(".doc-status")).to_have_text("ready")
    expect(document.get_by_role("progressbar", name="Processing of leave.txt")).to_have_attribute("value", "100")

    page.get_by_label("Use Handbook").check()
    page.get_by_role("combobox", name="Agent type").select_option("rag")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="ved")).to_be_visible()
    settings = _api(console_server, api_user, "GET", "/api/v1/agents/helper")["settings"]
    assert settings["agent_type"] == "rag"
    assert len(settings["knowledge_base_ids"]) == 1


def test_a_core_memory_block_is_edited(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    _create_agent(console_server, api_user, tools=["core_memory_append"])
    page = logged_in_page
    page.goto("/#/agents/helper")
    human = page.get_by_label("Block human")
    human.fill("Prefers short answers.")
    expect(page.get_by_text("22/2000 characters")).to_be_visible()
    page.get_by_role("button", name="Save memory").click()
    expect(page.get_by_role("status").filter(has_text="Memory saved.")).to_be_visible()
    blocks = _api(console_server, api_user, "GET", "/api/v1/agents/helper/memory")["blocks"]
    assert {block["label"]: block["value"] for block in blocks}["human"] == "Prefers short answers."


def test_the_json_view_saves_what_the_server_takes(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    _create_agent(console_server, api_user)
    page = logged_in_page
    page.goto("/#/agents/helper")
    page.get_by_role("button", name="Edit as JSON").click()
    text = page.get_by_label("Configuration (JSON)")
    text.fill('{"name": "Helper",')
    page.get_by_role("button", name="Save JSON").click()
    expect(text).to_have_accessible_description(re.compile("not valid JSON"))
    text.fill('{"name": "Helper", "settings": {"max_tool_steps": 0}}')
    page.get_by_role("button", name="Save JSON").click()
    expect(text).to_have_accessible_description(re.compile("settings.max_tool_steps: Input should be greater than"))
    expect(page.get_by_label("Tool steps per turn")).to_have_attribute("aria-invalid", "true")
    text.fill('{"name": "Helper", "settings": {"max_tool_steps": 3}}')
    page.get_by_role("button", name="Save JSON").click()
    expect(page.get_by_role("heading", name="Helper", level=1)).to_be_visible()
    expect(page.get_by_label("Tool steps per turn")).to_have_value("3")
    assert _api(console_server, api_user, "GET", "/api/v1/agents/helper")["settings"]["max_tool_steps"] == 3


def test_list_and_editor_have_no_serious_accessibility_violations(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer, axe_check: Callable[[Page], None]
) -> None:
    _create_agent(console_server, api_user)
    page = logged_in_page
    page.goto("/#/agents")
    expect(_row(page, "helper").locator(".agent-status")).to_have_text("Stopped")
    axe_check(page)
    page.goto("/#/agents/helper")
    expect(page.get_by_label("Block human")).to_be_visible()
    page.get_by_role("combobox", name="Agent type").select_option("multi_agent")
    page.get_by_role("button", name="Add sub-agent").click()
    page.get_by_role("button", name="Add HTTP tool").click()
    page.get_by_role("button", name="Add header").click()
    axe_check(page)
    page.goto("/#/agents/+new")
    expect(page.get_by_role("button", name="Create agent")).to_be_visible()
    axe_check(page)


def _no_sideways_scroll(page: Page, where: str) -> None:
    scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll_width <= inner_width, f"{where}: {scroll_width}px wide in a {inner_width}px window"


def test_phone_layout_of_list_and_editor(phone_page: Page, api_user: ApiUser, console_server: ConsoleServer) -> None:
    _create_agent(console_server, api_user)
    log_in(phone_page, api_user)
    phone_page.goto("/#/agents")
    expect(_row(phone_page, "helper").locator(".agent-status")).to_have_text("Stopped")
    _no_sideways_scroll(phone_page, "list")
    phone_page.goto("/#/agents/helper")
    phone_page.get_by_role("button", name="Add HTTP tool").click()
    phone_page.get_by_role("button", name="Add header").click()
    expect(phone_page.get_by_role("button", name="Save", exact=True)).to_be_in_viewport()
    _no_sideways_scroll(phone_page, "editor")


def test_agents_of_one_name_have_controls_named_apart_and_a_stopped_one_no_restart(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    for agent_id in ("twin-a", "twin-b"):
        _api(console_server, api_user, "POST", "/api/v1/agents", json={
            "id": agent_id, "name": "Twin", "settings": {"provider": "fake", "model_id": "demo"}})
    page = logged_in_page
    page.goto("/#/agents")
    for agent_id in ("twin-a", "twin-b"):
        row = _row(page, agent_id)
        expect(row.locator(".agent-status")).to_have_text("Stopped")
        expect(row.get_by_role("button", name=f"Start Twin ({agent_id})", exact=True)).to_be_visible()
        expect(row.get_by_role("button", name=f"Delete Twin ({agent_id})", exact=True)).to_be_visible()
        expect(row.get_by_role("button", name=re.compile("^Restart"))).to_have_count(0)
    _row(page, "twin-a").get_by_role("button", name="Start Twin (twin-a)").click()
    expect(_row(page, "twin-a").get_by_role("button", name="Restart Twin (twin-a)")).to_be_visible()
