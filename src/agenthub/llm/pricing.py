"""Prices per million tokens (USD) for models whose price is known. A model not listed has
no cost recorded rather than a made-up one."""

from __future__ import annotations

from decimal import Decimal

PER_MILLION: dict[str, tuple[Decimal, Decimal]] = {
    "gpt-4o": (Decimal("2.50"), Decimal("10.00")),
    "gpt-4o-mini": (Decimal("0.15"), Decimal("0.60")),
    "gpt-4.1": (Decimal("2.00"), Decimal("8.00")),
    "gpt-4.1-mini": (Decimal("0.40"), Decimal("1.60")),
    "gpt-4.1-nano": (Decimal("0.10"), Decimal("0.40")),
    "gpt-4-turbo": (Decimal("10.00"), Decimal("30.00")),
    "gpt-3.5-turbo": (Decimal("0.50"), Decimal("1.50")),
    "demo": (Decimal("0"), Decimal("0")),
}


def price_of(model: str) -> tuple[Decimal, Decimal] | None:
    """Exact match first, then without an ``openai/``-style vendor prefix (OpenRouter)."""
    if model in PER_MILLION:
        return PER_MILLION[model]
    _, _, bare = model.rpartition("/")
    return PER_MILLION.get(bare)


def cost_of(model: str, input_tokens: int, output_tokens: int) -> Decimal | None:
    price = price_of(model)
    if price is None:
        return None
    per_in, per_out = price
    return (per_in * input_tokens + per_out * output_tokens) / Decimal(1_000_000)
