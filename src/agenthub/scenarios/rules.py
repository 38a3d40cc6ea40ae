"""The rules of a connection, in jQuery-QueryBuilder JSON, and their evaluation.

A rule set is a group ``{"condition": "AND"|"OR", "rules": [...], "not": false}`` whose
rules are rules or nested groups; ``{}`` (and a group without rules) always holds: the
else branch. A rule is ``{"field": "message.text", "operator": "equal", "value": ...}``
(``id`` is taken for ``field`` as QueryBuilder writes both); its field is a variable of any
scope (``message.*``, ``session.*``, ``user.*``, ``bot.*``, ``channel.*``; a name without a
scope is a session variable).

How values compare:

- ``{$scope.key$}`` in the rule's value is substituted first.
- Numbers are compared as numbers when both sides are numbers or text that reads as one
  (``"10" greater "9"`` holds); otherwise both are compared as text (a value that is not
  text is written as JSON), which is case-sensitive unless the rule says
  ``"case_sensitive": false``.
- ``in`` / ``not_in``: the value is a list, or text whose items are separated by commas
  (``"pizza, pasta"``; spaces around an item are ignored).
- ``between`` / ``not_between``: the value is two values ``[low, high]`` (or ``"low,high"``),
  both ends included.
- ``contains`` over a field that is a list: one of its items equals the value.
- ``is_empty``: missing, ``null``, ``""`` (or only spaces), ``[]`` or ``{}``;
  ``is_null``: missing or ``null``.
- ``matches`` / ``not_matches`` (an AgentHub addition to QueryBuilder's operators): the
  value is a regular expression (Python syntax) searched in the field as text
  (``^...$`` to match it whole; ``case_sensitive: false`` ignores case). A missing field
  does not match; a search that takes longer than :data:`MATCH_TIMEOUT` seconds (a
  pattern that backtracks without end) does not hold either, and is logged.

A malformed rule set is refused when a bot is edited or imported (:func:`validate_rules`
says where); at run time (a document from elsewhere) it never fails a session: it does not
hold.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import regex

from agenthub.scenarios.variables import Scopes, as_text, substitute

log = logging.getLogger(__name__)

CONDITIONS = ("AND", "OR")
MAX_DEPTH = 20
NO_VALUE = frozenset({"is_empty", "is_not_empty", "is_null", "is_not_null"})
TWO_VALUES = frozenset({"between", "not_between"})
LIST_VALUE = frozenset({"in", "not_in"})
OPERATORS = (
    "equal", "not_equal", "in", "not_in", "less", "less_or_equal", "greater", "greater_or_equal",
    "between", "not_between", "begins_with", "not_begins_with", "contains", "not_contains",
    "ends_with", "not_ends_with", "is_empty", "is_not_empty", "is_null", "is_not_null", "matches", "not_matches",
)
PATTERN_VALUE = frozenset({"matches", "not_matches"})
MATCH_TIMEOUT = 0.05
"""Seconds a ``matches`` search may take (the engine serves many bots in one process)."""
GROUP_KEYS = frozenset({"condition", "rules", "not", "valid", "flags", "data"})
RULE_KEYS = frozenset({"id", "field", "type", "input", "operator", "value", "case_sensitive", "flags", "data"})


class _Malformed(Exception):  # noqa: N818 - a condition, not a failure
    """A rule set that can't be evaluated (at run time: it does not hold)."""


# ---------------------------------------------------------------- validation


def validate_rules(rules: Any) -> None:
    """Raise ValueError saying where ``rules`` is not a rule set this module evaluates
    (``rules[1].operator: unknown operator 'eq'``)."""
    _check_group(rules, "rules", 0)


def _check_group(group: Any, where: str, depth: int) -> None:
    if not isinstance(group, dict):
        raise ValueError(f"{where}: a group must be an object")
    if depth > MAX_DEPTH:
        raise ValueError(f"{where}: groups nested deeper than {MAX_DEPTH}")
    if not group:
        return
    unknown = sorted(set(group) - GROUP_KEYS)
    if unknown and "operator" not in group:
        raise ValueError(f"{where}: unknown key {unknown[0]!r} in a group")
    if "operator" in group and "rules" not in group:  # a single rule as the whole set
        _check_rule(group, where)
        return
    condition = group.get("condition", "AND")
    if not isinstance(condition, str) or condition.upper() not in CONDITIONS:
        raise ValueError(f"{where}.condition: must be AND or OR")
    if not isinstance(group.get("not", False), bool):
        raise ValueError(f"{where}.not: must be true or false")
    items = group.get("rules", [])
    if not isinstance(items, list):
        raise ValueError(f"{where}.rules: must be a list")
    for index, item in enumerate(items):
        at = f"{where}.rules[{index}]"
        if isinstance(item, dict) and ("rules" in item or "condition" in item):
            _check_group(item, at, depth + 1)
        else:
            _check_rule(item, at)


