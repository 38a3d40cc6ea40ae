"""Long-term memory of an agent for one user: core blocks, archival passages and the
summaries of long chats. Logic only: the routes are :mod:`agenthub.memory.api`, the
agent's tools ``agenthub/tools/builtin/*memory*.py``, the context of a turn
:mod:`agenthub.engines.llm`.

A user's blocks are made on first use from the agent's ``memory_blocks`` (default:
``persona`` and ``human``, empty, 2000 characters each); a label the agent's settings gain
later is added then too.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.chats.models import ChatMessage
from agenthub.db.base import utcnow
from agenthub.db.upsert import insert_ignoring_duplicates
from agenthub.errors import InvalidInput, NotFound
from agenthub.memory.models import ArchivalPassage, ConversationSummary, CoreBlock
from agenthub.memory.schemas import DEFAULT_LIMIT, BlockWrite

DEFAULT_BLOCKS: tuple[dict[str, Any], ...] = (
    {"label": "persona", "value": "", "limit": DEFAULT_LIMIT},
    {"label": "human", "value": "", "limit": DEFAULT_LIMIT},
)
NEAR_IDENTICAL = 0.97
"""Cosine similarity from which a new archival passage is the same fact as a stored one."""
MIN_SCORE = 0.15
"""Cosine similarity below which a passage does not answer a query (the keyword search is tried)."""
_WORD = re.compile(r"\w+", re.UNICODE)
SEARCH_CANDIDATES = 500
"""Messages matching a word of a conversation search that are ranked at most (the latest)."""


class BlockOverflow(InvalidInput):
    code = "memory_block_full"


@dataclass(frozen=True, slots=True)
class Block:
    label: str
    value: str
    limit: int


def default_blocks(agent_settings: dict[str, Any]) -> list[Block]:
    """The blocks a user starts with: the agent's ``memory_blocks``, or persona and human."""
    configured = agent_settings.get("memory_blocks") or DEFAULT_BLOCKS
    return [Block(str(b["label"]), str(b.get("value") or ""), int(b.get("limit") or DEFAULT_LIMIT)) for b in configured]


async def _rows(session: AsyncSession, agent_id: str, user_key: str) -> list[CoreBlock]:
    query = (
        select(CoreBlock)
        .where(CoreBlock.agent_id == agent_id, CoreBlock.user_key == user_key)
        .order_by(CoreBlock.position, CoreBlock.id)
    )
    return list(await session.scalars(query))


async def _ensure(session: AsyncSession, agent_id: str, user_key: str, agent_settings: dict[str, Any]) -> list[CoreBlock]:
    """The user's block rows, made from the agent's defaults where missing."""
    rows = await _rows(session, agent_id, user_key)
    have = {row.label for row in rows}
    missing = [
        {"agent_id": agent_id, "user_key": user_key, "label": block.label, "value": block.value,
         "limit": block.limit, "position": index, "updated_at": utcnow()}
        for index, block in enumerate(default_blocks(agent_settings)) if block.label not in have
    ]
    if missing:
        await insert_ignoring_duplicates(session, CoreBlock, missing)  # another turn may make them at once
        rows = await _rows(session, agent_id, user_key)
    return rows


async def blocks(
    session: AsyncSession, *, agent_id: str, user_key: str, agent_settings: dict[str, Any], create: bool = True
) -> list[Block]:
    """The user's core memory blocks, in order. Without ``create`` nothing is written: the
    blocks a user has not got yet are shown as they would start."""
    if create:
        rows = await _ensure(session, agent_id, user_key, agent_settings)
        return [Block(row.label, row.value, row.limit) for row in rows]
    rows = await _rows(session, agent_id, user_key)
    have = {row.label for row in rows}
    return [Block(row.label, row.value, row.limit) for row in rows] + [
        block for block in default_blocks(agent_settings) if block.label not in have
    ]


async def _block(
    session: AsyncSession, agent_id: str, user_key: str, agent_settings: dict[str, Any], label: str
) -> CoreBlock:
    rows = await _ensure(session, agent_id, user_key, agent_settings)
    for row in rows:
        if row.label == label:
            return row
    raise NotFound(f"there is no memory block {label!r} (blocks: {', '.join(r.label for r in rows)})")


