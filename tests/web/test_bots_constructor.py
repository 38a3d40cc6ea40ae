"""The bots area in a real browser: a two-step bot built with the constructor's named
controls (Add step, Connect to…, a rule and a button), published and chatted with; another
editor's change appearing on the canvas without a reload; axe-core; a phone's width."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.scenarios.helpers import equal, go
from tests.web.accounts import ApiUser
from tests.web.console_login import log_in
from tests.web.console_server import ConsoleServer
from tests.web.page_watch import watch

pytestmark = pytest.mark.browser

CANVAS = "[data-testid=bot-canvas]"


def _wait_until(page: Page, expression: str, timeout: float = 15.0) -> None:
    """What ``page.wait_for_function`` does, without evaluating a string in the page: the
    console's CSP forbids that, and Playwright's polling of a string predicate does it again
    there (it failed whenever the first look was not true yet). The expression is evaluated
    over the driver until it holds."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout:g} s: {expression}")
        page.wait_for_timeout(50)


def _canvas(page: Page) -> dict[str, Any]:
    """What Cytoscape draws: the labels of its nodes and the ends of its edges."""
    return page.eval_on_selector(
        CANVAS,
        """(el) => { const cy = el._cyreg && el._cyreg.cy;
            if (!cy) return {nodes: [], edges: []};
            return {nodes: cy.nodes().map((n) => n.data('label').split('\\n')[0]),
                    edges: cy.edges().map((e) => [e.source().data('label').split('\\n')[0],
                                                  e.target().data('label').split('\\n')[0], e.data('label')])}; }""",
    )


def _api(server: ConsoleServer, user: ApiUser, method: str, path: str, **kwargs: Any) -> Any:
    with httpx.Client(base_url=server.url, headers=user.headers, timeout=30) as client:
        response = client.request(method, path, **kwargs)
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
    return response.json() if response.content else None


def _open_new_bot(page: Page, name: str) -> None:
    page.goto("/#/bots")
    expect(page.get_by_role("heading", name="Bots", exact=True)).to_be_visible()
    page.get_by_label("Bot name").fill(name)
    page.get_by_role("button", name="Create bot").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.locator(CANVAS)).to_have_attribute("data-ready", "true")


def _add_step(page: Page, number: int, text: str) -> None:
    page.get_by_role("button", name="Add step").click()
    expect(page.get_by_role("heading", name=f"Step: Step {number}")).to_be_visible()
    page.get_by_label("Message text").fill(text)


def _save_step(page: Page, number: int) -> None:
    page.get_by_role("button", name="Save step").click()
    expect(page.get_by_role("status").filter(has_text=f"Step “Step {number}” saved.")).to_be_visible()


def _connect(page: Page, source: str, target: str) -> None:
    page.get_by_label("Step", exact=True).select_option(label=source)
    page.get_by_label("Connect to…").select_option(label=target)
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.get_by_role("heading", name="Connection from Step 1")).to_be_visible()