def _check_rule(rule: Any, where: str) -> None:
    if not isinstance(rule, dict):
        raise ValueError(f"{where}: a rule must be an object")
    unknown = sorted(set(rule) - RULE_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r} in a rule")
    field = rule.get("field", rule.get("id"))
    if not isinstance(field, str) or not field.strip():
        raise ValueError(f"{where}.field: a rule needs the variable it tests (`message.text`, `session.x`...)")
    operator = rule.get("operator")
    if operator not in OPERATORS:
        raise ValueError(f"{where}.operator: unknown operator {operator!r} (known: {', '.join(OPERATORS)})")
    if not isinstance(rule.get("case_sensitive", True), bool):
        raise ValueError(f"{where}.case_sensitive: must be true or false")
    if operator in NO_VALUE:
        return
    if "value" not in rule:
        raise ValueError(f"{where}.value: operator {operator!r} needs a value")
    value = rule["value"]
    if operator in TWO_VALUES:
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, list) or len(value) != 2:
            raise ValueError(f"{where}.value: {operator!r} needs two values [low, high]")
    elif operator in PATTERN_VALUE:
        _check_pattern(value, where)
    elif operator in LIST_VALUE:
        if not isinstance(value, list | str | int | float) or isinstance(value, bool):
            raise ValueError(f"{where}.value: {operator!r} needs a list or comma-separated text")
    elif isinstance(value, dict):
        raise ValueError(f"{where}.value: {operator!r} needs a value, not an object")


def _check_pattern(value: Any, where: str) -> None:
    if not isinstance(value, str) or len(value) > 1000:
        raise ValueError(f"{where}.value: 'matches' needs a regular expression (text, at most 1000 characters)")
    if "{$" in value:
        return  # made with variables: checked when it runs
    try:
        regex.compile(value)
    except regex.error as error:
        raise ValueError(f"{where}.value: not a regular expression ({error})") from None


# ---------------------------------------------------------------- evaluation


def holds(rules: Any, scopes: Scopes) -> bool:
    """Whether ``rules`` hold over ``scopes``; a malformed rule set does not (logged)."""
    if not rules:
        return True
    try:
        return _group(rules, scopes, 0)
    except _Malformed as error:
        log.warning("scenario rule not evaluated: %s", error)
        return False
    except Exception as error:  # noqa: BLE001 - rules never crash a session
        log.warning("scenario rule not evaluated: %s", type(error).__name__)
        return False


def _group(group: Any, scopes: Scopes, depth: int) -> bool:
    if not isinstance(group, dict) or depth > MAX_DEPTH:
        raise _Malformed("a group must be an object")
    if "operator" in group and "rules" not in group:
        return _rule(group, scopes)
    items = group.get("rules") or []
    if not isinstance(items, list):
        raise _Malformed("rules must be a list")
    condition = str(group.get("condition") or "AND").upper()
    if condition not in CONDITIONS:
        raise _Malformed(f"unknown condition {condition!r}")
    if not items:
        result = True
    elif condition == "AND":
        result = all(_item(item, scopes, depth) for item in items)
    else:
        result = any(_item(item, scopes, depth) for item in items)
    return not result if group.get("not") is True else result


def _item(item: Any, scopes: Scopes, depth: int) -> bool:
    if isinstance(item, dict) and ("rules" in item or "condition" in item):
        return _group(item, scopes, depth + 1)
    return _rule(item, scopes)


def _rule(rule: Any, scopes: Scopes) -> bool:
    if not isinstance(rule, dict):
        raise _Malformed("a rule must be an object")
    field = rule.get("field", rule.get("id"))
    operator = rule.get("operator")
    test = _TESTS.get(operator) if isinstance(operator, str) else None
    if not isinstance(field, str) or test is None:
        raise _Malformed(f"rule with field {field!r} and operator {operator!r}")
    actual = scopes.get(field.strip())
    value = rule.get("value")
    if (isinstance(value, str) and "{$" in value) or isinstance(value, list):
        value = substitute(value, scopes)
    fold = rule.get("case_sensitive", True) is False
    return test(actual, value, fold)


