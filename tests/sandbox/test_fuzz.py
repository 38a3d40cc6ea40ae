"""Fuzzing: random small programs, built from an AST grammar, never get past the sandbox's answer.

Hypothesis builds ``ast`` nodes (arithmetic, comparisons, calls of builtins, names, attributes
with and without ``_``, subscripts, bounded loops, helper functions, try/except, imports,
now and then an endless loop or a memory bomb), wraps them in ``def main`` or ``async def
main`` and unparses them. Every program must come back as a ``Result`` within its wall-clock
limit plus a margin, with an error kind among the six; afterwards the pool must be healthy.
"""

from __future__ import annotations

import ast
import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agenthub.sandbox import ERROR_KINDS, PoolConfig, Result, SandboxPool
from agenthub.sandbox.pool import EXIT_REPORT_TIMEOUT

SIZE = 2
LIMITS = {"wall_seconds": 1.0, "cpu_seconds": 1.0, "memory_mb": 64, "output_bytes": 4096, "result_bytes": 4096}
# Past the wall clock: taking a warm process (a replacement forks in about 0.1 s) and the fork
# server's exit report of a process the kernel stopped.
MARGIN = EXIT_REPORT_TIMEOUT + 3.0
EXAMPLES = 100

NAMES = ("message", "variables", "x", "y", "items", "text", "data", "total", "i", "helper", "missing")
BUILTINS = ("len", "abs", "min", "max", "sum", "sorted", "str", "int", "float", "list", "range", "round",
            "repr", "bool", "dict", "tuple", "set", "isinstance", "getattr", "hasattr", "type", "print")
ATTRIBUTES = ("upper", "keys", "items", "get", "append", "real", "format", "split", "count",
              "_x", "__class__", "__dict__", "__globals__", "gi_frame", "f_globals", "mro")
MODULES = ("math", "json", "re", "datetime", "collections", "os", "sys", "subprocess", "socket", "ctypes")
PRELUDE = "x = 3\ny = 2.5\nitems = [1, 2, 3]\ntext = 'abc'\ndata = {'a': 1, 'b': [1, 2]}\ntotal = 0\n"


def _name(name: str) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Load())


def _call(function: ast.expr, *args: ast.expr) -> ast.Call:
    return ast.Call(func=function, args=list(args), keywords=[])


def _function(name: str, parameters: list[str], body: list[ast.stmt], *, asynchronous: bool = False) -> ast.stmt:
    arguments = ast.arguments(posonlyargs=[], args=[ast.arg(p) for p in parameters], kwonlyargs=[],
                              kw_defaults=[], defaults=[])
    kind = ast.AsyncFunctionDef if asynchronous else ast.FunctionDef
    return kind(name=name, args=arguments, body=body, decorator_list=[])  # type: ignore[call-arg]


LEAVES = st.one_of(
    st.integers(-5, 20).map(lambda n: ast.Constant(n)),
    st.sampled_from([0.5, -1.25, 1e300]).map(lambda f: ast.Constant(f)),
    st.text(alphabet="ab{}%_ 1", max_size=6).map(lambda s: ast.Constant(s)),
    st.sampled_from([True, None]).map(lambda v: ast.Constant(v)),
    st.sampled_from(NAMES).map(_name),
)


def _extend(inner: st.SearchStrategy[ast.expr]) -> st.SearchStrategy[ast.expr]:
    operators = st.sampled_from([ast.Add(), ast.Sub(), ast.Mult(), ast.FloorDiv(), ast.Mod(), ast.Pow()])
    comparisons = st.sampled_from([ast.Lt(), ast.Eq(), ast.NotEq(), ast.GtE(), ast.In()])
    return st.one_of(
        st.builds(lambda left, op, right: ast.BinOp(left, op, right), inner, operators, inner),
        st.builds(lambda left, op, right: ast.Compare(left, [op], [right]), inner, comparisons, inner),
        st.builds(lambda name, args: _call(_name(name), *args), st.sampled_from(BUILTINS),
                  st.lists(inner, max_size=2)),
        st.builds(lambda value, attr: ast.Attribute(value, attr, ast.Load()), inner, st.sampled_from(ATTRIBUTES)),
        st.builds(lambda value, attr, args: _call(ast.Attribute(value, attr, ast.Load()), *args),
                  inner, st.sampled_from(ATTRIBUTES), st.lists(inner, max_size=1)),
        st.builds(lambda value, index: ast.Subscript(value, index, ast.Load()), inner, inner),
        st.lists(inner, max_size=3).map(lambda elts: ast.List(elts, ast.Load())),
        st.lists(st.tuples(LEAVES, inner), min_size=1, max_size=2).map(
            lambda pairs: ast.Dict([key for key, _ in pairs], [value for _, value in pairs])),
    )


EXPRESSIONS = st.recursive(LEAVES, _extend, max_leaves=6)
TARGETS = st.sampled_from(("x", "y", "total", "items", "text", "data")).map(lambda n: ast.Name(n, ast.Store()))