def _check_fits(label: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise BlockOverflow(
            f"memory block {label!r} would hold {len(value)} characters, over its limit of {limit}: "
            "shorten it with core_memory_replace first", field="blocks",
        )


async def append(
    session: AsyncSession, *, agent_id: str, user_key: str, agent_settings: dict[str, Any], label: str, content: str
) -> Block:
    """Add ``content`` to the block ``label`` (on a new line); NotFound for an unknown label,
    BlockOverflow past its limit (nothing changed)."""
    row = await _block(session, agent_id, user_key, agent_settings, label)
    value = f"{row.value}\n{content}" if row.value else content
    _check_fits(label, value, row.limit)
    row.value = value
    await session.flush()
    return Block(row.label, row.value, row.limit)


async def replace(
    session: AsyncSession, *, agent_id: str, user_key: str, agent_settings: dict[str, Any], label: str,
    old_content: str, new_content: str,
) -> Block:
    """Replace ``old_content`` by ``new_content`` in the block ``label`` (every occurrence; an
    empty ``new_content`` deletes it). NotFound when the label or ``old_content`` is not
    there, BlockOverflow past the limit."""
    row = await _block(session, agent_id, user_key, agent_settings, label)
    if not old_content or old_content not in row.value:
        raise NotFound(f"memory block {label!r} does not contain {old_content!r}")
    value = row.value.replace(old_content, new_content)
    _check_fits(label, value, row.limit)
    row.value = value
    await session.flush()
    return Block(row.label, row.value, row.limit)


async def put_blocks(
    session: AsyncSession, *, agent_id: str, user_key: str, agent_settings: dict[str, Any],
    data: Sequence[BlockWrite],
) -> list[Block]:
    """Replace the blocks named, value and limit (a label the user has not got is added); the
    others are kept. A limit not given is the one the agent's ``memory_blocks`` give the
    label, else 2000. All or nothing: InvalidInput for a repeated label or a value over its
    limit."""
    labels = [block.label for block in data]
    if len(labels) != len(set(labels)):
        raise InvalidInput("blocks: each label may appear once", field="blocks")
    configured = {block.label: block.limit for block in default_blocks(agent_settings)}
    limits = [block.limit or configured.get(block.label, DEFAULT_LIMIT) for block in data]
    for index, (block, limit) in enumerate(zip(data, limits, strict=True)):
        if len(block.value) > limit:
            raise InvalidInput(
                f"blocks[{index}]: {block.label!r} holds {len(block.value)} characters, over its limit of {limit}",
                field=f"blocks.{index}.value",
            )
    rows = {row.label: row for row in await _ensure(session, agent_id, user_key, agent_settings)}
    position = max((row.position for row in rows.values()), default=-1) + 1
    for block, limit in zip(data, limits, strict=True):
        row = rows.get(block.label)
        if row is None:
            row = CoreBlock(agent_id=agent_id, user_key=user_key, label=block.label, position=position)
            position += 1
            session.add(row)
        row.value, row.limit, row.updated_at = block.value, limit, utcnow()
    await session.flush()
    return [Block(row.label, row.value, row.limit) for row in await _rows(session, agent_id, user_key)]


def render(blocks_: Sequence[Block]) -> str:
    """The blocks as the agent sees them, after its system prompt."""
    parts = [
        "## Core memory",
        "What you remember of this user and of yourself, kept across conversations. Keep it up to date with "
        "core_memory_append and core_memory_replace; each block holds at most its limit of characters.",
    ]
    for block in blocks_:
        parts.append(
            f'<{block.label} characters="{len(block.value)}/{block.limit}">\n{block.value}\n</{block.label}>'
        )
    return "\n\n".join(parts)


# Archival memory


def normalise(text: str) -> str:
    """A passage as compared for repeats: its words in lower case."""
    return " ".join(_WORD.findall(text.lower()))


def _digest(text: str) -> str:
    return hashlib.sha256(normalise(text).encode()).hexdigest()


def _cosines(vector: Sequence[float], rows: Sequence[ArchivalPassage]) -> np.ndarray:
    matrix = np.asarray([row.vector for row in rows], dtype=np.float32)
    query = np.asarray(vector, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(query) or 1.0)
    norms[norms == 0] = 1.0
    return (matrix @ query) / norms


async def _passages(session: AsyncSession, agent_id: str, user_key: str, model: str | None) -> list[ArchivalPassage]:
    query = select(ArchivalPassage).where(ArchivalPassage.agent_id == agent_id, ArchivalPassage.user_key == user_key)
    if model is not None:
        query = query.where(ArchivalPassage.model == model)
    return list(await session.scalars(query.order_by(ArchivalPassage.id)))


async def insert_passage(
    session: AsyncSession, *, agent_id: str, user_key: str, content: str, model: str, vector: Sequence[float]
) -> tuple[bool, ArchivalPassage]:
    """Store a passage; (False, the stored one) when the same fact is already there (the
    same normalised text, or a near-identical embedding). Never overwrites."""
    digest = _digest(content)
    rows = await _passages(session, agent_id, user_key, model)
    for row in rows:
        if row.normalized == digest:
            return False, row
    if rows and len(vector):
        scores = _cosines(vector, rows)
        best = int(np.argmax(scores))
        if scores[best] >= NEAR_IDENTICAL:
            return False, rows[best]
    passage = ArchivalPassage(
        agent_id=agent_id, user_key=user_key, content=content, normalized=digest, model=model,
        vector=[float(x) for x in vector], created_at=utcnow(),
    )
    session.add(passage)
    await session.flush()
    return True, passage


async def search_passages(
    session: AsyncSession, *, agent_id: str, user_key: str, query: str, model: str, vector: Sequence[float] | None,
    top_k: int,
) -> list[tuple[float, ArchivalPassage]]:
    """The passages nearest to the query (cosine similarity, embeddings of ``model``); when
    none is near enough (or there is no ``vector``: the embedder failed), the passages
    sharing most words with it."""
    if vector is not None:
        rows = await _passages(session, agent_id, user_key, model)
        if rows:
            scores = _cosines(vector, rows)
            order = np.argsort(-scores)[:top_k]
            found = [(float(scores[i]), rows[int(i)]) for i in order if scores[i] >= MIN_SCORE]
            if found:
                return found
    return keyword_rank(query, await _passages(session, agent_id, user_key, None), top_k)


def keyword_rank(query: str, rows: Sequence[ArchivalPassage], top_k: int) -> list[tuple[float, ArchivalPassage]]:
    words = set(normalise(query).split())
    if not words:
        return []
    scored = []
    for row in rows:
        have = set(normalise(row.content).split())
        share = len(words & have) / len(words)
        if share:
            scored.append((share, row))
    scored.sort(key=lambda item: -item[0])
    return scored[:top_k]


# Summaries of long chats


async def latest_summary(session: AsyncSession, *, agent_id: str, chat_id: str, before: int) -> ConversationSummary | None:
    """The chat's latest summary of turns before position ``before``."""
    return await session.scalar(
        select(ConversationSummary)
        .where(
            ConversationSummary.agent_id == agent_id, ConversationSummary.chat_id == chat_id,
            ConversationSummary.up_to_position < before,
        )
        .order_by(ConversationSummary.up_to_position.desc(), ConversationSummary.id.desc())
        .limit(1)
    )


async def save_summary(session: AsyncSession, *, agent_id: str, chat_id: str, up_to_position: int, content: str) -> None:
    session.add(ConversationSummary(
        agent_id=agent_id, chat_id=chat_id, up_to_position=up_to_position, content=content, created_at=utcnow(),
    ))
    await session.flush()


# Recall: the user's past conversation with the agent


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def search_conversation(
    session: AsyncSession, *, agent_id: str, user_key: str, query: str, limit: int, exclude_message_id: str | None = None,
) -> list[ChatMessage]:
    """The user's messages to the agent (in any chat) and its answers to them that share most
    words with ``query``, best first, the latest first among equals: summarised turns
    included (they stay in the history)."""
    words = sorted(set(normalise(query).split()), key=len, reverse=True)[:10]
    if not words:
        return []
    theirs = select(ChatMessage.message_id).where(
        ChatMessage.agent_id == agent_id, ChatMessage.user_key == user_key, ChatMessage.role == "user"
    )
    matches = or_(*[ChatMessage.content.ilike(_like(word), escape="\\") for word in words])
    rows = list(await session.scalars(
        select(ChatMessage)
        .where(
            ChatMessage.agent_id == agent_id,
            or_(
                (ChatMessage.user_key == user_key) & (ChatMessage.role == "user"),
                (ChatMessage.role == "assistant") & ChatMessage.reply_to.in_(theirs),
            ),
            matches,
        )
        .order_by(ChatMessage.seq.desc())
        .limit(SEARCH_CANDIDATES)
    ))
    scored = []
    for row in rows:
        if exclude_message_id and row.message_id == exclude_message_id:
            continue
        have = set(normalise(row.content).split())
        scored.append((sum(1 for word in words if word in have or word in row.content.lower()), row))
    scored.sort(key=lambda item: -item[0])  # stable: the latest first among equals
    return [row for _, row in scored[:limit]]