def test_build_a_two_step_bot_with_a_rule_and_a_button_publish_it_and_chat(logged_in_page: Page) -> None:
    page = logged_in_page
    watched = watch(page)
    _open_new_bot(page, "Pizza")

    _add_step(page, 1, "Hi! Pizza or pasta?")
    page.get_by_role("button", name="Add button").click()
    page.get_by_label("Button 1 text").fill("Pizza")
    page.get_by_label("Button 1 value").fill("pizza")
    _save_step(page, 1)
    _add_step(page, 2, "Which size?")
    _save_step(page, 2)

    # Step 1 -> Step 2 when the text is the button's value (tried first) ...
    _connect(page, "Step 1 (first)", "Step 2")
    page.get_by_role("button", name="Add rule").click()
    expect(page.get_by_label("Field")).to_have_value("message.text")
    page.get_by_label("Operator").select_option("equal")
    page.get_by_label("Value").fill("pizza")
    page.get_by_label("Priority").fill("10")
    page.get_by_role("button", name="Save connection").click()
    expect(page.get_by_role("status").filter(has_text="Connection saved.")).to_be_visible()
    # ... else back to Step 1, which sends its question with its button again.
    _connect(page, "Step 1 (first)", "Step 1")
    expect(page.get_by_text("No rules: this connection always holds")).to_be_visible()

    _wait_until(page, f"document.querySelector('{CANVAS}')._cyreg.cy.edges().length === 2")
    edges = _canvas(page)["edges"]
    assert ["Step 1", "Step 2", "message.text = pizza · p10"] in edges
    assert ["Step 1", "Step 1", "always · p0"] in edges

    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status").filter(has_text="Published version 1.")).to_be_visible()
    expect(page.get_by_text("Running version 1")).to_be_visible()
    page.get_by_text("Versions (1)").click()
    expect(page.locator(".versions li")).to_have_count(1)

    page.get_by_label("Test message", exact=True).fill("hello")
    page.get_by_role("button", name="Send test message").click()
    log = page.get_by_role("list", name="Test chat messages")
    expect(log.get_by_text("Hi! Pizza or pasta?")).to_be_visible()
    log.get_by_role("button", name="Pizza").click()
    expect(log.get_by_text("Which size?")).to_be_visible()

    # The published bot, in the Chat area, over the WebSocket: its button answers it.
    page.get_by_role("link", name="Chat with the published bot").click()
    page.get_by_role("button", name="New chat").click()
    expect(page.locator(".bubble")).to_have_count(0)
    expect(page.get_by_role("button", name="Send")).to_be_enabled()  # the socket is open
    box = page.get_by_role("textbox", name="Message")
    expect(box).to_be_visible()
    box.fill("hello")
    box.press("Enter")
    answers = page.locator(".bubble.assistant")
    expect(answers.filter(has_text="Hi! Pizza or pasta?")).to_have_count(1)
    answers.get_by_role("button", name="Pizza").click()
    expect(answers.filter(has_text="Which size?")).to_have_count(1)
    assert watched.errors == []


