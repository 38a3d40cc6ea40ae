"""A Telegram user's name reaches the bot: each message and each button press carries the
user's ``first_name``, ``last_name``, ``username`` and ``language_code`` (those Telegram
gives) as ``user_data``, so a scenario bot greets its Telegram users by name."""

from __future__ import annotations

import time
from pathlib import Path

from telegram import User

from agenthub.channels.telegram.handler import user_data
from tests.channels.telegram.helpers import TOKEN, texts_to, world
from tests.scenarios.helpers import go
from tests.support.fake_telegram import FakeBotApi

GREETER = {
    "name": "Greeter", "first_step": "hello",
    "steps": [{
        "key": "hello",
        "message": {"text": "Hi {$user.first_name$} {$user.last_name$} (@{$user.username$}, "
                            "{$message.user_data.language_code$})!",
                    "widget": {"buttons": [{"text": "Again", "value": "again"}]}},
        "connection_groups": [{"connections": [go("hello")]}],
    }],
}


async def test_a_scenario_bot_greets_a_telegram_user_by_the_name_telegram_gives(
    sqlite_url: str, tmp_path: Path, api: FakeBotApi
) -> None:
    api.add_bot(TOKEN)
    async with world(sqlite_url, tmp_path, api) as w:
        await w.scenario_bot(GREETER, "greeter")
        await api.user_says(TOKEN, "hi", first_name="Ada", last_name="Lovelace", username="ada", language_code="en")
        calls = await w.replies(lambda sent: len(texts_to(sent)) >= 1)
        assert texts_to(calls) == ["Hi Ada Lovelace (@ada, en)!"]

        # A press carries the name Telegram gives with it (the user renamed themselves since).
        offer = calls[0]
        shown = {"message_id": 99, "date": int(time.time()), "chat": {"id": 42, "type": "private"},
                 "text": offer.params["text"], "reply_markup": offer.params["reply_markup"]}
        button = offer.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        await api.user_presses(TOKEN, button, message=shown, first_name="Augusta", last_name="King",
                               username="augusta", language_code="fr")
        calls = await w.replies(lambda sent: len(texts_to(sent)) >= 2)
        assert texts_to(calls)[1] == "Hi Augusta King (@augusta, fr)!"


def test_only_the_fields_the_user_has_are_sent() -> None:
    assert user_data(User(id=1, is_bot=False, first_name="Ann")) == {"first_name": "Ann"}
    full = User(id=2, is_bot=False, first_name="Ada", last_name="Lovelace", username="ada", language_code="en")
    assert user_data(full) == {"first_name": "Ada", "last_name": "Lovelace", "username": "ada", "language_code": "en"}
    assert user_data(User(id=3, is_bot=False, first_name="A\x00b", last_name="")) == {"first_name": "Ab"}
