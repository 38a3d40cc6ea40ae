"""Per-million-token prices and the exact (Decimal) cost of a turn."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agenthub.llm.pricing import PER_MILLION, cost_of, price_of


def test_known_model_cost_is_exact() -> None:
    cost = cost_of("gpt-4o-mini", 1_000, 500)
    assert isinstance(cost, Decimal)
    # 1000 * 0.15 / 1M + 500 * 0.60 / 1M
    assert cost == Decimal("0.00045")


def test_one_million_tokens_costs_the_list_price() -> None:
    assert cost_of("gpt-4o", 1_000_000, 0) == Decimal("2.50")
    assert cost_of("gpt-4o", 0, 1_000_000) == Decimal("10.00")
    assert cost_of("gpt-4o", 1_000_000, 1_000_000) == Decimal("12.50")


def test_cost_has_no_float_rounding() -> None:
    # 0.1 + 0.2 style errors would show here with floats.
    assert cost_of("gpt-4.1-nano", 1, 2) == Decimal("0.0000009")
    assert cost_of("gpt-4.1-nano", 3, 0) == Decimal("3") * Decimal("0.10") / Decimal(1_000_000)


def test_vendor_prefixed_name_is_priced() -> None:
    assert price_of("openai/gpt-4o-mini") == price_of("gpt-4o-mini") == PER_MILLION["gpt-4o-mini"]
    assert cost_of("openai/gpt-4o-mini", 1_000, 500) == Decimal("0.00045")


@pytest.mark.parametrize("model", ["claude-unknown", "openai/not-a-model", "", "gpt-4o-mini-but-not"])
def test_unknown_model_has_no_price(model: str) -> None:
    assert price_of(model) is None
    assert cost_of(model, 1_000, 1_000) is None


def test_demo_model_is_free() -> None:
    assert cost_of("demo", 123, 456) == Decimal(0)


def test_zero_tokens_cost_nothing() -> None:
    assert cost_of("gpt-4o", 0, 0) == Decimal(0)
