"""Token usage as clients read it."""

from __future__ import annotations

from pydantic import BaseModel, Field


class UsageTotals(BaseModel):
    agent_id: str
    turns: int = Field(description="Answers with recorded usage")
    input_tokens: int
    output_tokens: int
    cost: str | None = Field(description="USD, as a decimal string; null when no turn had a known price")


class AgentUsage(UsageTotals):
    deleted: bool = Field(description="The agent was deleted (or purged); its usage still counts")


class OrgUsage(BaseModel):
    turns: int = Field(description="Answers with recorded usage, of every agent the organisation had")
    input_tokens: int
    output_tokens: int
    cost: str | None = Field(description="USD, as a decimal string; null when no turn had a known price")
    agents: list[AgentUsage] = Field(description="Per agent, deleted ones included, by agent id")
