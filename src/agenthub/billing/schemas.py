"""Token usage and budgets as clients read and set them."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from agenthub.config import BUDGET_DURATION_PATTERN, MAX_BUDGET


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


class UsageFigures(BaseModel):
    turns: int = Field(description="Answers with recorded usage")
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost: str = Field(description="USD, as a decimal string (turns of models without a known price count 0)")


class DayUsage(UsageFigures):
    date: str = Field(description="The day (UTC), YYYY-MM-DD")


class AgentFigures(UsageFigures):
    agent_id: str


class ModelFigures(UsageFigures):
    model: str


class UserUsage(BaseModel):
    totals: UsageFigures
    by_day: list[DayUsage] = Field(description="Days with usage, oldest first")
    by_agent: list[AgentFigures] = Field(description="By agent id")
    by_model: list[ModelFigures] = Field(description="By model name")


def _to_places(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.00000001"), rounding=ROUND_HALF_UP)


class BudgetUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_budget: Annotated[
        Decimal, Field(ge=0, le=MAX_BUDGET, allow_inf_nan=False), AfterValidator(_to_places)
    ] = Field(description="USD per period, a decimal string (a number is accepted); kept to 8 decimal places")
    budget_duration: str | None = Field(
        default=None, pattern=BUDGET_DURATION_PATTERN,
        description="How often the budget restarts: 30s, 15m, 12h, 1d, 1w, 1mo; null: never. Left out: "
        "unchanged (a new user budget takes USER_BUDGET_DURATION). A new duration starts a new period",
    )


class BudgetStatus(BaseModel):
    scope: str | None = Field(description="user, org or api_key; null when no budget applies")
    max_budget: str | None = Field(description="USD per period; null: no budget")
    spend: str | None = Field(description="USD spent in the current period")
    remaining: str | None = Field(description="USD left in the current period (0 when spent)")
    budget_duration: str | None
    resets_at: datetime | None = Field(description="When the current period ends; null: never")


class BudgetRead(BudgetStatus):
    subject_id: str = Field(description="The user's, organisation's or API key's id")
    period_started_at: datetime = Field(description="When the current period started")
