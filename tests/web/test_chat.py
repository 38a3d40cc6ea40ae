"""The console's chat area in Debian's chromium against a real ``agenthub serve``: a user
picks an agent, the answer streams into its bubble, the history is there after a reload,
a model's HTML never runs, a scenario bot's buttons answer it, files go with a message, the
chat exports as Markdown and JSON, a dropped WebSocket reconnects without losing the answer,
and the page passes axe-core and fits a phone."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.support.fake_openai import FakeOpenAI
from tests.web.accounts import ApiUser
from tests.web.console_login import log_in
from tests.web.console_server import ConsoleServer
from tests.web.org_setup import me, member_of

pytestmark = pytest.mark.browser

SLOW_ANSWER = "Lisbon has seven hills, yellow trams, custard tarts and a long river front to walk along."
WORD_DELAY = 0.12
"""Seconds between the slow model's words: its answer streams for about 2 s."""


LONG_ANSWER = " ".join(f"step{n}" for n in range(1, 101))
"""What the slow model answers a message asking for a long answer: about 12 s of streaming."""


def _slow_answer(body: dict[str, Any]) -> dict[str, Any]:
    asked = str(body["messages"][-1]["content"])
    return {"text": LONG_ANSWER if "long" in asked else SLOW_ANSWER, "delay": WORD_DELAY}


@pytest.fixture(scope="module")
def slow_model() -> Iterator[FakeOpenAI]:
    """An OpenAI-compatible model on 127.0.0.1 that streams :data:`SLOW_ANSWER` (or, asked
    for a long answer, :data:`LONG_ANSWER`) word by word."""
    with FakeOpenAI(responder=_slow_answer) as server:
        yield server


def _api(server: ConsoleServer, user: ApiUser) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers=user.headers, timeout=30)


def _create_agent(server: ConsoleServer, user: ApiUser, agent_id: str, name: str, **settings: Any) -> None:
    body = {"id": agent_id, "name": name, "kind": "llm",
            "settings": {"provider": "fake", "model_id": "demo", "system_prompt": "Be brief.", **settings}}
    with _api(server, user) as client:
        created = client.post("/api/v1/agents", json=body)
    assert created.status_code == 201, created.text


def _create_slow_agent(server: ConsoleServer, user: ApiUser, model: FakeOpenAI) -> None:
    _create_agent(server, user, "guide", "Travel guide", provider="openai_compatible", model_id="fake-model",
                  base_url=model.url)


def _open_chat(page: Page, user: ApiUser, agent_id: str) -> None:
    log_in(page, user)
    page.goto(f"/#/chat/{agent_id}")
    expect(page.get_by_role("button", name="Send")).to_be_enabled()


def _send(page: Page, text: str) -> None:
    # Enter sends once the chat's socket is open (Send enabled); before, the text stays in the box.
    expect(page.get_by_role("button", name="Send")).to_be_enabled()
    box = page.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")


def _answers(page: Page):  # type: ignore[no-untyped-def]
    return page.locator(".bubble.assistant")


def test_answer_streams_in_and_the_history_is_there_after_a_reload(
    page: Page, api_user: ApiUser, console_server: ConsoleServer, slow_model: FakeOpenAI,
    axe_check: Callable[[Page], None],
) -> None:
    _create_slow_agent(console_server, api_user, slow_model)
    _open_chat(page, api_user, "guide")
    expect(page.get_by_text("No messages yet")).to_be_visible()
    _send(page, "Tell me about Lisbon")

    # Part of the answer is shown while the model is still writing it...
    streaming = page.locator(".bubble.assistant.streaming")
    expect(streaming).to_contain_text("seven hills")
    partial = streaming.inner_text()
    assert "river front" not in partial, "the whole answer came at once: nothing streamed"
    # ...then the final message replaces it.
    expect(_answers(page)).to_have_count(1)
    expect(_answers(page).first).to_contain_text(SLOW_ANSWER)
    expect(page.locator(".bubble.streaming")).to_have_count(0)
    expect(page.get_by_role("navigation", name="Chats").get_by_role("link", name=re.compile("Tell me about Lisbon"))).to_be_visible()
    axe_check(page)

    page.reload()
    expect(page.locator(".bubble.user")).to_have_text(re.compile("Tell me about Lisbon"))
    expect(_answers(page)).to_have_count(1)
    expect(_answers(page).first).to_contain_text(SLOW_ANSWER)

    # The next turn goes on in the same chat.
    _send(page, "And the trams?")
    expect(_answers(page)).to_have_count(2)
    expect(_answers(page).last).to_contain_text(SLOW_ANSWER)


