"""Files a user sent reach the model as a line naming each (never their bytes), a message
taken up again at start-up comes with its files, and so does the conversation a new
start rebuilds from the history."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.channels.helpers import create_agent, eventually, received, turn
from tests.support.fake_openai import FakeOpenAI
from tests.support.server import make_settings, running_app
from tests.support.ws import connect

PDF = b"%PDF-1.4\n% a report nobody reads\n"


def _asked(fake: FakeOpenAI, content: str) -> int:
    return sum(
        1 for r in fake.requests
        if r.path.endswith("/chat/completions") and r.body["messages"][-1]["content"] == content
    )


async def test_a_message_taken_up_again_comes_with_its_files(sqlite_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url=sqlite_url, data_dir=tmp_path)
    with FakeOpenAI() as fake:
        fake.add_error(status=400, message="refused once")
        async with running_app(settings) as app:
            async with httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
                agent_id = await create_agent(client, provider="openai_compatible", model_id="m", base_url=fake.url)
                uploaded = await client.post("/api/v1/files", files={"file": ("report.pdf", PDF, "application/pdf")})
                assert uploaded.status_code == 201, uploaded.text
                file_id = uploaded.json()["id"]
            async with connect(app.ws(f"/ws/agents/{agent_id}")) as socket:
                failed = await turn(socket, "Read this", attachments=[file_id], timeout=60)
        assert failed[-1]["type"] == "error", failed
        told = f"Read this\n[attached: report.pdf (application/pdf), file {file_id}]"
        assert _asked(fake, told) == 1
        assert not any(PDF.decode() in str(r.body) for r in fake.requests)

        async with running_app(settings):  # the next start sends it to the model again, its file named
            async def asked_again() -> bool:
                return _asked(fake, told) == 2

            await eventually(asked_again, timeout=60, what="the message taken up at start with its file")

        # A later start rebuilds the chat from the history: the message is there with its file.
        async with running_app(settings) as app:
            async with connect(app.ws(f"/ws/agents/{agent_id}")) as socket:
                answered = await turn(socket, "And now?", chat_id=received(failed)["chat_id"], timeout=60)
        assert answered[-1]["type"] == "message", answered
        last = [r for r in fake.requests if r.path.endswith("/chat/completions")][-1]
        assert [m["content"] for m in last.body["messages"] if m["role"] == "user"] == [told, "And now?"]
