"""A ``rag`` agent end to end: a document uploaded and processed, a follow-up question whose
search finds nothing useful rewritten from the conversation, and the answer citing the
document, in its text and in the answer's ``citations``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from agenthub.graphs.rag import GRADER, REWRITER
from tests.agents.helpers import agent_body, client_for, wait_for
from tests.knowledge.helpers import create_kb, upload, wait_for_document
from tests.support.fake_openai import FakeOpenAI
from tests.support.sse import parse_sse

_WORD = re.compile(r"[a-z]{4,}")


def _words(text: str) -> set[str]:
    return {w[:-1] if w.endswith("s") else w for w in _WORD.findall(text.lower())} - {"what", "tell", "about"}


def _grade(prompt: str) -> str:
    """The passages sharing a word with the question (as a model would judge, roughly)."""
    question = prompt.split("\n", 1)[0]
    numbers = [n for n, text in re.findall(r"\[(\d+)\] \([^)]*\) (.*)", prompt) if _words(question) & _words(text)]
    return ", ".join(numbers) or "none"


def responder(body: dict[str, Any]) -> str:
    messages = body["messages"]
    system, last = str(messages[0]["content"]), str(messages[-1]["content"])
    if system == GRADER:
        return _grade(last)
    if system == REWRITER:
        return "Falcon bike price" if "Falcon" in last else "price"
    if "(bikes.md)" in system:
        return "The Falcon costs 900 euros [bikes.md]."
    return "I do not know."


async def _cited_answers(client: Any, count: int) -> list[dict[str, Any]] | None:
    """The chat's stored answers with citations, once there are ``count``."""
    response = await client.get("/api/v1/agents/librarian/chats/c1/messages")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    cited = [m for m in response.json()["items"] if m.get("citations")]
    return cited if len(cited) >= count else None


async def _say(client: Any, text: str) -> dict[str, Any]:
    response = await client.post("/api/v1/agents/librarian/chat", json={"content": text, "chat_id": "c1"})
    assert response.status_code == 200, response.text
    (message,) = [data for name, data in parse_sse(response.text) if name == "message"]
    return message


async def test_a_rag_agent_rewrites_a_follow_up_and_answers_citing_the_document(
    sqlite_url: str, tmp_path: Path
) -> None:
    with FakeOpenAI(responder=responder) as model:
        async with client_for(sqlite_url, data_dir=tmp_path) as (_app, client):
            kb = await create_kb(client)
            ids = {}
            for name, text in {"bikes.md": "The Falcon bike costs 900 euros and comes in red.",
                               "canteen.txt": "The canteen serves soup at noon."}.items():
                uploaded = await upload(client, kb["id"], name, text.encode())
                ids[name] = uploaded.json()["id"]
                assert (await wait_for_document(client, kb["id"], uploaded.json()["id"]))["status"] == "ready"
            body = agent_body(id="librarian", settings={
                "provider": "openai_compatible", "model_id": "m", "base_url": model.url,
                "agent_type": "rag", "knowledge_base_ids": [kb["id"]], "max_query_rewrites": 2,
            })
            assert (await client.post("/api/v1/agents", json=body)).status_code == 201

            first = await _say(client, "Tell me about the Falcon bike.")
            assert "[bikes.md]" in first["content"]
            before = len(model.requests)
            second = await _say(client, "And what is its price?")
            history = await wait_for(lambda: _cited_answers(client, 2))  # stored by the history worker

    assert second["content"] == "The Falcon costs 900 euros [bikes.md]."
    (citation,) = second["citations"]
    assert citation["file_name"] == "bikes.md" and citation["knowledge_base_id"] == kb["id"]
    assert citation["document_id"] == ids["bikes.md"]
    assert history, "the answers' citations were not stored in the history"
    assert [c["file_name"] for c in history[-1]["citations"]] == ["bikes.md"]
    steps = [str(r.body["messages"][0]["content"]) for r in model.requests[before:] if "messages" in r.body]
    assert steps[:3] == [GRADER, REWRITER, GRADER]  # graded out, rewritten from the conversation, graded in