def test_the_test_chat_names_the_account_and_shows_a_pressed_button_as_its_text(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    page = logged_in_page
    me = _api(console_server, api_user, "GET", "/api/v1/auth/me")
    name = me.get("username") or api_user.email.split("@")[0]
    menu = {"buttons": [{"text": "Pizza", "value": "pizza"}]}
    bot = _api(console_server, api_user, "POST", "/api/v1/bots/import", json={
        "name": "Named", "first_step": "hello",
        "steps": [
            {"key": "hello", "message": {"text": "Hi {$user.first_name$}! Pizza?", "widget": menu},
             "connection_groups": [{"connections": [go("size", equal("pizza"), 10), go("hello")]}]},
            {"key": "size", "message": {"text": "Which size, {$user.username$}?"}},
        ],
    })
    page.goto(f"/#/bots/{bot['id']}")
    expect(page.locator(CANVAS)).to_have_attribute("data-ready", "true")

    # The test message says who the account is, as the Chat area does (user_data).
    page.get_by_label("Test message", exact=True).fill("hello")
    page.get_by_role("button", name="Send test message").click()
    log = page.get_by_role("list", name="Test chat messages")
    expect(log.get_by_text(f"Hi {name}! Pizza?")).to_be_visible()

    # A pressed button shows as its text, as a message the user sent.
    log.get_by_role("button", name="Pizza").click()
    expect(log.get_by_text(f"Which size, {name}?")).to_be_visible()
    expect(log.locator(".said-you")).to_have_text(["hello", "Pizza"])


def test_another_editors_change_appears_on_the_canvas_without_a_reload(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    page = logged_in_page
    bot = _api(console_server, api_user, "POST", "/api/v1/bots", json={"name": "Live"})
    _api(console_server, api_user, "POST", "/api/v1/steps", json={"bot_id": bot["id"], "name": "Hello"})
    # The other editor: a second member of the same organisation, logged in on their own.
    me = _api(console_server, api_user, "GET", "/api/v1/auth/me")
    colleague = f"colleague-{me['id'][-8:]}@example.com"
    _api(console_server, api_user, "POST", f"/api/v1/orgs/{me['org_id']}/members",
         json={"email": colleague, "password": "another-password-1"})
    login = httpx.post(f"{console_server.url}/api/v1/auth/login", json={"email": colleague, "password": "another-password-1"})
    assert login.status_code == 200, login.text
    other_headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

    page.goto(f"/#/bots/{bot['id']}")
    expect(page.get_by_text("Live: changes by others appear here.")).to_be_visible()
    expect(page.locator(CANVAS)).to_have_attribute("data-ready", "true")
    assert _canvas(page)["nodes"] == ["Hello"]

    with httpx.Client(base_url=console_server.url, headers=other_headers, timeout=30) as other:
        made = other.post("/api/v1/steps", json={"bot_id": bot["id"], "name": "Added elsewhere", "position": {"x": 240, "y": 0}})
    assert made.status_code == 201, made.text

    expect(page.get_by_role("status").filter(has_text=f"{colleague} added step “Added elsewhere”.")).to_be_visible()
    _wait_until(page, f"document.querySelector('{CANVAS}')._cyreg.cy.nodes().length === 2")
    assert sorted(_canvas(page)["nodes"]) == ["Added elsewhere", "Hello"]
    expect(page.get_by_label("Step", exact=True).locator("option", has_text="Added elsewhere")).to_have_count(1)


def test_a_bot_from_scratch_is_offered_a_start_greeting_that_makes_it_answer(logged_in_page: Page) -> None:
    page = logged_in_page
    _open_new_bot(page, "Greeter")
    expect(page.get_by_role("button", name="Add a /start greeting")).to_have_count(0)  # no step yet
    _add_step(page, 1, "Welcome to the greeter!")
    _save_step(page, 1)

    # A new session starts at the first step without sending its message: nothing is said, and why.
    page.get_by_label("Test message", exact=True).fill("/start")
    page.get_by_role("button", name="Send test message").click()
    log = page.get_by_role("list", name="Test chat messages")
    expect(log).to_contain_text("The bot sent nothing")
    expect(log).to_contain_text("Add a /start greeting")

    page.get_by_role("button", name="Add a /start greeting").click()
    expect(page.get_by_role("heading", name="Connection from any step (bot level)")).to_be_visible()
    expect(page.get_by_label("Value")).to_have_value("/start")
    expect(page.get_by_label("Priority")).to_have_value("100")
    expect(page.get_by_role("button", name="Add a /start greeting")).to_have_count(0)
    _wait_until(page, f"document.querySelector('{CANVAS}')._cyreg.cy.edges().length === 1")
    assert ["Any step", "Step 1", "message.text = /start · p100"] in _canvas(page)["edges"]
    # The edge's label fits between the two nodes (it used to run under both, cut off).
    overlaps = page.eval_on_selector(
        CANVAS,
        """(el) => { const cy = el._cyreg.cy; const edge = cy.edges()[0];
            const label = edge.boundingBox({includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false});
            const meets = (a, b) => a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;
            return [edge.source(), edge.target()].filter((n) => meets(label, n.boundingBox({includeLabels: false}))).map((n) => n.id()); }""",
    )
    assert overlaps == [], overlaps

    page.get_by_role("button", name="Reset test chat").click()
    page.get_by_label("Test message", exact=True).fill("/start")
    page.get_by_role("button", name="Send test message").click()
    expect(log.get_by_text("Welcome to the greeter!")).to_be_visible()


def test_a_draft_without_steps_is_not_published_and_says_why(logged_in_page: Page) -> None:
    page = logged_in_page
    _open_new_bot(page, "Empty")
    expect(page.get_by_text("This bot has no steps yet")).to_be_visible()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("alert")).to_contain_text("first step")
    assert page.get_by_role("alert").inner_text().count("the bot has no first step") == 1
    expect(page.get_by_text("never published")).to_be_visible()


def test_bot_list_and_constructor_have_no_serious_accessibility_violations(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer, axe_check: Callable[..., None]
) -> None:
    page = logged_in_page
    page.goto("/#/bots")
    expect(page.get_by_text("No bots yet")).to_be_visible()
    axe_check(page)

    bot = _api(console_server, api_user, "POST", "/api/v1/bots", json={"name": "Axe", "variables": {"shop": "Luigi"}})
    one = _api(console_server, api_user, "POST", "/api/v1/steps", json={"bot_id": bot["id"], "name": "One",
               "message": {"text": "Hi", "widget": {"buttons": [{"text": "Go", "value": "go"}]}}})
    two = _api(console_server, api_user, "POST", "/api/v1/steps", json={"bot_id": bot["id"], "name": "Two"})
    group = _api(console_server, api_user, "POST", "/api/v1/connection_groups", json={"step_id": one["id"]})
    rules = {"condition": "OR", "rules": [{"field": "message.text", "operator": "equal", "value": "go"},
                                          {"condition": "AND", "rules": [{"field": "bot.shop", "operator": "is_not_empty"}]}]}
    _api(console_server, api_user, "POST", "/api/v1/connections",
         json={"group_id": group["id"], "next_step_id": two["id"], "rules": rules, "priority": 5})

    page.reload()
    expect(page.get_by_role("link", name="Axe")).to_be_visible()
    axe_check(page)
    page.get_by_role("link", name="Axe").click()
    expect(page.locator(CANVAS)).to_have_attribute("data-ready", "true")
    page.get_by_label("Step", exact=True).select_option(label="One (first)")
    expect(page.get_by_role("heading", name="Step: One")).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name="→ Two").click()
    expect(page.get_by_role("heading", name="Connection from One")).to_be_visible()
    expect(page.get_by_label("Field")).to_have_count(2)
    axe_check(page)
    page.get_by_role("button", name="Palette").click()
    expect(page.get_by_role("button", name="Preset: message")).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name="Variables").click()
    expect(page.get_by_label("Name")).to_have_value("shop")
    axe_check(page)
    _api(console_server, api_user, "POST", "/api/v1/requests",
         json={"bot_id": bot["id"], "name": "Menu", "url": "https://example.com/menu", "headers": {"X-Key": "k"}})
    page.get_by_role("button", name="HTTP requests").click()
    page.get_by_role("button", name="Add request").click()
    expect(page.get_by_role("form", name="New request")).to_be_visible()
    axe_check(page)