_NUMBER_START = frozenset("0123456789+-.")


def number(value: Any) -> float | None:
    """``value`` as a number when it is one or text reading as one; else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 64 or not (text[0] in _NUMBER_START and (text[-1].isdigit() or text[-1] == ".")):
            return None
        try:
            result = float(text)
        except ValueError:
            return None
    else:
        return None
    return None if math.isnan(result) else result


def _text(value: Any, fold: bool) -> str:
    text = as_text(value)
    return text.casefold() if fold else text


def _compare(actual: Any, value: Any, fold: bool) -> int | None:
    """-1, 0 or 1 as ``actual`` is below, equal to or above ``value``; None when one side is missing."""
    if actual is None:
        return None
    a, b = number(actual), number(value)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    x, y = _text(actual, fold), _text(value, fold)
    return (x > y) - (x < y)


def _equal(actual: Any, value: Any, fold: bool) -> bool:
    a, b = number(actual), number(value)
    if a is not None and b is not None:
        return a == b
    if actual is None:
        return value is None or value == ""
    return _text(actual, fold) == _text(value, fold)


def _items(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [item.strip() for item in value.split(",")]
    return [value]


def _in(actual: Any, value: Any, fold: bool) -> bool:
    return any(_equal(actual, item, fold) for item in _items(value))


def _between(actual: Any, value: Any, fold: bool) -> bool:
    ends = _items(value)
    if len(ends) != 2:
        raise _Malformed("between needs two values")
    low, high = _compare(actual, ends[0], fold), _compare(actual, ends[1], fold)
    return low is not None and high is not None and low >= 0 and high <= 0


def _contains(actual: Any, value: Any, fold: bool) -> bool:
    if isinstance(actual, list):
        return any(_equal(item, value, fold) for item in actual)
    return actual is not None and _text(value, fold) in _text(actual, fold)


def _begins(actual: Any, value: Any, fold: bool) -> bool:
    return actual is not None and _text(actual, fold).startswith(_text(value, fold))


def _ends(actual: Any, value: Any, fold: bool) -> bool:
    return actual is not None and _text(actual, fold).endswith(_text(value, fold))


def _empty(actual: Any) -> bool:
    if actual is None:
        return True
    if isinstance(actual, str):
        return not actual.strip()
    if isinstance(actual, list | dict):
        return not actual
    return False


def _matches(actual: Any, value: Any, fold: bool) -> bool:
    if actual is None:
        return False
    if not isinstance(value, str):
        raise _Malformed("matches needs a regular expression")
    try:
        pattern = regex.compile(value, regex.IGNORECASE if fold else 0)
        return pattern.search(as_text(actual), timeout=MATCH_TIMEOUT) is not None
    except regex.error as error:
        raise _Malformed(f"not a regular expression: {error}") from None
    except TimeoutError:
        raise _Malformed(f"matches took more than {MATCH_TIMEOUT} s") from None


def _ordered(accept: Callable[[int], bool]) -> Callable[[Any, Any, bool], bool]:
    def test(actual: Any, value: Any, fold: bool) -> bool:
        found = _compare(actual, value, fold)
        return found is not None and accept(found)
    return test


def _negate(test: Callable[[Any, Any, bool], bool]) -> Callable[[Any, Any, bool], bool]:
    return lambda actual, value, fold: not test(actual, value, fold)


_TESTS: dict[str, Callable[[Any, Any, bool], bool]] = {
    "equal": _equal,
    "not_equal": _negate(_equal),
    "in": _in,
    "not_in": _negate(_in),
    "less": _ordered(lambda c: c < 0),
    "less_or_equal": _ordered(lambda c: c <= 0),
    "greater": _ordered(lambda c: c > 0),
    "greater_or_equal": _ordered(lambda c: c >= 0),
    "between": _between,
    "not_between": _negate(_between),
    "begins_with": _begins,
    "not_begins_with": _negate(_begins),
    "contains": _contains,
    "not_contains": _negate(_contains),
    "ends_with": _ends,
    "not_ends_with": _negate(_ends),
    "is_empty": lambda actual, value, fold: _empty(actual),
    "is_not_empty": lambda actual, value, fold: not _empty(actual),
    "is_null": lambda actual, value, fold: actual is None,
    "is_not_null": lambda actual, value, fold: actual is not None,
    "matches": _matches,
    "not_matches": _negate(_matches),
}
