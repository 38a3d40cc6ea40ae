"""Per-million-token prices by provider and model, the exact (Decimal) cost of a turn, and
the price file an operator edits (``PRICES_FILE``)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from agenthub.llm.pricing import DEFAULT_PRICES, PriceFileError, PriceTable

PRICES = PriceTable()


def test_known_model_cost_is_exact() -> None:
    cost = PRICES.cost_of("openai", "gpt-4o-mini", 1_000, 500)
    assert isinstance(cost, Decimal)
    # 1000 * 0.15 / 1M + 500 * 0.60 / 1M
    assert cost == Decimal("0.00045")


def test_one_million_tokens_costs_the_list_price() -> None:
    assert PRICES.cost_of("openai", "gpt-4o", 1_000_000, 0) == Decimal("2.50")
    assert PRICES.cost_of("openai", "gpt-4o", 0, 1_000_000) == Decimal("10.00")
    assert PRICES.cost_of("openai", "gpt-4o", 1_000_000, 1_000_000) == Decimal("12.50")


def test_cost_has_no_float_rounding_and_keeps_8_places() -> None:
    # 0.1 + 0.2 style errors would show here with floats.
    assert PRICES.cost_of("openai", "gpt-4.1-nano", 1, 2) == Decimal("0.0000009")
    assert PRICES.cost_of("openai", "gpt-4.1-nano", 3, 0) == Decimal("0.00000030")
    # 0.05 * 1 / 1M = 0.00000005; 0.05 * 1 + 0.40 * 0 -> kept to 8 places, rounded half up
    assert PRICES.cost_of("openai", "gpt-5-nano", 1, 0) == Decimal("0.00000005")
    assert PriceTable({"m": (Decimal("0.075"), Decimal(0))}).cost_of("openai", "m", 1, 0) == Decimal("0.00000008")


def test_openrouter_prices_openai_models_by_their_openrouter_names() -> None:
    assert PRICES.price_of("openrouter", "openai/gpt-4o-mini") == DEFAULT_PRICES["gpt-4o-mini"]
    assert PRICES.cost_of("openrouter", "openai/gpt-4o-mini", 1_000, 500) == Decimal("0.00045")
    # Another vendor's model of the same name is not OpenAI's.
    assert PRICES.price_of("openrouter", "somevendor/gpt-4o-mini") is None


@pytest.mark.parametrize("provider", ["ollama", "openai_compatible", "anthropic-direct", ""])
def test_a_model_served_elsewhere_has_no_cost_whatever_its_name(provider: str) -> None:
    """A local server or proxy that calls its model ``gpt-4o-mini`` is not billed as OpenAI."""
    for model in ("gpt-4o-mini", "openai/gpt-4o-mini", "gpt-4o"):
        assert PRICES.price_of(provider, model) is None
        assert PRICES.cost_of(provider, model, 1_000, 500) is None


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
    assert PRICES.price_of(provider, model) is None
    assert PRICES.cost_of(provider, model, 1_000, 1_000) is None


@pytest.mark.parametrize("model", ["demo", "gpt-4o", "anything"])
def test_the_fake_provider_is_free(model: str) -> None:
    assert PRICES.cost_of("fake", model, 123, 456) == Decimal(0)


def test_a_model_called_demo_is_not_free_elsewhere() -> None:
    assert PRICES.cost_of("openai", "demo", 123, 456) is None


def test_zero_tokens_cost_nothing() -> None:
    assert PRICES.cost_of("openai", "gpt-4o", 0, 0) == Decimal(0)


def test_a_toml_price_file_adds_and_overrides_prices(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(
        '["gpt-4o"]\ninput = 1.25\noutput = "5.00"\n\n'
        '["ollama:llama3:8b"]\ninput = 0.01\noutput = 0.02\n\n'
        '["openrouter:anthropic/claude-3.5-sonnet"]\ninput = 3\noutput = 15\n'
    )
    prices = PriceTable.load(path)
    assert prices.cost_of("openai", "gpt-4o", 1_000_000, 1_000_000) == Decimal("6.25")
    assert prices.cost_of("openrouter", "openai/gpt-4o", 1_000_000, 0) == Decimal("1.25")
    assert prices.cost_of("ollama", "llama3:8b", 1_000_000, 1_000_000) == Decimal("0.03")
    assert prices.cost_of("openrouter", "anthropic/claude-3.5-sonnet", 1_000, 1_000) == Decimal("0.018")
    # A provider's own entry is that provider's alone; the shipped prices stay.
    assert prices.cost_of("openai_compatible", "llama3:8b", 1, 1) is None
    assert prices.cost_of("openai", "gpt-4o-mini", 1_000_000, 0) == Decimal("0.15")


def test_a_json_price_file(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text('{"openai_compatible:house-model": {"input": "0.5", "output": 1}}')
    assert PriceTable.load(path).cost_of("openai_compatible", "house-model", 2_000_000, 1_000_000) == Decimal("2")


def test_no_file_is_the_shipped_prices() -> None:
    assert PriceTable.load(None).prices == DEFAULT_PRICES


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("p.json", "{not json", "not valid JSON"),
        ("p.toml", "[gpt-4o\ninput=1", "not valid TOML"),
        ("p.json", '["gpt-4o"]', "must map model names to prices"),
        ("p.json", '{"gpt-4o": {"input": 1}}', '"input" and "output"'),
        ("p.json", '{"gpt-4o": {"input": 1, "output": 2, "cached": 3}}', '"input" and "output"'),
        ("p.json", '{"gpt-4o": {"input": -1, "output": 2}}', "0 or more"),
        ("p.json", '{"gpt-4o": {"input": "cheap", "output": 2}}', "0 or more"),
        ("p.json", '{"gpt-4o": {"input": true, "output": 2}}', "0 or more"),
        ("p.json", '{"gpt-4o": {"input": "NaN", "output": 2}}', "0 or more"),
    ],
)
def test_a_wrong_price_file_is_refused_naming_what_is_wrong(tmp_path: Path, name: str, text: str, says: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(PriceFileError) as refused:
        PriceTable.load(path)
    assert says in refused.value.message and str(path) in refused.value.message


def test_a_missing_price_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PriceFileError, match="can't be read"):
        PriceTable.load(tmp_path / "nowhere.toml")