def test_phone_never_scrolls_sideways_in_the_bots_area(
    phone_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    bot = _api(console_server, api_user, "POST", "/api/v1/bots", json={"name": "A bot with a rather long name for a phone"})
    _api(console_server, api_user, "POST", "/api/v1/steps", json={"bot_id": bot["id"], "name": "Welcome"})
    log_in(phone_page, api_user)
    width = "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    phone_page.goto("/#/bots")
    expect(phone_page.get_by_role("link", name=bot["name"])).to_be_visible()
    scroll, inner = phone_page.evaluate(width)
    assert scroll <= inner, f"bot list: {scroll}px wide in a {inner}px window"
    # Each row's actions are wholly on screen and inside the list's box (not cut off by it).
    box = phone_page.locator(".bots-table .table-wrap").bounding_box()
    assert box
    for name in (f"Export {bot['name']}", f"Delete {bot['name']}"):
        button = phone_page.get_by_role("button", name=name).bounding_box()
        assert button, name
        assert 0 <= button["x"] and button["x"] + button["width"] <= inner, f"{name}: {button} in a {inner}px window"
        assert box["x"] <= button["x"] and button["x"] + button["width"] <= box["x"] + box["width"], f"{name}: {button} in {box}"
    phone_page.get_by_role("link", name=bot["name"]).click()
    expect(phone_page.locator(CANVAS)).to_have_attribute("data-ready", "true")
    phone_page.get_by_label("Step", exact=True).select_option(label="Welcome (first)")
    expect(phone_page.get_by_role("heading", name="Step: Welcome")).to_be_visible()
    scroll, inner = phone_page.evaluate(width)
    assert scroll <= inner, f"constructor: {scroll}px wide in a {inner}px window"
    expect(phone_page.get_by_role("button", name="Send test message")).to_be_attached()


def _rendered(page: Page) -> dict[str, tuple[float, float]]:
    """Where each step is on the screen (page coordinates), by its name."""
    points = page.eval_on_selector(
        CANVAS,
        """(el) => { const cy = el._cyreg.cy; const box = el.getBoundingClientRect();
            return cy.nodes().map((n) => [n.data('label').split('\\n')[0],
                                           box.left + n.renderedPosition().x, box.top + n.renderedPosition().y]); }""",
    )
    return {name: (x, y) for name, x, y in points}


def test_dragging_places_a_step_and_draws_a_connection(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    page = logged_in_page
    bot = _api(console_server, api_user, "POST", "/api/v1/bots", json={"name": "Drag"})
    one = _api(console_server, api_user, "POST", "/api/v1/steps",
               json={"bot_id": bot["id"], "name": "One", "position": {"x": 0, "y": 0}})
    two = _api(console_server, api_user, "POST", "/api/v1/steps",
               json={"bot_id": bot["id"], "name": "Two", "position": {"x": 300, "y": 100}})
    page.goto(f"/#/bots/{bot['id']}")
    expect(page.locator(CANVAS)).to_have_attribute("data-ready", "true")
    where = _rendered(page)
    (x1, y1), (x2, y2) = where["One"], where["Two"]

    saved = lambda response: response.request.method == "PATCH" and one["id"] in response.url  # noqa: E731
    with page.expect_response(saved) as patch:
        page.mouse.move(x1, y1)
        page.mouse.down()
        page.mouse.move(x1, y1 + 80, steps=8)
        page.mouse.up()
    assert patch.value.ok
    position = _api(console_server, api_user, "GET", f"/api/v1/steps/{one['id']}")["position"]
    assert position["x"] == 0 and position["y"] > 40, position

    page.get_by_role("button", name="Draw connections").click()
    expect(page.get_by_role("button", name="Draw connections")).to_have_attribute("aria-pressed", "true")
    x1, y1 = _rendered(page)["One"]
    page.mouse.move(x1, y1)
    page.mouse.down()
    page.mouse.move((x1 + x2) / 2, (y1 + y2) / 2, steps=6)
    page.mouse.move(x2, y2, steps=6)
    page.mouse.up()
    expect(page.get_by_role("heading", name="Connection from One")).to_be_visible()
    expect(page.get_by_label("Next step")).to_have_value(two["id"])
    assert [edge[:2] for edge in _canvas(page)["edges"]] == [["One", "Two"]]

    # The bot's own groups (tried from any step): Connect to… from "Any step".
    page.get_by_role("button", name="Draw connections").click()
    page.get_by_label("Step", exact=True).select_option(label="Any step (bot level)")
    expect(page.get_by_role("heading", name="Any step (bot level)")).to_be_visible()
    page.get_by_label("Connect to…").select_option(label="One")
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.get_by_role("heading", name="Connection from any step (bot level)")).to_be_visible()
    _wait_until(page, f"document.querySelector('{CANVAS}')._cyreg.cy.edges().length === 2")
    assert ["Any step", "One", "always · p0"] in _canvas(page)["edges"]


PIZZA = {
    "format": "agenthub.bot/v1", "name": "Pizza", "first_step": "hello",
    "steps": [
        {"key": "hello", "message": {"text": "Pizza or pasta?", "widget": {"buttons": [{"text": "Pizza", "value": "pizza"}]}},
         "connection_groups": [{"search_type": "message", "connections": [
             {"rules": {"condition": "AND", "rules": [{"field": "message.text", "operator": "equal", "value": "pizza"}]},
              "priority": 10, "next_step": "size"},
             {"rules": {}, "priority": 0, "next_step": "hello"}]}]},
        {"key": "size", "message": {"text": "Which size?"}, "connection_groups": []},
    ],
}


def test_the_funnel_of_real_sessions_is_shown_on_the_steps(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    page = logged_in_page
    bot = _api(console_server, api_user, "POST", "/api/v1/bots/import", json=PIZZA)
    for text in ("hi", "pizza"):  # a real session (the OpenAI-compatible API), not a test chat
        answer = _api(console_server, api_user, "POST", "/v1/chat/completions",
                      json={"model": bot["id"], "messages": [{"role": "user", "content": text}]})
        assert answer["choices"][0]["message"]["content"]
    page.goto(f"/#/bots/{bot['id']}")
    expect(page.locator(CANVAS)).to_have_attribute("data-ready", "true")
    labels = page.eval_on_selector(CANVAS, "(el) => el._cyreg.cy.nodes().map((n) => n.data('label'))")
    assert "hello\n▶ first\nentered 1 · moved on 1" in labels, labels  # "hi": a new session, not moved on
    assert "size\nentered 1 · moved on 0" in labels, labels


def test_import_export_and_delete_from_the_bot_list(logged_in_page: Page, tmp_path: Path) -> None:
    page = logged_in_page
    page.goto("/#/bots")
    expect(page.get_by_text("No bots yet")).to_be_visible()

    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "agenthub.bot/v1", "name": "Broken", "first_step": "nowhere", "steps": []}')
    page.get_by_label("Bot document (JSON)").set_input_files(str(broken))
    page.get_by_role("button", name="Import").click()
    expect(page.locator(".bot-import .field-error")).to_contain_text("steps")
    assert page.locator(".bot-import").inner_text().count("at least 1 item") == 1

    document = tmp_path / "pizza.json"
    document.write_text(json.dumps(PIZZA))
    page.get_by_label("Bot document (JSON)").set_input_files(str(document))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name="Pizza")).to_be_visible()
    expect(page.get_by_text("Running version 1")).to_be_visible()

    # A preset from the palette: a message step after "hello", going on to "size".
    page.get_by_label("Step", exact=True).select_option(label="hello (first)")
    page.get_by_role("button", name="Palette").click()
    page.get_by_role("button", name="Preset: message").click()
    config = json.loads(page.get_by_label("Config of “message”").input_value())
    assert config["from_step_id"]
    page.get_by_label("Config of “message”").fill(json.dumps({**config, "text": "One moment…", "name": "Notice"}))
    page.get_by_role("button", name="Apply preset").click()
    expect(page.get_by_role("heading", name="Step: Notice")).to_be_visible()
    expect(page.get_by_text("draft edited")).to_be_visible()

    page.get_by_role("link", name="← Bots").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export Pizza").click()
    exported = json.loads(Path(download.value.path()).read_text())
    assert re.fullmatch(r"pizza-bot-[0-9a-f]+\.json", download.value.suggested_filename), download.value.suggested_filename
    assert exported["format"] == "agenthub.bot/v1" and len(exported["steps"]) == 3

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete Pizza").click()
    expect(page.get_by_role("status").filter(has_text="Deleted “Pizza”.")).to_be_visible()
    expect(page.get_by_text("No bots yet")).to_be_visible()


