"""Per-million-token prices by provider and model, and the exact (Decimal) cost of a turn."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agenthub.llm.pricing import PER_MILLION, cost_of, price_of


def test_known_model_cost_is_exact() -> None:
    cost = cost_of("openai", "gpt-4o-mini", 1_000, 500)
    assert isinstance(cost, Decimal)
    # 1000 * 0.15 / 1M + 500 * 0.60 / 1M
    assert cost == Decimal("0.00045")


def test_one_million_tokens_costs_the_list_price() -> None:
    assert cost_of("openai", "gpt-4o", 1_000_000, 0) == Decimal("2.50")
    assert cost_of("openai", "gpt-4o", 0, 1_000_000) == Decimal("10.00")
    assert cost_of("openai", "gpt-4o", 1_000_000, 1_000_000) == Decimal("12.50")


def test_cost_has_no_float_rounding() -> None:
    # 0.1 + 0.2 style errors would show here with floats.
    assert cost_of("openai", "gpt-4.1-nano", 1, 2) == Decimal("0.0000009")
    assert cost_of("openai", "gpt-4.1-nano", 3, 0) == Decimal("3") * Decimal("0.10") / Decimal(1_000_000)


def test_openrouter_prices_openai_models_by_their_openrouter_names() -> None:
    assert price_of("openrouter", "openai/gpt-4o-mini") == PER_MILLION["gpt-4o-mini"]
    assert cost_of("openrouter", "openai/gpt-4o-mini", 1_000, 500) == Decimal("0.00045")
    # Another vendor's model of the same name is not OpenAI's.
    assert price_of("openrouter", "somevendor/gpt-4o-mini") is None


@pytest.mark.parametrize("provider", ["ollama", "openai_compatible", "anthropic-direct", ""])
def test_a_model_served_elsewhere_has_no_cost_whatever_its_name(provider: str) -> None:
    """A local server or proxy that calls its model ``gpt-4o-mini`` is not billed as OpenAI."""
    for model in ("gpt-4o-mini", "openai/gpt-4o-mini", "gpt-4o"):
        assert price_of(provider, model) is None
        assert cost_of(provider, model, 1_000, 500) is None


@pytest.mark.parametrize(
    ("provider", "model"),
    [
        ("openai", "claude-unknown"),
        ("openai", ""),
        ("openai", "gpt-4o-mini-but-not"),
        ("openai", "openai/gpt-4o-mini"),
        ("openrouter", "openai/not-a-model"),
        ("openrouter", "gpt-4o-mini"),
    ],
)
def test_unknown_model_has_no_price(provider: str, model: str) -> None:
    assert price_of(provider, model) is None
    assert cost_of(provider, model, 1_000, 1_000) is None


@pytest.mark.parametrize("model", ["demo", "gpt-4o", "anything"])
def test_the_fake_provider_is_free(model: str) -> None:
    assert cost_of("fake", model, 123, 456) == Decimal(0)


def test_a_model_called_demo_is_not_free_elsewhere() -> None:
    assert cost_of("openai", "demo", 123, 456) is None


def test_zero_tokens_cost_nothing() -> None:
    assert cost_of("openai", "gpt-4o", 0, 0) == Decimal(0)
