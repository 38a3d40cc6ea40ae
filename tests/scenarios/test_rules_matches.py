"""The ``matches`` / ``not_matches`` operators: a regular expression searched in the field,
refused when it does not compile, never hanging on a pattern that backtracks."""

from __future__ import annotations

from typing import Any

import pytest

from agenthub.scenarios.rules import holds, validate_rules
from agenthub.scenarios.variables import Scopes


def matches(pattern: Any, text: str | None, **more: Any) -> bool:
    message = {} if text is None else {"text": text}
    return holds({"field": "message.text", "operator": "matches", "value": pattern, **more}, Scopes(message=message))


@pytest.mark.parametrize(("pattern", "text", "expected"), [
    (r"^[^@\s]+@[^@\s]+\.[a-z]+$", "ann@example.org", True),
    (r"^[^@\s]+@[^@\s]+\.[a-z]+$", "ann@example", False),
    (r"\d{3}", "call 555 now", True),
    (r"^\d{3}$", "call 555 now", False),
    ("PIZZA", "a pizza", False),
    ("^$", "", True),
])
def test_a_pattern_is_searched_in_the_text(pattern: str, text: str, expected: bool) -> None:
    assert matches(pattern, text) is expected
    negated = {"field": "message.text", "operator": "not_matches", "value": pattern}
    assert holds(negated, Scopes(message={"text": text})) is not expected


def test_case_can_be_ignored_and_a_missing_field_does_not_match() -> None:
    assert matches("PIZZA", "a pizza", case_sensitive=False) is True
    assert matches(".*", None) is False


def test_a_pattern_that_does_not_compile_is_refused_when_saved_and_does_not_hold() -> None:
    with pytest.raises(ValueError, match=r"rules\.value: not a regular expression"):
        validate_rules({"field": "message.text", "operator": "matches", "value": "(unclosed"})
    with pytest.raises(ValueError, match="needs a regular expression"):
        validate_rules({"field": "message.text", "operator": "matches", "value": 5})
    assert matches("(unclosed", "x") is False


def test_a_pattern_that_backtracks_without_end_does_not_hold() -> None:
    assert matches(r"^(a|aa)+$", "a" * 60 + "!") is False