def test_bad_input_is_shown_where_it_belongs(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    page = logged_in_page
    page.goto("/#/bots")
    page.get_by_label("Bot name").fill("   ")
    page.get_by_role("button", name="Create bot").click()
    expect(page.locator(".bot-create .field-error")).to_contain_text("must not be blank")

    bot = _api(console_server, api_user, "POST", "/api/v1/bots", json={"name": "Regex"})
    step = _api(console_server, api_user, "POST", "/api/v1/steps", json={"bot_id": bot["id"], "name": "One"})
    group = _api(console_server, api_user, "POST", "/api/v1/connection_groups", json={"step_id": step["id"]})
    _api(console_server, api_user, "POST", "/api/v1/connections", json={"group_id": group["id"], "next_step_id": step["id"]})
    two = _api(console_server, api_user, "POST", "/api/v1/steps", json={"bot_id": bot["id"], "name": "Two"})
    _api(console_server, api_user, "POST", "/api/v1/connections", json={"group_id": group["id"], "next_step_id": two["id"]})
    page.goto(f"/#/bots/{bot['id']}")

    # A step in use is named by the steps its connections come from, not by ids.
    page.get_by_label("Step", exact=True).select_option(label="Two")
    page.get_by_role("button", name="Delete the selected step").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("“Two” can't be deleted: it is used by a connection from “One”")
    expect(alert).not_to_contain_text("con_")

    page.get_by_label("Step", exact=True).select_option(label="One (first)")
    page.get_by_role("button", name="→ One").click()
    page.get_by_role("button", name="Add rule").click()
    page.get_by_label("Operator").select_option("matches")
    page.get_by_label("Value").fill("([unclosed")
    page.get_by_role("button", name="Save connection").click()
    # A bad regular expression is said at that rule's Value, once, without the API's path.
    expect(page.get_by_label("Value")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".rule-row .field-error")).to_have_text(re.compile(r"^not a regular expression"))
    expect(page.locator(".connection-panel")).not_to_contain_text("rules.rules[0]")
    assert _api(console_server, api_user, "GET", "/api/v1/connections", params={"bot_id": bot["id"]})["items"][0]["rules"] == {}


