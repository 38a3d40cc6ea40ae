"""Token usage and budgets as clients read and set them."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

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


class UsageReport(BaseModel):
    totals: UsageFigures
    by_day: list[DayUsage] = Field(description="Days with usage, oldest first")
    by_agent: list[AgentFigures] = Field(description="By agent id")
    by_model: list[ModelFigures] = Field(description="By model name")


class UserUsage(UsageReport):
    """A user's own usage (``GET /user/usage``)."""


def _iso_day(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return value
    if isinstance(value, date):
        return value
    raise ValueError("must be a day: YYYY-MM-DD")


Day = Annotated[date, BeforeValidator(_iso_day)]
"""A day written YYYY-MM-DD (not a timestamp, which a plain ``date`` would take)."""

AMOUNT_PATTERN = r"^[0-9]{1,10}(\.[0-9]{0,8})?$"


def _amount(value: Any) -> Decimal:
    """USD, 0 or more, to 8 places: a decimal string (up to 10 digits, 8 places) or a number
    (not a boolean) up to ``MAX_BUDGET``, rounded to 8 places."""
    if isinstance(value, str) and re.fullmatch(AMOUNT_PATTERN, value):
        return Decimal(value)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ValueError('must be an amount of USD: a decimal string such as "10.50" (8 places at most), or a number')
    amount = Decimal(str(value))
    if not amount.is_finite() or not 0 <= amount <= MAX_BUDGET:
        raise ValueError(f"must be between 0 and {MAX_BUDGET} USD")
    return amount.quantize(Decimal("0.00000001"), rounding=ROUND_HALF_UP)


Amount = Annotated[
    Decimal,
    BeforeValidator(_amount),
    WithJsonSchema({"anyOf": [
        {"type": "number", "minimum": 0, "maximum": int(MAX_BUDGET)},
        {"type": "string", "pattern": AMOUNT_PATTERN},
    ]}),
]


class BudgetUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_budget: Amount = Field(
        description="USD per period: a decimal string (up to 8 places), or a number (rounded to 8 places)"
    )
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
