"""Rules of connections: operators, coercion, groups, and malformed rules that never crash."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agenthub.scenarios.rules import OPERATORS, holds, validate_rules
from agenthub.scenarios.variables import Scopes


def scopes(text: Any = "", **session: Any) -> Scopes:
    return Scopes(bot={"shop": "Luigi", "limit": "10"}, session=dict(session), message={"text": text, "button": None})


def rule(operator: str, value: Any = None, field: str = "message.text", **more: Any) -> dict[str, Any]:
    found = {"field": field, "operator": operator, **more}
    if value is not None:
        found["value"] = value
    return {"condition": "AND", "rules": [found]}


@pytest.mark.parametrize(("operator", "value", "text", "expected"), [
    ("equal", "/start", "/start", True),
    ("equal", "/start", "/Start", False),
    ("not_equal", "a", "b", True),
    ("equal", "10", "10.0", True),
    ("greater", "9", "10", True),  # numbers as numbers
    ("greater", "b", "a", False),  # text as text
    ("less_or_equal", 3, "3", True),
    ("in", "pizza, pasta", "pasta", True),
    ("in", ["pizza", "pasta"], "salad", False),
    ("not_in", "pizza,pasta", "salad", True),
    ("between", [1, 5], "5", True),
    ("between", "1,5", "6", False),
    ("not_between", [1, 5], "0", True),
    ("begins_with", "piz", "pizza", True),
    ("not_begins_with", "piz", "pasta", True),
    ("contains", "zz", "pizza", True),
    ("not_contains", "zz", "pasta", True),
    ("ends_with", "za", "pizza", True),
    ("not_ends_with", "za", "pizza", False),
    ("is_empty", None, "  ", True),
    ("is_not_empty", None, "x", True),
])
def test_operators(operator: str, value: Any, text: str, expected: bool) -> None:
    assert holds(rule(operator, value), scopes(text)) is expected


def test_case_insensitive_when_the_rule_says_so() -> None:
    assert holds(rule("equal", "PIZZA", case_sensitive=False), scopes("pizza"))
    assert not holds(rule("equal", "PIZZA"), scopes("pizza"))


def test_values_are_substituted_and_fields_reach_every_scope() -> None:
    assert holds(rule("less", "{$bot.limit$}"), scopes("9"))
    assert holds(rule("equal", "Luigi", field="bot.shop"), scopes())
    assert holds(rule("equal", 3, field="session.order.count"), scopes(order={"count": 3}))
    assert holds(rule("is_null", field="session.missing"), scopes())
    assert holds(rule("equal", "x", field="temp"), scopes(temp="x"))  # no scope: a session variable


def test_groups_nest_and_negate() -> None:
    pizza = {"field": "message.text", "operator": "contains", "value": "pizza"}
    pasta = {"field": "message.text", "operator": "contains", "value": "pasta"}
    either = {"condition": "OR", "rules": [pizza, pasta]}
    assert holds({"condition": "AND", "rules": [either]}, scopes("pasta please"))
    assert not holds({"condition": "AND", "rules": [either], "not": True}, scopes("pasta please"))
    assert not holds({"condition": "AND", "rules": [pizza, pasta]}, scopes("pasta please"))
    assert holds({}, scopes("anything"))
    assert holds({"condition": "AND", "rules": []}, scopes())


@pytest.mark.parametrize(("rules", "where"), [
    ({"condition": "XOR", "rules": []}, "rules.condition"),
    ({"condition": "AND", "rules": [{"field": "message.text", "operator": "eq", "value": 1}]}, "rules.rules[0].operator"),
    ({"condition": "AND", "rules": [{"operator": "equal", "value": 1}]}, "rules.rules[0].field"),
    ({"condition": "AND", "rules": [{"field": "x", "operator": "between", "value": [1]}]}, "rules.rules[0].value"),
    ({"condition": "AND", "rules": [{"field": "x", "operator": "equal"}]}, "rules.rules[0].value"),
    ({"condition": "OR", "rules": [{"condition": "AND", "rules": "no"}]}, "rules.rules[0].rules"),
])
def test_validation_says_where(rules: dict[str, Any], where: str) -> None:
    with pytest.raises(ValueError) as raised:
        validate_rules(rules)
    assert str(raised.value).startswith(f"{where}:")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)


@given(json_values, st.text(max_size=20))
def test_any_rule_set_evaluates_without_raising(rules: Any, text: str) -> None:
    assert holds(rules, scopes(text)) in (True, False)


@given(st.sampled_from(OPERATORS), json_values, json_values)
def test_any_operator_over_any_values_evaluates(operator: str, value: Any, actual: Any) -> None:
    result = holds(rule(operator, value, field="session.x"), scopes(x=actual))
    assert result in (True, False)


@given(st.sampled_from(["equal", "in", "between", "contains", "begins_with", "ends_with", "is_empty", "is_null",
                        "less", "greater", "less_or_equal", "greater_or_equal"]),
       st.one_of(st.integers(), st.text(max_size=8)), st.one_of(st.integers(), st.text(max_size=8)))
def test_negations_are_complements(operator: str, value: Any, actual: Any) -> None:
    negated = {"equal": "not_equal", "in": "not_in", "between": "not_between", "contains": "not_contains",
               "begins_with": "not_begins_with", "ends_with": "not_ends_with", "is_empty": "is_not_empty",
               "is_null": "is_not_null"}
    if operator in negated:
        bound = [value, value] if operator == "between" else value
        s = scopes(x=actual)
        assert holds(rule(operator, bound, field="session.x"), s) != holds(rule(negated[operator], bound, field="session.x"), s)
    else:
        s = scopes(x=actual)
        group = {"condition": "AND", "rules": [{"field": "session.x", "operator": operator, "value": value}],
                 "not": True}
        assert holds(group, s) != holds(rule(operator, value, field="session.x"), s)


@given(st.integers(-10**6, 10**6), st.integers(-10**6, 10**6))
def test_numbers_compare_as_numbers_whatever_their_form(a: int, b: int) -> None:
    s = scopes(x=str(a))
    assert holds(rule("less", float(b), field="session.x"), s) is (a < b)
    assert holds(rule("equal", f" {b} ", field="session.x"), s) is (a == b)


@given(st.text(max_size=12), st.text(max_size=4))
def test_text_operators_agree_with_python(text: str, part: str) -> None:
    s = scopes(text)
    if "{$" in part:
        return
    assert holds(rule("contains", part), s) is (part in text)
    assert holds(rule("begins_with", part), s) is text.startswith(part)
    assert holds(rule("ends_with", part), s) is text.endswith(part)


@given(st.lists(st.text(alphabet="abc", min_size=1, max_size=3), min_size=1, max_size=5), st.text(alphabet="abc", max_size=3))
def test_in_over_a_list_or_the_same_items_as_text(items: list[str], text: str) -> None:
    s = scopes(text)
    assert holds(rule("in", items), s) is holds(rule("in", ", ".join(items)), s) is (text in items)


@given(json_values)
def test_validated_rule_sets_evaluate(rules: Any) -> None:
    try:
        validate_rules(rules)
    except ValueError:
        return
    assert holds(rules, scopes("x")) in (True, False)
