"""The billing settings as an operator meets them: a price file that can't be used stops
`serve` with one line; budget settings are checked like every other."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from agenthub.config import Settings
from tests.cli.test_cli import agenthub, assert_readable_failure
from tests.support.server import free_port


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("prices.toml", '["gpt-4o"]\ninput = -1\noutput = 2\n', "'gpt-4o' input must be a number"),
        ("prices.json", "{", "is not valid JSON"),
        ("missing.toml", None, "can't be read"),
    ],
)
async def test_serve_refuses_a_price_file_it_cannot_use(tmp_path: Path, name: str, text: str | None, says: str) -> None:
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    result = await agenthub("serve", "--port", str(free_port()), cwd=tmp_path, timeout=60, PRICES_FILE=str(path))
    assert_readable_failure(result, "PRICES_FILE", says)
    assert result.returncode == 2


def test_budget_settings() -> None:
    settings = Settings(_env_file=None, user_default_budget="2.50", user_budget_duration="1mo", prices_file="")
    assert settings.user_default_budget == Decimal("2.50") and settings.user_budget_duration == "1mo"
    assert settings.prices_file is None
    assert Settings(_env_file=None, user_default_budget="", user_budget_duration="").user_default_budget is None
    for wrong in ({"user_default_budget": "-1"}, {"user_default_budget": "NaN"}, {"user_budget_duration": "1y"}):
        with pytest.raises(ValidationError):
            Settings(_env_file=None, **wrong)
