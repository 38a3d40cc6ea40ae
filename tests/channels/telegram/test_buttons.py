"""Buttons a scenario-like agent sends (an event with ``widget.buttons``) arrive as an inline
keyboard; a press comes back to the agent as the user's message."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from agenthub.agents.models import DEFAULT_ORG, Agent
from agenthub.bus import Bus
from agenthub.config import Settings
from agenthub.db.engine import SessionFactory, create_engine, create_session_factory, session_scope
from agenthub.engines.base import Answer, Engine, Turn, TurnEvents
from agenthub.engines.registry import EngineRegistry, build_engines
from tests.channels.telegram.helpers import TOKEN, texts_to, world
from tests.support.fake_telegram import FakeBotApi


class MenuEngine(Engine):
    """Offers two colours as buttons on ``menu``; answers any other message with the choice."""

    kind = "menu"

    def __init__(self) -> None:
        self.turns: list[str] = []

    async def answer(self, turn: Turn, events: TurnEvents) -> Answer:
        self.turns.append(turn.text)
        if turn.text == "menu":
            await events.emit({"type": "widget", "widget": {
                "text": "Pick a colour", "buttons": [["Red", {"text": "Blue", "value": "blue please"}]]}})
            return Answer(text="Choose above.")
        return Answer(text=f"You chose {turn.text}")


def _engines(menu: MenuEngine):  # type: ignore[no-untyped-def]
    def make(settings: Settings, sessions: SessionFactory, bus: Bus | None = None, **more: Any) -> EngineRegistry:
        return build_engines(settings, sessions, bus, **more).with_engine(menu)

    return make


async def _menu_agent(database_url: str, credential_id: str) -> None:
    """An agent of the test's own kind (the API creates llm agents only), with a bot."""
    engine = create_engine(database_url)
    try:
        async with session_scope(create_session_factory(engine)) as session:
            session.add(Agent(id="menu", org_id=DEFAULT_ORG, name="Menu", kind="menu", config_version=1, settings={
                "isolation": "shared", "access": "public",
                "integrations": [{"type": "telegram", "settings": {"credential_id": credential_id}}],
            }))
    finally:
        await engine.dispose()


async def test_buttons_become_an_inline_keyboard_whose_presses_come_back_as_messages(
    sqlite_url: str, tmp_path: Path, api: FakeBotApi
) -> None:
    api.add_bot(TOKEN)
    menu = MenuEngine()
    async with world(sqlite_url, tmp_path, api, engines=_engines(menu)) as w:
        await _menu_agent(sqlite_url, await w.credential())
        await w.start("menu")
        await api.user_says(TOKEN, "menu")
        calls = await w.replies(lambda sent: len(texts_to(sent)) >= 2)
        offer = calls[0]
        assert offer.params["text"] == "Pick a colour"
        keyboard = offer.params["reply_markup"]["inline_keyboard"]
        assert [[button["text"] for button in row] for row in keyboard] == [["Red", "Blue"]]
        assert texts_to(calls)[1] == "Choose above."
        shown = {"message_id": 99, "date": int(time.time()), "chat": {"id": 42, "type": "private"},
                 "text": "Pick a colour", "reply_markup": offer.params["reply_markup"]}
        await api.user_presses(TOKEN, keyboard[0][1]["callback_data"], message=shown)
        calls = await w.replies(lambda sent: len(texts_to(sent)) >= 3)
        assert texts_to(calls)[2] == "You chose blue please"
        assert api.sent(TOKEN, "answerCallbackQuery")
        assert menu.turns == ["menu", "blue please"]
