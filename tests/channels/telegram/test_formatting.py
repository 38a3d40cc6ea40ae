"""Long answers split at Telegram's limit without losing a character, at the best boundary;
plain text arrives exactly as written; buttons become inline keyboards. End to end: the
fake model echoes a long message full of Markdown's special characters."""

from __future__ import annotations

from pathlib import Path

from agenthub.channels.telegram.formatting import ButtonData, split_message, utf16_length
from tests.channels.telegram.helpers import TOKEN, texts_to, world
from tests.support.fake_telegram import FakeBotApi

SPECIAL = "*bold* _it_ [link](http://x) ~s~ `code` > # + - = | { } . ! <b>&amp;</b> \\"


def test_short_text_is_one_message_and_empty_text_none() -> None:
    assert split_message("hello") == ["hello"]
    assert split_message("") == []
    assert split_message("   \n ") == []


def test_a_split_prefers_paragraphs_then_lines_then_words_and_loses_nothing() -> None:
    paragraphs = "\n\n".join(f"Paragraph {n}. " + "word " * 150 for n in range(12))
    parts = split_message(paragraphs, limit=1000)
    assert "".join(parts) == paragraphs
    assert all(len(part) <= 1000 for part in parts)
    assert all(part.endswith("\n\n") for part in parts[:-1])
    lines = "\n".join("line " * 30 for _ in range(40))
    parts = split_message(lines, limit=1000)
    assert "".join(parts) == lines and all(part.endswith("\n") for part in parts[:-1])
    words = "word " * 1000
    parts = split_message(words, limit=1000)
    assert "".join(parts) == words and all(part.endswith(" ") and len(part) <= 1000 for part in parts)


def test_text_without_boundaries_is_cut_at_the_limit_and_characters_count_as_telegram_counts() -> None:
    solid = "x" * 10_000
    assert [len(part) for part in split_message(solid)] == [4096, 4096, 1808]
    emoji = "😀" * 3000  # two UTF-16 code units each
    parts = split_message(emoji)
    assert "".join(parts) == emoji
    assert all(utf16_length(part) <= 4096 for part in parts) and len(parts) == 2


def test_buttons_become_an_inline_keyboard_and_long_values_come_back_whole() -> None:
    data = ButtonData()
    long_value = "choose the option " * 10
    keyboard = data.keyboard(["Red", {"text": "Blue", "value": "blue"}, [{"text": "Docs", "url": "https://x.org"},
                                                                         {"text": "Long", "data": long_value}]])
    assert keyboard is not None
    rows = keyboard.inline_keyboard
    assert [[b.text for b in row] for row in rows] == [["Red"], ["Blue"], ["Docs", "Long"]]
    assert rows[0][0].callback_data == "Red" and rows[1][0].callback_data == "blue" and rows[2][0].url
    key = rows[2][1].callback_data
    assert isinstance(key, str) and len(key.encode()) <= 64
    assert data.value(key) == long_value
    assert data.keyboard([None, {"text": ""}]) is None


async def test_a_long_answer_arrives_in_parts_that_make_it_whole_with_every_character_intact(
    sqlite_url: str, tmp_path: Path, api: FakeBotApi
) -> None:
    api.add_bot(TOKEN)
    said = "\n\n".join(f"{n}. {SPECIAL} " + "lorem ipsum " * 20 for n in range(16))[:4000]
    expected = f'You said: "{said}". That is message 1 of this chat.'
    assert len(expected) > 4000
    async with world(sqlite_url, tmp_path, api) as w:
        await w.agent("tg-bot", await w.credential())
        await w.start("tg-bot")
        await api.user_says(TOKEN, said + "x" * 90)  # over 4096 once the model echoes it
        calls = await w.replies(lambda sent: len(texts_to(sent)) >= 2)
        await w.client.post("/api/v1/agents/tg-bot/integrations/telegram/stop")
        answer = texts_to(api.sent(TOKEN))
        whole = f'You said: "{said + "x" * 90}". That is message 1 of this chat.'
        assert "".join(answer) == whole and len(answer) == 2
        assert all(utf16_length(part) <= 4096 for part in answer)
        assert answer[0].endswith("\n\n")  # cut between paragraphs
        assert SPECIAL in answer[0]
        assert all("parse_mode" not in call.params for call in calls)
