"""Honest code a bot builder writes must run, and its errors must speak of their code."""

from __future__ import annotations

import textwrap

import pytest

from agenthub.sandbox import SandboxPool

pytestmark = pytest.mark.asyncio(loop_scope="module")


def main_returning(body: str) -> str:
    return "def main(message, variables):\n" + textwrap.indent(textwrap.dedent(body), "    ")


HONEST: dict[str, tuple[str, dict[str, object]]] = {
    "arithmetic": (main_returning("return {'x': (7 * 6 + 2 ** 10) // 3 % 100, 'f': round(10 / 4, 2)}"),
                   {"x": 55, "f": 2.5}),
    "dates with time zones": (main_returning("""
        import datetime, zoneinfo
        moment = datetime.datetime(2026, 3, 29, 12, 0, tzinfo=zoneinfo.ZoneInfo('Europe/Moscow'))
        utc = moment.astimezone(datetime.timezone.utc)
        return {'utc': utc.strftime('%Y-%m-%d %H:%M %Z'), 'iso': moment.isoformat(),
                'parsed': datetime.datetime.strptime('2026-01-02', '%Y-%m-%d').strftime('%d.%m.%Y')}
    """), {"utc": "2026-03-29 09:00 UTC", "iso": "2026-03-29T12:00:00+03:00", "parsed": "02.01.2026"}),
    "regexes": (main_returning("""
        import re
        found = re.findall(r'(\\w+)@(\\w+)\\.com', 'a@b.com, c@d.com')
        return {'found': [list(pair) for pair in found], 'sub': re.sub(r'\\d', '#', 'a1b22')}
    """), {"found": [["a", "b"], ["c", "d"]], "sub": "a#b##"}),
    "json": (main_returning("""
        import json
        data = json.loads('{"a": [1, 2, {"b": null}]}')
        return {'back': json.dumps(data, sort_keys=True), 'a': data['a'][2]}
    """), {"back": '{"a": [1, 2, {"b": null}]}', "a": {"b": None}}),
    "string formatting": (main_returning("""
        name, n = 'Ann', 3.14159
        return {'f': f'{name}: {n:.2f}', 'format': '{} has {:>5}|{k}'.format(name, 7, k='k'),
                'percent': '%s=%05.1f' % (name, n), 'map': '{a}'.format_map({'a': 1}),
                'str_format': str.format('{0}-{0}', 'x'), 'builtin': format(1234.5, ',.1f')}
    """), {"f": "Ann: 3.14", "format": "Ann has     7|k", "percent": "Ann=003.1", "map": "1",
           "str_format": "x-x", "builtin": "1,234.5"}),
    "a 10,000-element sort": (main_returning("""
        import random
        random.seed(4)
        items = [random.randint(0, 10 ** 6) for _ in range(10000)]
        ordered = sorted(items)
        items.sort(key=lambda x: -x)
        return {'ok': all(a <= b for a, b in zip(ordered, ordered[1:])), 'n': len(items),
                'same': items[::-1] == ordered}
    """), {"ok": True, "n": 10000, "same": True}),
    "async main awaiting another async def": ("""
async def double(x):
    return x * 2

async def main(message, variables):
    return {'x': await double(message['n'])}
""", {"x": 42}),
    "classes with attributes": ("""
class Account:
    def __init__(self, owner, balance):
        self.owner = owner
        self.balance = balance
        setattr(self, 'currency', 'EUR')

    def deposit(self, amount):
        self.balance += amount
        return self

    def __eq__(self, other):
        return self.balance == other.balance

class Error(Exception):
    pass

def main(message, variables):
    account = Account('ann', 10).deposit(5)
    return {'owner': account.owner, 'balance': account.balance, 'currency': account.currency,
            'eq': account == Account('bob', 15)}
""", {"owner": "ann", "balance": 15, "currency": "EUR", "eq": True}),
    "comprehensions": (main_returning("""
        return {'d': {str(k): k * k for k in range(3)}, 'l': [x for x in range(10) if x % 3 == 0],
                's': sorted({c for c in 'abca'}), 'g': sum(x for x in range(5))}
    """), {"d": {"0": 0, "1": 1, "2": 4}, "l": [0, 3, 6, 9], "s": ["a", "b", "c"], "g": 10}),
    "standard library": (main_returning("""
        import collections, decimal, hashlib, base64, urllib.parse, uuid, statistics, itertools, functools
        from urllib.parse import urlencode
        counts = collections.Counter('abracadabra').most_common(2)
        return {
            'counter': [list(c) for c in counts],
            'decimal': str(decimal.Decimal('0.1') + decimal.Decimal('0.2')),
            'sha256': hashlib.sha256('abc'.encode()).hexdigest()[:16],
            'b64': base64.b64encode(b'hi').decode(),
            'quoted': urllib.parse.quote('a b&c'), 'query': urlencode({'q': 'x y'}),
            'uuid': len(str(uuid.uuid4())), 'mean': statistics.mean([1, 2, 3, 4]),
            'pairs': list(itertools.combinations('abc', 2))[0],
            'reduce': functools.reduce(lambda a, b: a * b, range(1, 6)),
            'deque': list(collections.deque([1, 2, 3], maxlen=2)),
        }
    """), {"counter": [["a", 5], ["b", 2]], "decimal": "0.3", "sha256": "ba7816bf8f01cfea",
           "b64": "aGk=", "quoted": "a%20b%26c", "query": "q=x+y", "uuid": 36, "mean": 2.5,
           "pairs": ["a", "b"], "reduce": 120, "deque": [2, 3]}),
    "exceptions raised and caught": (main_returning("""
        caught = []
        try:
            {}['missing']
        except KeyError as error:
            caught.append(str(error))
        try:
            raise ValueError('bad input')
        except (TypeError, ValueError) as error:
            caught.append(str(error))
        finally:
            caught.append('finally')
        return {'caught': caught}
    """), {"caught": ["'missing'", "bad input", "finally"]}),
    "functools.wraps on its own functions": ("""
import functools

def logged(fn):
    @functools.wraps(fn)
    def inner(*args):
        return fn(*args)
    return inner

@logged
def add(a, b):
    return a + b

def main(message, variables):
    return {'x': add(1, 2)}
""", {"x": 3}),
    "message and variables": ("def main(message, variables):\n    return {'m': message, 'v': variables}\n",
                              {"m": {"n": 21}, "v": {"k": [1]}}),
}