def _statements(inner: st.SearchStrategy[list[ast.stmt]]) -> st.SearchStrategy[list[ast.stmt]]:
    """One statement (as a one-item list), compound ones holding ``inner`` bodies."""
    loop_bound = st.integers(0, 30).map(lambda n: ast.Constant(n))
    simple = st.one_of(
        st.builds(lambda target, value: ast.Assign([target], value), TARGETS, EXPRESSIONS),
        st.builds(lambda target, value: ast.AugAssign(target, ast.Add(), value), TARGETS, EXPRESSIONS),
        st.builds(lambda value: ast.Expr(_call(_name("print"), value)), EXPRESSIONS),
        st.builds(lambda value: ast.Expr(value), EXPRESSIONS),
        st.builds(lambda value: ast.Expr(_call(ast.Attribute(_name("items"), "append", ast.Load()), value)),
                  EXPRESSIONS),
        st.builds(lambda name: ast.Import([ast.alias(name)]), st.sampled_from(MODULES)),
        st.just(ast.Raise(_call(_name("ValueError"), ast.Constant("raised")))),
    )
    compound = st.one_of(
        st.builds(lambda bound, body: ast.For(ast.Name("i", ast.Store()), _call(_name("range"), bound), body, []),
                  loop_bound, inner),
        st.builds(lambda test, body, orelse: ast.If(test, body, orelse), EXPRESSIONS, inner,
                  st.one_of(st.just([]), inner)),
        st.builds(lambda body, handler: ast.Try(body, [ast.ExceptHandler(_name("Exception"), "error", handler)],
                                                [], []), inner, inner),
        st.builds(lambda body, value: _function("helper", ["a"], [*body, ast.Return(value)]), inner, EXPRESSIONS),
    )
    rare = st.sampled_from([
        "while True:\n    pass",
        "while True:\n    items.append(text * 1000)",
        "def helper(a):\n    return helper(a + 1)\nhelper(0)",
        "total = 10 ** 10 ** 8",
        "print('x' * 100000)",
    ]).map(lambda source: ast.parse(source).body)
    # Mostly ordinary statements; one in about forty is an endless loop or another bomb.
    return st.integers(0, 39).flatmap(
        lambda n: rare if n == 0 else (compound.map(lambda s: [s]) if n < 12 else simple.map(lambda s: [s])))


BODIES = st.recursive(st.just([ast.Pass()]), lambda inner: st.lists(_statements(inner), min_size=1, max_size=3)
                      .map(lambda parts: [statement for part in parts for statement in part]), max_leaves=6)


@st.composite
def programs(draw: st.DrawFn) -> str:
    body = draw(BODIES)
    keys = draw(st.lists(st.sampled_from(("result", "x", "n")), min_size=1, max_size=2, unique=True))
    returned = ast.Return(ast.Dict([ast.Constant(key) for key in keys], [draw(EXPRESSIONS) for _ in keys]))
    main = _function("main", ["message", "variables"], [*ast.parse(PRELUDE).body, *body, returned],
                     asynchronous=draw(st.booleans()))
    return ast.unparse(ast.fix_missing_locations(ast.Module([main], [])))


JSON = st.recursive(st.none() | st.booleans() | st.integers(-100, 100) | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                  max_size=3), max_leaves=5)


async def _answer(pool: SandboxPool, source: str, message: Any, variables: dict[str, Any]) -> Result:
    return await asyncio.wait_for(pool.run(source, message=message, variables=variables, limits=LIMITS),
                                  LIMITS["wall_seconds"] + MARGIN)


async def _healthy(pool: SandboxPool) -> None:
    honest = await pool.run("def main(message, variables):\n    return {'sum': message + variables['n']}\n",
                            message=2, variables={"n": 3})
    assert honest.value == {"sum": 5}, honest.error

    async def full() -> None:
        while not (pool.status == "ready" and pool.health()["warm"] == SIZE):
            await asyncio.sleep(0.01)

    await asyncio.wait_for(full(), 20.0)


def test_random_programs_always_get_a_result_and_the_pool_stays_healthy() -> None:
    seen: set[str] = set()
    with asyncio.Runner() as runner:
        pool = SandboxPool(PoolConfig(size=SIZE))
        runner.run(pool.start())
        try:
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
            @given(source=programs(), message=JSON, variables=st.dictionaries(st.text(max_size=4), JSON, max_size=3))
            def check(source: str, message: Any, variables: dict[str, Any]) -> None:
                result = runner.run(_answer(pool, source, message, variables))

                assert isinstance(result, Result)
                if result.ok:
                    assert isinstance(result.value, dict)
                else:
                    assert result.error is not None and result.error.kind in ERROR_KINDS, result.error
                    seen.add(result.error.kind)

            check()
            runner.run(_healthy(pool))
        finally:
            runner.run(pool.close())
    # The grammar reaches the sandbox's refusals and its failures, not only its happy path.
    assert {"exception", "forbidden"} <= seen, seen