def test_stop_keeps_what_was_written_and_retry_sends_again(
    page: Page, api_user: ApiUser, console_server: ConsoleServer, slow_model: FakeOpenAI,
) -> None:
    _create_slow_agent(console_server, api_user, slow_model)
    _open_chat(page, api_user, "guide")
    _send(page, "Give me a long answer")
    expect(page.locator(".bubble.assistant.streaming")).to_contain_text("step3")
    page.get_by_role("button", name="Stop").click()

    # The server stops the answer: what was written is the answer, and the history keeps it.
    answer = _answers(page).first
    expect(answer).to_contain_text("Stopped.")
    expect(page.get_by_role("button", name="Send")).to_be_enabled()
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    kept = answer.locator(".text").inner_text()
    assert kept.startswith("step1 step2 step3") and "step100" not in kept
    page.reload()
    expect(_answers(page).first.locator(".text")).to_have_text(kept)
    # Still marked stopped after the reload: the history says so.
    expect(_answers(page).first.locator(".hint")).to_have_text("Stopped.")

    # Retry sends the last message again: a new answer streams (stopped too, to end the test).
    page.get_by_role("button", name="Retry").click()
    expect(page.locator(".bubble.user")).to_have_count(2)
    expect(page.locator(".bubble.user").last).to_have_text(re.compile("Give me a long answer"))
    expect(page.locator(".bubble.assistant.streaming")).to_contain_text("step2")
    page.get_by_role("button", name="Stop").click()
    expect(_answers(page)).to_have_count(2)
    expect(_answers(page).last).to_contain_text("Stopped.")


def test_html_from_a_model_or_a_user_never_runs(page: Page, api_user: ApiUser, console_server: ConsoleServer) -> None:
    _create_agent(console_server, api_user, "echo", "Echo")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _open_chat(page, api_user, "echo")
    attack = '<img src=x onerror="window.__hacked=1;alert(1)"> <script>window.__hacked=2</script> **bold**'
    _send(page, attack)

    # The fake model repeats the text: its answer carries the same markup.
    expect(_answers(page).first).to_contain_text("That is message 1 of this chat")
    answer = _answers(page).first
    expect(answer.locator("strong")).to_have_text("bold")  # Markdown is rendered...
    assert answer.locator("img, script").count() == 0  # ...its HTML is never parsed:
    expect(answer).to_contain_text('<img src=x onerror="window.__hacked=1;alert(1)">')  # shown as text
    # The user's own text is shown as text, markup and all.
    expect(page.locator(".bubble.user")).to_contain_text('<img src=x onerror="window.__hacked=1;alert(1)">')
    assert page.locator(".bubble.user img, .bubble.user script").count() == 0
    assert page.evaluate("window.__hacked") is None
    assert dialogs == []

    # Shift+Enter is a new line in the message; Enter sends it.
    box = page.get_by_role("textbox", name="Message")
    box.press_sequentially("first line")
    box.press("Shift+Enter")
    box.press_sequentially("second line")
    expect(box).to_have_value("first line\nsecond line")
    box.press("Enter")
    expect(box).to_have_value("")
    expect(page.locator(".bubble.user").last).to_have_text(re.compile("first line\nsecond line"))
    expect(_answers(page)).to_have_count(2)


