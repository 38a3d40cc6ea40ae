"""Token usage as clients read it."""

from __future__ import annotations

from pydantic import BaseModel, Field


class UsageTotals(BaseModel):
    agent_id: str
    turns: int = Field(description="Answers with recorded usage")
    input_tokens: int
    output_tokens: int
    cost: str | None = Field(description="USD, as a decimal string; null when no turn had a known price")
