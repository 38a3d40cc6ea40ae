"""Prices per million tokens (USD), by provider and model: shipped defaults, plus the file
an operator edits (``PRICES_FILE``, JSON or TOML), whose entries win.

A price applies only where the provider charges it. A plain model name (``gpt-4o``) is
OpenAI's list price: it applies to ``openai`` by that name and to ``openrouter`` by its
``openai/...`` name (OpenRouter passes OpenAI's prices on). ``provider:model``
(``openrouter:anthropic/claude-3.5-sonnet``, ``ollama:llama3``) applies to that provider's
model alone. ``fake`` is free. Anything else has no cost recorded rather than a made-up one:
a local model called ``gpt-4o-mini`` is not billed as OpenAI's.

The file maps each model to its ``input`` and ``output`` price (numbers or decimal
strings), in JSON::

    {"gpt-4o": {"input": "2.50", "output": "10.00"},
     "openrouter:anthropic/claude-3.5-sonnet": {"input": 3, "output": 15}}

or in TOML (``["gpt-4o"]`` then ``input = 2.50`` and ``output = 10.00``).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from agenthub.config import ConfigurationError

Price = tuple[Decimal, Decimal]
"""(input, output) USD per million tokens."""

COST_PLACES = Decimal("0.00000001")
"""Costs are kept to 8 decimal places (as the database stores them)."""

DEFAULT_PRICES: dict[str, Price] = {
    "gpt-5": (Decimal("1.25"), Decimal("10.00")),
    "gpt-5-mini": (Decimal("0.25"), Decimal("2.00")),
    "gpt-5-nano": (Decimal("0.05"), Decimal("0.40")),
    "gpt-4o": (Decimal("2.50"), Decimal("10.00")),
    "gpt-4o-mini": (Decimal("0.15"), Decimal("0.60")),
    "gpt-4.1": (Decimal("2.00"), Decimal("8.00")),
    "gpt-4.1-mini": (Decimal("0.40"), Decimal("1.60")),
    "gpt-4.1-nano": (Decimal("0.10"), Decimal("0.40")),
    "gpt-4-turbo": (Decimal("10.00"), Decimal("30.00")),
    "gpt-3.5-turbo": (Decimal("0.50"), Decimal("1.50")),
    "o1": (Decimal("15.00"), Decimal("60.00")),
    "o3": (Decimal("2.00"), Decimal("8.00")),
    "o3-mini": (Decimal("1.10"), Decimal("4.40")),
    "o4-mini": (Decimal("1.10"), Decimal("4.40")),
}
"""OpenAI's list prices (input, output)."""

FREE: Price = (Decimal(0), Decimal(0))
FREE_PROVIDERS = frozenset({"fake"})
MAX_PRICE = Decimal(1_000_000)


class PriceFileError(ConfigurationError):
    """``PRICES_FILE`` can't be read or says something that is not a price table."""


@dataclass(frozen=True)
class PriceTable:
    """The prices in force: built once by an entry point (:meth:`load`) and passed down."""

    prices: Mapping[str, Price] = field(default_factory=lambda: dict(DEFAULT_PRICES))

    @classmethod
    def load(cls, path: Path | None) -> PriceTable:
        """The shipped defaults, with the entries of the file at ``path`` (when given) over them."""
        if path is None:
            return cls()
        return cls({**DEFAULT_PRICES, **read_price_file(path)})

    def price_of(self, provider: str, model: str) -> Price | None:
        """The (input, output) price of ``model`` as ``provider`` names it, or None if unknown."""
        if provider in FREE_PROVIDERS:
            return FREE
        own = self.prices.get(f"{provider}:{model}")
        if own is not None:
            return own
        if ":" in model:  # a bare name never has one: it would read as another provider's
            return None
        if provider == "openai":
            return self.prices.get(model)
        if provider == "openrouter":
            vendor, _, bare = model.partition("/")
            return self.prices.get(bare) if vendor == "openai" else None
        return None

    def cost_of(self, provider: str, model: str, input_tokens: int, output_tokens: int) -> Decimal | None:
        """USD, to 8 decimal places; None when the price is unknown."""
        price = self.price_of(provider, model)
        if price is None:
            return None
        per_in, per_out = price
        cost = (per_in * input_tokens + per_out * output_tokens) / Decimal(1_000_000)
        return cost.quantize(COST_PLACES, rounding=ROUND_HALF_UP)


def read_price_file(path: Path) -> dict[str, Price]:
    """The prices in a JSON (``.json``) or TOML (any other name) file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PriceFileError(f"PRICES_FILE {path} can't be read: {error.strerror or error}") from None
    try:
        data: Any = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as error:
        raise PriceFileError(f"PRICES_FILE {path} is not valid {_format(path)}: {error}") from None
    if not isinstance(data, dict):
        raise PriceFileError(f"PRICES_FILE {path} must map model names to prices")
    return {str(name): _price(path, str(name), entry) for name, entry in data.items()}


def _format(path: Path) -> str:
    return "JSON" if path.suffix.lower() == ".json" else "TOML"


def _price(path: Path, name: str, entry: Any) -> Price:
    if not isinstance(entry, dict) or set(entry) != {"input", "output"}:
        raise PriceFileError(f'PRICES_FILE {path}: {name!r} needs exactly "input" and "output" (USD per million tokens)')
    return _amount(path, name, "input", entry["input"]), _amount(path, name, "output", entry["output"])


def _amount(path: Path, name: str, which: str, value: Any) -> Decimal:
    problem = f"PRICES_FILE {path}: {name!r} {which} must be a number of USD per million tokens, 0 or more"
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise PriceFileError(problem)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise PriceFileError(problem) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_PRICE:
        raise PriceFileError(problem)
    return amount
