"""Personal agents and the organisation's template as clients send and read them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from agenthub.agents.schemas import AGENT_ID_PATTERN


class TemplateAgentSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent_id: str | None = Field(
        pattern=AGENT_ID_PATTERN,
        description="An agent of the organisation each member's personal agent is made from; `null` clears it",
    )


class TemplateAgentRead(BaseModel):
    org_id: str
    agent_id: str | None = Field(description="The template agent, or `null` when the organisation names none")


class PersonalReset(BaseModel):
    agent_id: str
    chats_deleted: int
    messages_deleted: int
    status: str = Field(description="The agent's status after the reset (`stopped`: it starts on the next message)")
