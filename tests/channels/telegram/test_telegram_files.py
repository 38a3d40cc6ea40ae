"""A photo or document a Telegram user sends is downloaded through the Bot API, stored as a
file of the bot's organisation, and reaches the bot as the message's attachment, its caption
as the text (its name without one); a file of a type not taken is refused in the chat, and
nothing is stored."""

from __future__ import annotations

from pathlib import Path

from tests.channels.telegram.conftest import api, short_long_polls  # noqa: F401
from tests.channels.telegram.helpers import TOKEN, texts_to, world
from tests.channels.test_attachments import INBOX
from tests.support.fake_telegram import FakeBotApi

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


async def test_a_photo_and_a_document_reach_a_scenario_bot(
    sqlite_url: str, tmp_path: Path, api: FakeBotApi,  # noqa: F811
) -> None:
    api.add_bot(TOKEN)
    async with world(sqlite_url, tmp_path, api) as w:
        await w.scenario_bot(INBOX, "inbox")
        await api.user_sends_photo(TOKEN, JPEG, caption="my cat")
        calls = await w.replies(lambda sent: len(texts_to(sent)) >= 1)
        files = (await w.client.get("/api/v1/files")).json()["items"]
        assert len(files) == 1, files
        photo = files[0]
        assert texts_to(calls) == [f"Got {photo['id']}: my cat"]
        assert photo["content_type"] == "image/jpeg" and photo["name"].endswith(".jpg") and photo["size"] == len(JPEG)
        assert (await w.client.get(photo["download_path"])).content == JPEG

        await api.user_sends_document(TOKEN, b"a,b\n1,2\n", file_name="sums.csv", mime_type="text/csv")
        calls = await w.replies(lambda sent: len(texts_to(sent)) >= 2)
        files = (await w.client.get("/api/v1/files")).json()["items"]
        document = next(f for f in files if f["name"] == "sums.csv")
        assert texts_to(calls)[1] == f"Got {document['id']}: sums.csv"

        await api.user_sends_document(TOKEN, b"<html><script></script></html>", file_name="x.html",
                                      mime_type="text/html")
        calls = await w.replies(lambda sent: len(texts_to(sent)) >= 3)
        assert texts_to(calls)[2].startswith("Sorry, I can't take that file: files of type text/html")
        assert (await w.client.get("/api/v1/files")).json()["total"] == 2
        assert [call.method for call in api.calls].count("download") == 2  # the refused type was not downloaded
        history = (await w.client.get("/api/v1/agents/inbox/chats/telegram-42/messages")).json()["items"]
        users = [(m["content"], [a["file_id"] for a in m.get("attachments") or []])
                 for m in history if m["role"] == "user"]
        assert users == [("my cat", [photo["id"]]), ("sums.csv", [document["id"]])]
