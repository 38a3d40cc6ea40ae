"""Prices per million tokens (USD), by provider and model. A price applies only where the
provider charges it: ``openai`` by OpenAI's model names, ``openrouter`` by its
``openai/...`` names (OpenRouter passes OpenAI's prices on); ``fake`` is free. Anything
else (``ollama``, ``openai_compatible``, a model not listed) has no cost recorded rather
than a made-up one: a local model called ``gpt-4o-mini`` is not billed as OpenAI's."""

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
}
"""OpenAI's list prices (input, output)."""

FREE = (Decimal(0), Decimal(0))
FREE_PROVIDERS = frozenset({"fake"})


def price_of(provider: str, model: str) -> tuple[Decimal, Decimal] | None:
    """The (input, output) price of ``model`` as ``provider`` names it, or None if unknown."""
    if provider in FREE_PROVIDERS:
        return FREE
    if provider == "openai":
        return PER_MILLION.get(model)
    if provider == "openrouter":
        vendor, _, bare = model.partition("/")
        return PER_MILLION.get(bare) if vendor == "openai" else None
    return None


def cost_of(provider: str, model: str, input_tokens: int, output_tokens: int) -> Decimal | None:
    price = price_of(provider, model)
    if price is None:
        return None
    per_in, per_out = price
    return (per_in * input_tokens + per_out * output_tokens) / Decimal(1_000_000)
