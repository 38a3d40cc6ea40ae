"""The ``rag`` agent graph (adaptive RAG): retrieve -> grade relevance -> rewrite the query
and retry (up to ``max_query_rewrites`` times) -> answer citing the documents' file names,
or say it does not know.

- **retrieve**: ``retrieve(query, top_k)`` from the configurable (the engine's hybrid search
  of the agent's knowledge bases); the first query is the user's message.
- **grade**: one model call over the passages found: which of them help answer the question
  (the user's message, or the query it was rewritten to): their numbers, or ``none``.
- **rewrite**: when none does, a model call writes a better search query from the
  conversation (a follow-up such as "and its price?" becomes a query naming the subject).
- **answer**: the agent's prompt, the passages that help and the conversation: the answer
  streams, cites file names in brackets (a "Sources:" line is added when the model named
  none), and the passages go to ``extras["citations"]`` (the answer's ``citations``). With no
  passage that helps, the model is told to say it does not know.

Grading and rewriting are not streamed: only the answer reaches the user.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agenthub.graphs.contract import stream_model

TOP_K = 5
DEFAULT_MAX_REWRITES = 2
PASSAGE_CHARS = 2000
"""Characters of a passage shown to the grader at most."""
CONVERSATION_TURNS = 6
"""Messages of the conversation the rewriter reads at most."""

GRADER = (
    "You grade search results for relevance. Given a question and numbered passages, reply with the numbers "
    "of the passages that help answer the question, separated by commas (for example: 1, 3), or with the "
    "single word none if no passage helps. Reply with nothing else."
)
REWRITER = (
    "You rewrite search queries. A search of the knowledge base found nothing that answers the user's last "
    "message. Write one better search query for it: name the subject in full (the conversation says what "
    "words such as 'it' refer to), use other words or synonyms. Reply with the query only."
)
ANSWER_WITH_PASSAGES = (
    "Answer the user's last message from the passages of the knowledge base below. Cite the file name of "
    "each passage you use in square brackets, for example [handbook.pdf]. If the passages do not answer it, "
    "say so.\n\nPassages:\n{passages}"
)
ANSWER_UNKNOWN = (
    "The knowledge base holds nothing that answers the user's last message (searched for: {queries}). Say "
    "briefly that you do not know and that the documents do not cover it; do not guess."
)
_NUMBER = re.compile(r"\d+")


class RagState(MessagesState, total=False):
    question: str
    query: str
    queries: list[str]
    passages: list[dict[str, Any]]
    relevant: list[dict[str, Any]]
    rewrites: int


def _text(message: BaseMessage) -> str:
    return message.content if isinstance(message.content, str) else str(message.content)


def _question(messages: list[BaseMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return _text(message)
    return ""


async def _retrieve(state: RagState, config: RunnableConfig) -> dict:
    settings = config["configurable"]
    question = state.get("question") or _question(list(state["messages"]))
    query = state.get("query") or question
    retrieve = settings.get("retrieve")
    passages = await retrieve(query, TOP_K) if retrieve is not None and query.strip() else []
    return {"question": question, "query": query, "passages": passages,
            "queries": [*state.get("queries", []), query]}


def _numbered(passages: list[dict[str, Any]], limit: int | None = None) -> str:
    return "\n\n".join(
        f"[{i}] ({p['file_name']}) {p['text'][:limit] if limit else p['text']}" for i, p in enumerate(passages, 1)
    )


def parse_grades(verdict: str, count: int) -> list[int]:
    """The 0-based indexes of the passages a grader's verdict names: numbers, ``yes``/``all``
    (all of them) or ``none``/``no`` (none)."""
    words = verdict.strip().lower()
    numbers = [int(n) - 1 for n in _NUMBER.findall(words) if 1 <= int(n) <= count]
    if numbers:
        return sorted(set(numbers))
    if words.startswith(("yes", "all")):
        return list(range(count))
    return []


async def _grade(state: RagState, config: RunnableConfig) -> dict:
    passages = state.get("passages") or []
    if not passages:
        return {"relevant": []}
    prompt = (
        f"Question: {state.get('query') or state.get('question', '')}\n\nPassages:\n{_numbered(passages, PASSAGE_CHARS)}\n\n"
        "Which passages help answer the question?"
    )
    verdict = await stream_model(
        config["configurable"]["model"], [SystemMessage(GRADER), HumanMessage(prompt)], config, stream=False
    )
    return {"relevant": [passages[i] for i in parse_grades(_text(verdict), len(passages))]}


def _after_grade(state: RagState, config: RunnableConfig) -> str:
    if state.get("relevant") or config["configurable"].get("retrieve") is None:
        return "answer"  # nothing to search with: no rewrite would find anything
    limit = config["configurable"].get("settings", {}).get("max_query_rewrites", DEFAULT_MAX_REWRITES)
    return "rewrite" if state.get("rewrites", 0) < int(limit) else "answer"


async def _rewrite(state: RagState, config: RunnableConfig) -> dict:
    said = [m for m in state["messages"] if isinstance(m, HumanMessage | AIMessage)][-CONVERSATION_TURNS:]
    transcript = "\n".join(f"{'User' if isinstance(m, HumanMessage) else 'Assistant'}: {_text(m)}" for m in said)
    tried = ", ".join(repr(q) for q in state.get("queries", []))
    prompt = f"Conversation:\n{transcript}\n\nQueries tried without result: {tried}\n\nThe better search query:"
    answer = await stream_model(
        config["configurable"]["model"], [SystemMessage(REWRITER), HumanMessage(prompt)], config, stream=False
    )
    query = _text(answer).strip().strip("\"'`").splitlines()[0].strip() if _text(answer).strip() else ""
    return {"query": query or state.get("question", ""), "rewrites": state.get("rewrites", 0) + 1}


def _cite(extras: dict[str, Any], passages: list[dict[str, Any]]) -> None:
    citations: list[dict[str, Any]] = extras.setdefault("citations", [])
    seen = {(c.get("document_id"), c.get("chunk_id")) for c in citations}
    for p in passages:
        if (p["document_id"], p.get("chunk_id")) not in seen:
            seen.add((p["document_id"], p.get("chunk_id")))
            citations.append({"file_name": p["file_name"], "document_id": p["document_id"],
                              "knowledge_base_id": p["knowledge_base_id"], "chunk_id": p.get("chunk_id")})


async def _answer(state: RagState, config: RunnableConfig) -> dict:
    settings = config["configurable"]
    relevant = state.get("relevant") or []
    if relevant:
        instruction = ANSWER_WITH_PASSAGES.format(passages=_numbered(relevant))
    else:
        instruction = ANSWER_UNKNOWN.format(queries=", ".join(repr(q) for q in state.get("queries", [])))
    prompt = f"{settings['system_prompt']}\n\n{instruction}" if settings.get("system_prompt") else instruction
    answer = await stream_model(settings["model"], [SystemMessage(prompt), *state["messages"]], config)
    if not relevant:
        return {"messages": [answer]}
    extras = settings.get("extras")
    if extras is not None:
        _cite(extras, relevant)
    text = _text(answer)
    names = list(dict.fromkeys(p["file_name"] for p in relevant))
    if not any(name in text for name in names):
        sources = f"\n\nSources: {', '.join(names)}"
        if settings.get("on_token") is not None:
            settings["on_token"](sources)
        answer = AIMessage(content=text + sources, id=answer.id, usage_metadata=answer.usage_metadata)
    return {"messages": [answer]}


def build_rag_graph() -> CompiledStateGraph:
    graph = StateGraph(RagState)
    graph.add_node("retrieve", _retrieve)
    graph.add_node("grade", _grade)
    graph.add_node("rewrite", _rewrite)
    graph.add_node("answer", _answer)
    graph.add_edge(START, "retrieve")
    graph.add_edge("retrieve", "grade")
    graph.add_conditional_edges("grade", _after_grade, ["answer", "rewrite"])
    graph.add_edge("rewrite", "retrieve")
    graph.add_edge("answer", END)
    return graph.compile()
