"""What the knowledge-base routes take and show."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agenthub.fields import Name
from agenthub.llm.embeddings import FAKE_MODEL

DocumentStatus = Literal["pending", "processing", "ready", "failed"]


class KnowledgeBaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    embedding_model: str | None = Field(
        default=None, min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:/@+-]+$",
        description=f"An OpenAI-compatible embedding model (default: EMBEDDING_MODEL); `{FAKE_MODEL}` embeds offline",
    )
    embedding_base_url: str | None = Field(
        default=None, min_length=8, max_length=2000, pattern=r"^https?://[^\s/?#@]+([/?#]\S*)?$",
        description="An OpenAI-compatible endpoint (`http(s)://host/v1`, no credentials in it); default: "
        "OPENAI_BASE_URL or OpenAI's API",
    )
    embedding_dimensions: int | None = Field(
        default=None, ge=1, le=8192, description="The vectors' length; unset: learnt from the first embedding",
    )

    @field_validator("embedding_dimensions", mode="before")
    @classmethod
    def _a_number(cls, value: object) -> object:
        """A JSON number (61 or 61.0, as JSON Schema's integer), never `true` or "8"."""
        if isinstance(value, bool | str):
            raise ValueError("Input should be a valid integer")
        return value

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()


class KnowledgeBaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    embedding_model: str
    embedding_base_url: str | None
    embedding_dimensions: int | None
    documents: int = 0
    created_at: datetime


class DocumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    knowledge_base_id: str
    file_name: str
    file_type: str
    size_bytes: int
    status: DocumentStatus
    chunks_done: int
    chunks_total: int | None
    progress: float = Field(default=0.0, description="0..1: the share of the document's chunks embedded and indexed")
    error: str | None
    created_at: datetime
    updated_at: datetime