def test_http_requests_are_made_in_the_constructor_and_chosen_for_a_group(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    page = logged_in_page
    watched = watch(page)
    bot = _api(console_server, api_user, "POST", "/api/v1/bots", json={"name": "Weather"})
    _api(console_server, api_user, "POST", "/api/v1/steps", json={"bot_id": bot["id"], "name": "Ask"})
    page.goto(f"/#/bots/{bot['id']}")
    expect(page.locator(CANVAS)).to_have_attribute("data-ready", "true")

    page.get_by_role("button", name="HTTP requests").click()
    expect(page.get_by_text("No requests yet.")).to_be_visible()
    page.get_by_role("button", name="Add request").click()
    form = page.get_by_role("form", name="New request")
    form.get_by_label("Name", exact=True).fill("Forecast")
    form.get_by_label("URL").fill("https://weather.example.com/today?city={$session.city$}")
    form.get_by_label("Headers (JSON: name → value)").fill('{"Authorization": "Bearer secret-weather-key"}')
    form.get_by_label("Timeout (seconds)").fill("300")
    form.get_by_role("button", name="Add request").click()
    # Refused where it belongs: the timeout's limit under the field, nothing stored.
    expect(form.get_by_label("Timeout (seconds)")).to_have_attribute("aria-invalid", "true")
    assert _api(console_server, api_user, "GET", "/api/v1/requests", params={"bot_id": bot["id"]})["items"] == []
    form.get_by_label("Timeout (seconds)").fill("5")
    form.get_by_role("button", name="Add request").click()
    expect(page.get_by_role("status").filter(has_text="Request added.")).to_be_visible()
    expect(page.locator(".request-list")).to_contain_text("GET https://weather.example.com/today?city={$session.city$}")

    # Changed: the method; the header's value, shown as ***, is kept.
    page.get_by_role("button", name="Edit request Forecast").click()
    form = page.get_by_role("form", name="Request “Forecast”")
    expect(form.get_by_label("Headers (JSON: name → value)")).to_have_value(re.compile(r'"\*\*\*"'))
    form.get_by_label("Method").select_option("POST")
    form.get_by_role("button", name="Save request").click()
    expect(page.get_by_role("status").filter(has_text="Request saved.")).to_be_visible()
    [stored] = _api(console_server, api_user, "GET", "/api/v1/requests", params={"bot_id": bot["id"]})["items"]
    assert (stored["method"], stored["timeout"], stored["headers"]) == ("POST", 5.0, {"Authorization": "***"})
    exported = _api(console_server, api_user, "GET", f"/api/v1/bots/{bot['id']}/export")
    assert "secret-weather-key" not in json.dumps(exported)

    # A group of the step makes it ...
    page.get_by_label("Step", exact=True).select_option(label="Ask (first)")
    page.get_by_role("button", name="Add group").click()
    page.get_by_text("Settings of group 1").click()
    page.get_by_label("Group searches").select_option("response")
    page.get_by_label("HTTP request").select_option(label="Forecast: POST https://weather.example.com/today?city={$session.city$}")
    page.get_by_role("button", name="Save group").click()
    expect(page.get_by_role("status").filter(has_text="Group saved.")).to_be_visible()
    [group] = _api(console_server, api_user, "GET", "/api/v1/connection_groups", params={"bot_id": bot["id"]})["items"]
    assert (group["search_type"], group["request_id"]) == ("response", stored["id"])

    # ... so it is not deleted from under it: the refusal is said, and the request stays.
    page.get_by_role("button", name="HTTP requests").click()
    page.get_by_role("button", name="Delete request Forecast").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert len(_api(console_server, api_user, "GET", "/api/v1/requests", params={"bot_id": bot["id"]})["items"]) == 1
    # The browser logs the refused requests (422, 409); the page itself threw nothing.
    assert [error for error in watched.errors if error.startswith("uncaught")] == [], watched.errors


def test_a_template_is_made_in_the_palette_and_added_as_a_step(
    logged_in_page: Page, api_user: ApiUser, console_server: ConsoleServer
) -> None:
    page = logged_in_page
    bot = _api(console_server, api_user, "POST", "/api/v1/bots", json={"name": "Host"})
    page.goto(f"/#/bots/{bot['id']}")
    expect(page.locator(CANVAS)).to_have_attribute("data-ready", "true")
    page.get_by_role("button", name="Palette").click()
    expect(page.get_by_text("The organisation has no templates yet")).to_be_visible()

    page.get_by_role("button", name="New template").click()
    form = page.get_by_role("form", name="New template")
    form.get_by_label("Template name").fill("Greeter")
    steps = form.get_by_label("Steps (JSON: first_step, steps, requests)")
    steps.fill(steps.input_value().replace('"first_step": "greet"', '"first_step": "nowhere"'))
    form.get_by_role("button", name="Save template").click()
    # A document naming a step it does not hold is refused, saying where; nothing is made.
    expect(form.locator(".field-error")).to_contain_text("nowhere")
    assert _api(console_server, api_user, "GET", "/api/v1/templates")["items"] == []

    steps.fill(steps.input_value().replace('"first_step": "nowhere"', '"first_step": "greet"'))
    form.get_by_role("button", name="Save template").click()
    expect(page.get_by_role("status").filter(has_text="Template “Greeter” saved.")).to_be_visible()
    [template] = _api(console_server, api_user, "GET", "/api/v1/templates")["items"]
    assert template["name"] == "Greeter" and template["inputs"]["required"] == ["who"]

    # Added as a step: its inputs start from the template's (a required one, empty), and an
    # input the template's schema refuses is said before anything is made.
    page.get_by_role("button", name="Add template Greeter as a step").click()
    adding = page.get_by_role("form", name="Add template Greeter")
    inputs = adding.get_by_label("Inputs (JSON: input → value)")
    expect(inputs).to_have_value(re.compile(r'"who": ""'))
    inputs.fill('{"who": 42}')
    adding.get_by_role("button", name="Add step").click()
    expect(adding.locator(".form-error")).to_be_visible()
    assert _api(console_server, api_user, "GET", "/api/v1/steps", params={"bot_id": bot["id"]})["items"] == []
    inputs.fill('{"who": "{$user.first_name$}"}')
    adding.get_by_role("button", name="Add step").click()
    expect(page.get_by_role("heading", name="Template", exact=True)).to_be_visible()  # the new step's bindings
    [step] = _api(console_server, api_user, "GET", "/api/v1/steps", params={"bot_id": bot["id"]})["items"]
    assert step["template_instance"]["template_id"] == template["id"]
    assert step["template_instance"]["inputs"] == {"who": "{$user.first_name$}"}
