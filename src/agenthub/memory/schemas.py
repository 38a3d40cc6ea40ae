"""What the memory routes take and answer: an agent's core memory blocks for one user."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from agenthub.fields import NoNul

LABEL_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
MAX_BLOCK_CHARS = 20_000
DEFAULT_LIMIT = 2000
USER_KEY_PATTERN = r"^[A-Za-z0-9_.:@-]{1,192}$"
"""A memory user: an account id, or ``<channel>:<platform user id>`` (``telegram:42``)."""

BlockValue = Annotated[str, Field(max_length=MAX_BLOCK_CHARS), NoNul()]


class BlockRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    label: str
    value: str
    limit: int = Field(description="Characters the block may hold")


class MemoryRead(BaseModel):
    blocks: list[BlockRead]


class BlockWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(pattern=LABEL_PATTERN)
    value: BlockValue = ""
    limit: int | None = Field(
        default=None, ge=1, le=MAX_BLOCK_CHARS,
        description="Characters the block may hold (default: the limit the agent's `memory_blocks` give this "
        "label, else 2000); a value longer than the limit is refused (422)",
    )


class MemoryWrite(BaseModel):
    """The blocks to replace (by label; labels unique); the user's other blocks are kept."""

    model_config = ConfigDict(extra="forbid")

    blocks: list[BlockWrite] = Field(max_length=20)
