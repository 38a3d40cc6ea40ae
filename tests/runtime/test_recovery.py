"""Start-up recovery in the embedded mode takes a message up once at most: a message whose
turn ended in an error (errors are not stored, so it looks unanswered) is sent to the model
again at the next start, and not at the starts after it."""

from __future__ import annotations

import httpx

from tests.channels.helpers import create_agent, eventually, received, turn
from tests.support.fake_openai import FakeOpenAI
from tests.support.server import make_settings, running_app
from tests.support.ws import connect


def _asked(fake: FakeOpenAI, text: str) -> int:
    """How many times the model was asked to answer ``text``."""
    return sum(
        1 for r in fake.requests
        if r.path.endswith("/chat/completions") and r.body["messages"][-1]["content"] == text
    )


async def test_a_failed_message_is_sent_to_the_model_again_at_one_start_only(sqlite_url: str) -> None:
    settings = make_settings(database_url=sqlite_url)
    with FakeOpenAI() as fake:
        fake.add_error(status=400, message="refused once")
        fake.add_error(status=400, message="refused twice")
        async with running_app(settings) as app:
            async with httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
                agent_id = await create_agent(client, provider="openai_compatible", model_id="m", base_url=fake.url)
            async with connect(app.ws(f"/ws/agents/{agent_id}")) as socket:
                failed = await turn(socket, "Costly question", timeout=60)
        assert failed[-1]["type"] == "error", failed
        chat_id = received(failed)["chat_id"]
        assert _asked(fake, "Costly question") == 1

        # The next start takes it up (it looks unanswered): the model is asked again.
        async with running_app(settings):
            async def asked_again() -> bool:
                return _asked(fake, "Costly question") == 2

            await eventually(asked_again, timeout=60, what="the failed message taken up at start")

        # The start after that does not: the next message of the chat is the next thing asked.
        async with running_app(settings) as app:
            async with connect(app.ws(f"/ws/agents/{agent_id}")) as socket:
                answered = await turn(socket, "Next question", chat_id=chat_id, timeout=60)
        assert answered[-1]["type"] == "message", answered
        assert answered[-1]["content"] == "echo: Next question"
        assert _asked(fake, "Costly question") == 2