BOT = {
    "format": "agenthub.bot/v1", "name": "Pizza", "first_step": "hello",
    "connection_groups": [{"search_type": "message", "connections": [
        {"rules": {"condition": "AND", "rules": [{"field": "message.text", "operator": "equal", "value": "/start"}]},
         "priority": 100, "next_step": "hello"}]}],
    "steps": [
        {"key": "hello", "message": {"text": "Pizza or pasta?", "widget": {"buttons": [
            {"text": "Pizza", "value": "pizza"}, {"text": "Pasta", "value": "pasta"}]}},
         "connection_groups": [{"search_type": "message", "connections": [
             {"rules": {"condition": "AND", "rules": [{"field": "message.text", "operator": "contains", "value": "pizza"}]},
              "priority": 10, "next_step": "size"},
             {"rules": {}, "priority": 0, "next_step": "hello"}]}]},
        {"key": "size", "message": {"text": "Which size of pizza?"}, "connection_groups": []},
    ],
    "requests": [], "templates": [],
}


def test_a_scenario_bots_buttons_answer_it(page: Page, api_user: ApiUser, console_server: ConsoleServer) -> None:
    with _api(console_server, api_user) as client:
        imported = client.post("/api/v1/bots/import", json=BOT)
    assert imported.status_code == 201, imported.text
    bot_id = imported.json()["id"]
    _open_chat(page, api_user, bot_id)
    expect(page.get_by_label("Agent or bot")).to_have_value(bot_id)
    _send(page, "/start")
    choices = page.get_by_role("group", name="Answers to choose from")
    expect(choices.get_by_role("button", name="Pasta")).to_be_visible()
    choices.get_by_role("button", name="Pizza").click()
    expect(_answers(page).last).to_contain_text("Which size of pizza?")
    # The pressed button shows as its text (its value is what was sent).
    expect(page.locator(".bubble.user").last.locator(".text")).to_have_text("Pizza")

    # The history keeps the buttons: shown again after a reload (no longer to be pressed).
    page.reload()
    expect(_answers(page).last).to_contain_text("Which size of pizza?")
    kept = page.get_by_role("group", name="Answers to choose from").get_by_role("button", name="Pasta")
    expect(kept).to_be_visible()
    expect(kept).to_be_disabled()
    expect(page.locator(".bubble.user").last.locator(".text")).to_have_text("Pizza")


