"""Mentions as pure functions: what is a mention and what only looks like one."""

from __future__ import annotations

import pytest

from agenthub.groupchats.mentions import Mention, parse, without_code


def users(*names: str) -> list[Mention]:
    return [Mention("user", n) for n in names]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hi @ann", users("ann")),
        ("@ann, @bob: and @carol!", users("ann", "bob", "carol")),
        ("(@ann) [@bob] «@carol» '@dave'", users("ann", "bob", "carol", "dave")),
        ("ask @ann. Or @bob-", users("ann", "bob")),  # punctuation after a name is not part of it
        ("ask @ann.smith and @li_wei and @o-neil", users("ann.smith", "li_wei", "o-neil")),
        ("привет, @Иван и @Zoë", users("Иван", "Zoë")),  # any script
        ("@ann and @ANN and @Ann", users("ann")),  # once each, as first written
        ("@ann's report", users("ann")),
    ],
)
def test_people_are_mentioned_by_at_username(text: str, expected: list[Mention]) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "write to ann@example.com",
        "ann.smith@example.co.uk and bob+tag@example.com",
        "@ann@example.com is her address",  # an address written after an @
        "see https://example.com/@ann or example.com/@bob",
        "email@ann and x@@lawyer",  # inside another word
        r"not a mention: \@ann",
        "a lone @ and @@ and @. and @-x",
        "`@ann` and ``code @bob`` and `@@lawyer`",
        "```\n@ann in a block\n@@lawyer too\n```",
        "~~~python\nprint('@ann')\n~~~",
        "```\nnever closed, still code @ann",
    ],
)
def test_addresses_code_and_words_are_not_mentions(text: str) -> None:
    assert parse(text) == []


def test_roles_are_mentioned_by_at_at_name_in_lower_case() -> None:
    assert parse("@@Lawyer and @@hr, please; @@lawyer again") == [Mention("role", "lawyer"), Mention("role", "hr")]
    assert parse("@ann ask @@accountant about @bob") == [
        Mention("user", "ann"), Mention("role", "accountant"), Mention("user", "bob"),
    ]
    assert parse("@@@triple") == []


def test_text_around_code_is_still_read() -> None:
    text = "before @ann `@skip` between @bob\n```\n@skip\n```\nafter @carol ``a ` @skip`` end"
    assert parse(text) == users("ann", "bob", "carol")
    # A backtick never closed is plain text; a longer fence closes only at as long a fence.
    assert parse("it costs 5` @ann") == users("ann")
    assert parse("````\n```\n@skip\n````\n@ann") == users("ann")


def test_blanking_code_keeps_positions() -> None:
    text = "a `@b` c\n```\n@d\n```\ne"
    plain = without_code(text)
    assert len(plain) == len(text) and plain.count("\n") == text.count("\n")
    assert "@" not in plain and plain.startswith("a ") and plain.endswith("e")


def test_a_name_too_long_is_no_mention() -> None:
    assert parse("@" + "a" * 201) == []
    assert parse("@" + "a" * 200) == users("a" * 200)
