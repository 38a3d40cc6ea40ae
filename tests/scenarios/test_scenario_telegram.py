"""A scenario bot on Telegram: each message of a turn is its own Telegram message, buttons an
inline keyboard, and a press reaches the bot as a button (``message.button``)."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from agenthub.db.engine import create_engine, create_session_factory
from agenthub.scenarios.models import DelayedMove
from tests.channels.telegram.conftest import api, short_long_polls  # noqa: F401
from tests.channels.telegram.helpers import TOKEN, texts_to, world
from tests.scenarios.helpers import PIZZA, add_bot, equal, go
from tests.support.fake_telegram import FakeBotApi


async def test_a_scenario_bot_on_telegram(sqlite_url: str, tmp_path: Path, api: FakeBotApi) -> None:  # noqa: F811
    api.add_bot(TOKEN)
    async with world(sqlite_url, tmp_path, api) as w:
        # On Telegram "/start" is the channel's own command (linking an account): another restart.
        document = {**PIZZA, "connection_groups": [{"connections": [go("hello", equal("again"), 100)]}]}
        await w.scenario_bot(document, "pizza")
        await api.user_says(TOKEN, "hi")
        calls = await w.replies(lambda sent: len(texts_to(sent)) >= 1)
        offer = calls[0]
        assert offer.params["text"] == "Hi! Pizza or pasta at Luigi?"
        keyboard = offer.params["reply_markup"]["inline_keyboard"]
        assert [[button["text"] for button in row] for row in keyboard] == [["Pizza"], ["Pasta"]]
        shown = {"message_id": 99, "date": int(time.time()), "chat": {"id": 42, "type": "private"},
                 "text": offer.params["text"], "reply_markup": offer.params["reply_markup"]}
        await api.user_presses(TOKEN, keyboard[1][0]["callback_data"], message=shown)  # only a press goes to pasta
        calls = await w.replies(lambda sent: len(texts_to(sent)) >= 2)
        assert texts_to(calls)[1] == "Pasta it is."
        await api.user_says(TOKEN, "again")
        await w.replies(lambda sent: len(texts_to(sent)) >= 3)
        await api.user_says(TOKEN, "pizza")
        await w.replies(lambda sent: len(texts_to(sent)) >= 4)
        await api.user_says(TOKEN, "small")
        calls = await w.replies(lambda sent: len(texts_to(sent)) >= 6)
        assert texts_to(calls)[4:] == ["A small pizza: noted.", "Thanks!"]


async def test_a_delayed_message_of_a_scenario_bot_reaches_telegram(
    sqlite_url: str, tmp_path: Path, api: FakeBotApi,  # noqa: F811
) -> None:
    api.add_bot(TOKEN)
    async with world(sqlite_url, tmp_path, api) as w:
        credential = await w.credential()
        engine = create_engine(sqlite_url)
        sessions = create_session_factory(engine)
        try:
            document = {"name": "Reminder", "first_step": "hello", "steps": [
                {"key": "hello", "message": {"text": "Hi! Say pizza."},
                 "emitter": {"delay_seconds": 1, "next_step": "reminder"},
                 "connection_groups": [{"connections": [go("hello")]}]},
                {"key": "reminder", "message": {"text": "Still there?"}},
            ]}
            await add_bot(sessions, document, bot_id="reminder", settings={
                "isolation": "shared", "access": "public",
                "integrations": [{"type": "telegram", "settings": {"credential_id": credential}}],
            })
            await w.start("reminder")
            await api.user_says(TOKEN, "hi")
            await w.replies(lambda sent: len(texts_to(sent)) >= 1)
            async with sessions() as db:
                move = await db.scalar(select(DelayedMove).where(DelayedMove.bot_id == "reminder"))
            assert move is not None
            await w.app.app.state.scenario_timers.run_once(now=move.due_at + timedelta(seconds=1))
            calls = await w.replies(lambda sent: len(texts_to(sent)) >= 2)
        finally:
            await engine.dispose()
    assert texts_to(calls) == ["Hi! Say pizza.", "Still there?"]