def _readme_pizza_bot() -> dict[str, Any]:
    """The Pizza document of the README (section "Scenario bots"), as a reader would copy it."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    found = re.search(r'```json\n(\{"format": "agenthub\.bot/v1", "name": "Pizza".*?)\n```', readme, re.S)
    assert found, "the README has no Pizza bot document"
    document: dict[str, Any] = json.loads(found.group(1))
    return document


def test_the_readme_pizza_bot_greets_the_user_by_name_and_an_unanswered_message_says_so(
    page: Page, api_user: ApiUser, console_server: ConsoleServer, axe_check: Callable[[Page], None],
) -> None:
    with _api(console_server, api_user) as client:
        imported = client.post("/api/v1/bots/import", json=_readme_pizza_bot())
    assert imported.status_code == 201, imported.text
    bot_id = imported.json()["id"]
    account = me(console_server.url, api_user)
    name = account.get("username") or api_user.email.split("@")[0]
    _open_chat(page, api_user, bot_id)
    _send(page, "/start")
    expect(_answers(page).last.locator(".text")).to_have_text(f"Hi {name}! Pizza or pasta?")
    page.get_by_role("group", name="Answers to choose from").get_by_role("button", name="Pizza").click()
    expect(_answers(page).last).to_contain_text(f"Which size, {name}?")
    # A bot's answer is not retried: sent again, the press would move the bot on (or get nothing).
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)

    # "large" takes no connection of the last step: the bot answers nothing, and the page says so.
    _send(page, "large")
    expect(_answers(page)).to_have_count(3)
    expect(_answers(page).last).to_have_class(re.compile(r"\bempty\b"))
    expect(_answers(page).last.locator(".text")).to_have_text("No answer.")
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)
    axe_check(page)
    page.reload()
    expect(_answers(page)).to_have_count(3)
    expect(_answers(page).last.locator(".text")).to_have_text("No answer.")
    expect(page.locator(".bubble.user").nth(1).locator(".text")).to_have_text("Pizza")


def test_the_chat_list_shows_a_markdown_title_as_plain_text(
    page: Page, api_user: ApiUser, console_server: ConsoleServer,
) -> None:
    _create_agent(console_server, api_user, "echo", "Echo")
    _open_chat(page, api_user, "echo")
    _send(page, "# Trip plan\n**Lisbon** in [May](https://example.com/may) with `tram 28`\n```\nbring shoes\n```")
    expect(_answers(page)).to_have_count(1)
    chats = page.get_by_role("navigation", name="Chats")
    title = chats.get_by_role("link").locator(".title")
    expect(title).to_have_text("Trip plan Lisbon in May with tram 28 bring shoes")
    # The markup is gone from the title only: the message itself is as the user wrote it.
    expect(page.locator(".bubble.user")).to_contain_text("**Lisbon** in [May](https://example.com/may)")

    # Another chat, whose title (the first 120 characters of its first message) ends inside a
    # link's address: the link's text, not half of its markup.
    cut = "Read " + "more " * 18 + "in [the guide](https://example.com/" + "a" * 80 + ")"
    with _api(console_server, api_user) as client:
        said = client.post("/api/v1/agents/echo/chat", json={"content": cut, "chat_id": "cut-link"})
    assert said.status_code == 200, said.text
    # And one cut inside bold text: the bold words, without their opening marks.
    bold = "Note " + "well " * 20 + "**the part that matters most is cut off here, in the middle of it**"
    with _api(console_server, api_user) as client:
        said = client.post("/api/v1/agents/echo/chat", json={"content": bold, "chat_id": "cut-bold"})
    assert said.status_code == 200, said.text
    page.reload()
    expect(title).to_have_text([
        re.compile(r"^Note well .* well the part that$"), re.compile(r"^Read more .* in the guide$"),
        "Trip plan Lisbon in May with tram 28 bring shoes",
    ])
    shown = " ".join(title.all_inner_texts())
    for mark in ("#", "**", "[", "](", "`", "https://"):
        assert mark not in shown, f"{mark!r} in the chat list: {shown}"


def test_agents_of_the_same_name_are_told_apart_by_their_id(
    page: Page, api_user: ApiUser, console_server: ConsoleServer,
) -> None:
    _create_agent(console_server, api_user, "helper-one", "Helper")
    _create_agent(console_server, api_user, "helper-two", "Helper")
    _create_agent(console_server, api_user, "echo", "Echo")
    _open_chat(page, api_user, "echo")
    options = page.get_by_label("Agent or bot").locator("option")
    expect(options).to_have_text(["Helper (helper-one)", "Helper (helper-two)", "Echo"])


def test_the_chat_list_shows_only_your_own_chats(
    page: Page, api_user: ApiUser, console_server: ConsoleServer,
) -> None:
    _create_agent(console_server, api_user, "echo", "Echo")
    with _api(console_server, api_user) as client:
        said = client.post("/api/v1/agents/echo/chat", json={"content": "The owner's private plans", "chat_id": "owners"})
    assert said.status_code == 200, said.text
    member = member_of(console_server.url, api_user)
    _open_chat(page, member, "echo")
    # The member's page opens a new chat of their own, not the owner's most recent one.
    expect(page.get_by_text("No messages yet")).to_be_visible()
    chats = page.get_by_role("navigation", name="Chats")
    expect(chats.get_by_role("link")).to_have_count(1)
    expect(chats.get_by_role("link")).to_have_text(re.compile("New chat"))
    expect(chats).not_to_contain_text("The owner's private plans")


def test_a_file_goes_with_a_message_and_the_chat_exports(
    page: Page, api_user: ApiUser, console_server: ConsoleServer,
) -> None:
    _create_agent(console_server, api_user, "echo", "Echo")
    _open_chat(page, api_user, "echo")
    page.locator("#chat-files").set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"bring an umbrella\n"}]
    )
    expect(page.get_by_role("list", name="Files to send")).to_contain_text("notes.txt")
    _send(page, "Here are my notes")
    # The model is told of the file (the fake model repeats what it got).
    expect(_answers(page).first).to_contain_text("[attached: notes.txt (text/plain)")
    user_message = page.locator(".bubble.user").first
    expect(user_message.get_by_role("button", name="Download notes.txt")).to_be_visible()
    with page.expect_download() as downloaded:
        user_message.get_by_role("button", name="Download notes.txt").click()
    assert downloaded.value.suggested_filename == "notes.txt"
    assert open(downloaded.value.path(), "rb").read() == b"bring an umbrella\n"

    with page.expect_download() as markdown:
        page.get_by_role("button", name="Export Markdown").click()
    assert markdown.value.suggested_filename.endswith(".md")
    text = open(markdown.value.path(), encoding="utf-8").read()
    assert "Here are my notes" in text and "That is message 1 of this chat" in text

    with page.expect_download() as as_json:
        page.get_by_role("button", name="Export JSON").click()
    document = json.loads(open(as_json.value.path(), encoding="utf-8").read())
    assert document["agent_id"] == "echo"
    assert [m["role"] for m in document["messages"]] == ["user", "assistant"]
    assert document["messages"][0]["attachments"][0]["file_id"].startswith("fil_")


def test_a_dropped_connection_reconnects_and_loses_nothing(
    page: Page, api_user: ApiUser, console_server: ConsoleServer, slow_model: FakeOpenAI,
) -> None:
    """Playwright sits between the page and the server (``route_web_socket``), passing every
    frame on; the test cuts the page's socket while the answer streams, as a dropped network
    connection does. The page opens a new one naming the last message it has, and the
    server replays the answer."""
    _create_slow_agent(console_server, api_user, slow_model)
    sockets: list[WebSocketRoute] = []

    def through(route: WebSocketRoute) -> None:
        sockets.append(route)
        route.connect_to_server()

    page.route_web_socket(re.compile(r"/ws/agents/"), through)
    _open_chat(page, api_user, "guide")
    _send(page, "Tell me about Lisbon")
    expect(page.locator(".bubble.assistant.streaming")).to_contain_text("seven")
    opened = len(sockets)  # the chat's own (and the start page's, when it opened one first)

    sockets[-1].close(code=4000, reason="dropped")
    expect(page.get_by_role("status").filter(has_text="Reconnecting…")).to_be_visible()
    expect(page.get_by_role("button", name="Send")).to_be_disabled()

    expect(_answers(page).first).to_contain_text(SLOW_ANSWER)
    expect(page.get_by_role("button", name="Send")).to_be_enabled()
    expect(_answers(page)).to_have_count(1)
    assert len(sockets) == opened + 1  # one new socket, opened again once
    assert "after=" in sockets[-1].url and "chat_id=" in sockets[-1].url


def test_the_message_box_fits_a_phone(
    phone_page: Page, api_user: ApiUser, console_server: ConsoleServer, axe_check: Callable[[Page], None],
) -> None:
    _create_agent(console_server, api_user, "echo", "Echo")
    _open_chat(phone_page, api_user, "echo")
    for turn in range(1, 5):  # enough messages to fill the screen
        _send(phone_page, f"A longer message number {turn} to fill the screen of the phone with text")
        expect(_answers(phone_page)).to_have_count(turn)
    expect(phone_page.get_by_role("textbox", name="Message")).to_be_in_viewport()
    expect(phone_page.get_by_role("button", name="Send")).to_be_in_viewport()
    width, inner = phone_page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width <= inner, f"{width}px wide in a {inner}px window"
    phone_page.get_by_role("button", name="Show chats").click()
    expect(phone_page.get_by_role("navigation", name="Chats").get_by_role("link")).to_have_count(1)
    axe_check(phone_page)


def test_with_no_agent_yet_the_page_says_where_to_make_one(
    logged_in_page: Page, axe_check: Callable[[Page], None],
) -> None:
    page = logged_in_page
    page.goto("/#/chat/ghost")
    expect(page.get_by_text("No agent or bot to talk to yet")).to_be_visible()
    expect(page.get_by_role("link", name="Create an agent")).to_have_attribute("href", "#/agents")
    axe_check(page)