@pytest.mark.parametrize(("code", "expected"), HONEST.values(), ids=list(HONEST))
async def test_honest_code_runs(pool: SandboxPool, code: str, expected: dict[str, object]) -> None:
    result = await pool.run(code, message={"n": 21}, variables={"k": [1]})

    assert result.ok, result.error
    assert result.value == expected


async def test_print_is_captured_as_output(pool: SandboxPool) -> None:
    code = "def main(message, variables):\n    print('hello', 42)\n    print('a', 'b', sep='-', end='!')\n" \
           "    return {}\n"

    result = await pool.run(code)

    assert result.ok and result.output == "hello 42\na-b!"


async def test_an_exception_names_the_line_of_the_code(pool: SandboxPool) -> None:
    code = "def main(message, variables):\n    items = [1, 2]\n    return {'x': items[5]}\n"

    result = await pool.run(code)

    assert result.error is not None and result.error.kind == "exception"
    assert result.error.line == 3
    assert result.error.message == "IndexError: list index out of range"


async def test_an_exception_in_a_helper_names_the_helper_s_line(pool: SandboxPool) -> None:
    code = "import json\n\ndef parse(text):\n    return json.loads(text)\n\n" \
           "def main(message, variables):\n    return parse('{oops')\n"

    result = await pool.run(code)

    assert result.error is not None and result.error.line == 4
    assert result.error.message.startswith("JSONDecodeError: Expecting property name")
    assert "/" not in result.error.message and "agenthub" not in result.error.message


async def test_a_syntax_error_names_its_line(pool: SandboxPool) -> None:
    result = await pool.run("def main(message, variables):\n    x = 1\n    return {'x': x\n")

    assert result.error is not None and result.error.kind == "syntax"
    assert result.error.line in (3, 4)


async def test_missing_main_and_a_value_that_is_not_a_dict_are_explained(pool: SandboxPool) -> None:
    no_main = await pool.run("x = 1\n")
    not_dict = await pool.run("def main(message, variables):\n    return [1]\n")
    not_json = await pool.run("def main(message, variables):\n    return {'x': {1, 2}}\n")

    assert no_main.error is not None and "main(message, variables)" in no_main.error.message
    assert not_dict.error is not None and not_dict.error.message == "main must return a dict, not list"
    assert not_json.error is not None and "not JSON" in not_json.error.message


async def test_augmented_assignment_of_attributes_and_items(pool: SandboxPool) -> None:
    code = """
class Tally:
    def __init__(self):
        self.total = 0
        self.seen = {'a': 0}

def main(message, variables):
    tally = Tally()
    counts = {'x': 1}
    key = 'x'
    for n in range(4):
        tally.total += n
        tally.seen['a'] += 1
        counts[key] *= 2
    counts['y'] = 0
    counts['y'] -= 1
    return {'total': tally.total, 'seen': tally.seen, 'counts': counts}
"""
    result = await pool.run(code)

    assert result.ok, result.error
    assert result.value == {"total": 6, "seen": {"a": 4}, "counts": {"x": 16, "y": -1}}


async def test_augmented_assignment_cannot_reach_private_attributes(pool: SandboxPool) -> None:
    result = await pool.run("def main(message, variables):\n    x = []\n    x.__class__ += 1\n    return {}\n")

    assert result.error is not None and result.error.kind == "forbidden"
