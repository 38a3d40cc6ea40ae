"""The ``rag`` graph against the fake model server, whose ``responder`` answers the grader,
the rewriter and the answer by what each request holds: a follow-up whose search finds
nothing is rewritten from the conversation and answered with a citation; with nothing
found after the rewrites allowed, the answer says it does not know."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from agenthub.config import Settings
from agenthub.graphs.rag import GRADER, REWRITER, build_rag_graph, parse_grades
from agenthub.llm.factory import build_chat_model
from tests.support.fake_openai import FakeOpenAI

PASSAGE = {
    "text": "The Falcon bike costs 900 euros and comes in red.", "file_name": "prices.pdf",
    "document_id": "doc_1", "knowledge_base_id": "kb_1", "chunk_id": 7, "score": 0.03,
}
CONVERSATION: list[BaseMessage] = [
    HumanMessage("Tell me about the Falcon bike."),
    AIMessage("The Falcon is our city bike."),
    HumanMessage("And what does it cost?"),
]


def _system(body: dict[str, Any]) -> str:
    return str(body["messages"][0]["content"]) if body["messages"][0]["role"] == "system" else ""


def _last_user(body: dict[str, Any]) -> str:
    return str([m for m in body["messages"] if m["role"] == "user"][-1]["content"])


def responder(body: dict[str, Any]) -> str:
    system = _system(body)
    if system == GRADER:
        return "1" if "Falcon bike costs" in _last_user(body) else "none"
    if system == REWRITER:
        # Multi-turn: the follow-up's "it" is the Falcon bike of the conversation.
        assert "Falcon bike" in _last_user(body) and "And what does it cost?" in _last_user(body)
        return "Falcon bike price"
    if "[1] (prices.pdf)" in system:
        return "The Falcon costs 900 euros [prices.pdf]."
    return "I do not know: the documents do not say."


async def _run(settings: Settings, server: FakeOpenAI, retrieve: Any, max_rewrites: int = 2) -> tuple[str, dict]:
    model = build_chat_model(settings, provider="openai_compatible", model_id="m", temperature=0, base_url=server.url)
    tokens: list[str] = []
    extras: dict[str, Any] = {}
    configurable = {
        "model": model, "system_prompt": "You answer questions about our bikes.", "retrieve": retrieve,
        "settings": {"agent_type": "rag", "max_query_rewrites": max_rewrites}, "extras": extras,
        "on_token": tokens.append,
    }
    state = await build_rag_graph().ainvoke({"messages": list(CONVERSATION)}, {"configurable": configurable})
    final = state["messages"][-1]
    assert isinstance(final, AIMessage)
    assert "".join(tokens) == final.content  # only the answer streams
    return str(final.content), extras


async def test_a_query_that_found_nothing_is_rewritten_and_answered_with_a_citation(
    settings: Settings, fake_openai: FakeOpenAI
) -> None:
    queries: list[str] = []

    async def retrieve(query: str, top_k: int = 5) -> list[dict[str, Any]]:
        queries.append(query)
        return [PASSAGE] if "price" in query else []

    fake_openai.responder = responder
    text, extras = await _run(settings, fake_openai, retrieve)

    assert queries == ["And what does it cost?", "Falcon bike price"]
    assert text == "The Falcon costs 900 euros [prices.pdf]."
    assert extras["citations"] == [
        {"file_name": "prices.pdf", "document_id": "doc_1", "knowledge_base_id": "kb_1", "chunk_id": 7}
    ]
    systems = [_system(r.body) for r in fake_openai.requests if r.path.endswith("/chat/completions")]
    assert systems[:2] == [REWRITER, GRADER]  # nothing to grade at first: straight to the rewrite


async def test_irrelevant_passages_are_graded_out_and_the_agent_says_it_does_not_know(
    settings: Settings, fake_openai: FakeOpenAI
) -> None:
    off_topic = {**PASSAGE, "text": "The canteen serves soup.", "file_name": "canteen.txt"}
    queries: list[str] = []

    async def retrieve(query: str, top_k: int = 5) -> list[dict[str, Any]]:
        queries.append(query)
        return [off_topic]

    fake_openai.responder = responder
    text, extras = await _run(settings, fake_openai, retrieve, max_rewrites=1)

    assert len(queries) == 2  # the question, then one rewrite
    assert text == "I do not know: the documents do not say."
    assert "citations" not in extras


async def test_an_answer_that_names_no_file_gets_its_sources(settings: Settings, fake_openai: FakeOpenAI) -> None:
    async def retrieve(query: str, top_k: int = 5) -> list[dict[str, Any]]:
        return [PASSAGE]

    fake_openai.responder = lambda body: "yes" if _system(body) == GRADER else "It costs 900 euros."
    text, _extras = await _run(settings, fake_openai, retrieve)
    assert text == "It costs 900 euros.\n\nSources: prices.pdf"


def test_grader_verdicts() -> None:
    assert parse_grades("1, 3", 3) == [0, 2]
    assert parse_grades("Passages 2 and 9", 3) == [1]
    assert parse_grades("none", 3) == [] and parse_grades("No.", 2) == []
    assert parse_grades("yes", 2) == [0, 1]
