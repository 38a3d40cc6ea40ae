"""The escape suite, second pass: holes a first red-team pass left open, each closed in the
language layer (``language.py``) or the sandboxed process (``child.py``), each run through a
real pool slot whose next run must still work; plus a walk over every public name the
allowed modules hand out, looking for gadgets."""

from __future__ import annotations

import enum
import inspect
import sys
import textwrap
import types
from typing import Any

import pytest

from agenthub.sandbox import SandboxPool, language
from tests.sandbox.conftest import BOMB_LIMITS

HONEST = "def main(message, variables):\n    return {'answer': message['n'] * 2}\n"
STR_SUBCLASS = "class S(str):\n    def startswith(self, prefix):\n        return False\n"


def in_main(body: str, before: str = "") -> str:
    return before + "def main(message, variables):\n" + textwrap.indent(textwrap.dedent(body), "    ")


FORBIDDEN = {
    # A str subclass whose startswith says no: the name checks of getattr and friends trusted it.
    "getattr with a str subclass name": in_main("return {'x': str(getattr((), S('__class__')))}", STR_SUBCLASS),
    "getattr to __globals__ with a str subclass name": in_main(
        "return {'x': str(getattr(main, S('__globals__')))}", STR_SUBCLASS),
    "setattr with a str subclass name": in_main(
        "class C:\n    pass\nsetattr(C(), S('__private'), 1)\nreturn {}", STR_SUBCLASS),
    # The real UserString.format is str.format; ours replaces it, but its base stays reachable.
    "super(UserString, u).format": in_main("""
        import collections
        u = collections.UserString('{0.__class__}')
        return {'x': super(collections.UserString, u).format(1)}
    """),
    "super(UserString, u).format_map": in_main("""
        import collections
        u = collections.UserString('{a.__class__}')
        return {'x': super(collections.UserString, u).format_map({'a': 1})}
    """),
    "super(UserString, UserString).format unbound": in_main("""
        import collections
        f = super(collections.UserString, collections.UserString).format
        return {'x': f(collections.UserString('{0.__class__}'), 1)}
    """),
    "the real UserString through mro()": in_main("""
        import collections
        real = collections.UserString.mro()[1]
        return {'x': real.format(collections.UserString('{0.__class__}'), 1)}
    """),
    "super().format in a UserString subclass": in_main("""
        import collections
        class U(collections.UserString):
            def leak(self):
                return super(collections.UserString, self).format(1)
        return {'x': U('{0.__class__}').leak()}
    """),
    # AttributeError.obj is the object whose attribute was missing: inside a library, an internal.
    "AttributeError.obj": in_main("""
        import zoneinfo
        try:
            zoneinfo.ZoneInfo.from_file(1)
        except AttributeError as error:
            return {'x': str(error.obj)}
    """),
    "AttributeError.obj through getattr": in_main("""
        try:
            (1).nothing
        except AttributeError as error:
            return {'x': str(getattr(error, 'obj'))}
    """),
    # match reads attributes by __match_args__ and keyword patterns without _getattr_.
    "match with a class pattern": in_main("""
        match 1:
            case object(__class__=c):
                return {'x': str(c)}
        return {}
    """),
    "print with a sep that is not a string": in_main("""
        class J:
            def join(self, items):
                return str(getattr(items, 'gi_frame'))
        print(1, 2, sep=J())
        return {}
    """),
    "a guard's name as a class attribute": "class X:\n    _getattr_ = print\n" + in_main("return {}"),
    "a guard's name through global": in_main("global _write_\n_write_ = print\nreturn {}"),
    "a guard captured as a lambda default": in_main("f = lambda g=_getattr_: g\nreturn {}"),
    "a time zone key climbing out of the zone folder": in_main(
        "import zoneinfo\nreturn {'x': str(zoneinfo.ZoneInfo('../../../../etc/passwd'))}"),
    "an absolute time zone key": in_main("import zoneinfo\nreturn {'x': str(zoneinfo.ZoneInfo('/etc/localtime'))}"),
    "datetime C API capsule": in_main("import datetime\nreturn {'x': str(datetime.datetime_CAPI)}"),
    "setting the clock": in_main("import time\ntime.clock_settime(time.CLOCK_REALTIME, 0)\nreturn {}"),
}


async def _next_run_works(pool: SandboxPool) -> None:
    after = await pool.run(HONEST, message={"n": 21})
    assert after.ok, after.error
    assert after.value == {"answer": 42}


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("code", FORBIDDEN.values(), ids=list(FORBIDDEN))
async def test_an_escape_is_refused_and_the_slot_works_after(pool: SandboxPool, code: str) -> None:
    result = await pool.run(code, message={}, limits=BOMB_LIMITS)

    assert result.error is not None, f"not refused, returned {result.value}"
    assert result.error.kind in ("forbidden", "syntax", "exception"), result.error
    assert "<class '" not in result.error.message and "<module '" not in result.error.message
    await _next_run_works(pool)


@pytest.mark.asyncio(loop_scope="module")
async def test_print_with_plain_sep_and_end_still_works(pool: SandboxPool) -> None:
    result = await pool.run(in_main("print(1, 'a', None, sep='-', end='!')\nprint()\nreturn {}"))

    assert result.ok and result.output == "1-a-None!\n", result


@pytest.mark.asyncio(loop_scope="module")
async def test_hasattr_with_a_str_subclass_name_says_no(pool: SandboxPool) -> None:
    result = await pool.run(in_main("return {'x': hasattr(main, S('__globals__'))}", STR_SUBCLASS))

    assert result.ok and result.value == {"x": False}, result


# -- annotations: dropped, so nothing can ever evaluate one --------------------------------

ANNOTATED = """
from __future__ import annotations

class Point:
    x: int
    y: int = 0

    def __init__(self, x: "().__class__.__base__.__subclasses__()") -> "().__class__":
        self.x: int = x

def scale(point: Point, *args: float, factor: "int" = 2, **kwargs: str) -> Point:
    total: int = point.x * factor
    bare: str
    return Point(total)

async def main(message: dict, variables: dict) -> dict:
    size: int = 3
    f = lambda n: n + 1
    return {'x': scale(Point(size)).x, 'y': Point(1).y, 'f': f(1)}
"""


@pytest.mark.asyncio(loop_scope="module")
async def test_annotated_code_runs_with_its_annotations_dropped(pool: SandboxPool) -> None:
    result = await pool.run(ANNOTATED)

    assert result.ok, result.error
    assert result.value == {"x": 6, "y": 0, "f": 2}


def test_no_annotation_is_kept_anywhere() -> None:
    code, errors = language.compile_code(ANNOTATED)
    assert code is not None, errors
    namespace = language.run_globals(language.Printed(1000))

    exec(code, namespace)

    assert "__annotations__" not in namespace
    assert namespace["scale"].__annotations__ == {}
    assert namespace["main"].__annotations__ == {}
    assert namespace["Point"].__init__.__annotations__ == {}
    assert "__annotations__" not in vars(namespace["Point"])


def test_an_annotation_is_not_evaluated_either() -> None:
    code, errors = language.compile_code("x: ().__class__ = 1\ndef f(a: ().__class__) -> ().__class__:\n    pass\n")
    assert code is not None, errors
    namespace = language.run_globals(language.Printed(1000))

    exec(code, namespace)

    assert namespace["x"] == 1


# -- the returned value: checked once, sent as plain JSON ------------------------------------

@pytest.mark.asyncio(loop_scope="module")
async def test_a_dict_subclass_is_sent_as_the_plain_json_that_was_checked(pool: SandboxPool) -> None:
    code = in_main("""
        class D(dict):
            calls = []
            def items(self):
                D.calls.append(1)
                return [('n', len(D.calls))] if len(D.calls) == 1 else [('n', 'x' * 10 ** 6)]
        return D(hidden=True)
    """)

    result = await pool.run(code, limits={"result_bytes": 10_000})

    assert result.ok, result.error
    assert result.value == {"n": 1}


# Wall clock above the CPU limit: the process itself must answer "timeout" (a killed one would
# be a wall-clock timeout, a dead one an exception).
CPU_BOUND = {"wall_seconds": 3.0, "cpu_seconds": 1.0, "memory_mb": 64}


@pytest.mark.asyncio(loop_scope="module")
async def test_a_value_whose_serialisation_runs_forever_is_a_timeout(pool: SandboxPool) -> None:
    code = in_main("""
        class D(dict):
            def items(self):
                while True:
                    pass
        return D(a=1)
    """)

    result = await pool.run(code, limits=CPU_BOUND)

    assert result.error is not None and result.error.kind == "timeout", result
    assert "CPU time" in result.error.message
    await _next_run_works(pool)


@pytest.mark.asyncio(loop_scope="module")
async def test_an_exception_whose_text_runs_forever_is_still_an_exception(pool: SandboxPool) -> None:
    code = in_main("""
        import collections
        class C(collections.Counter):
            def most_common(self, n=None):
                while True:
                    pass
        raise ValueError(C(a=1))
    """)

    result = await pool.run(code, limits=CPU_BOUND)

    assert result.error is not None and result.error.kind == "exception", result
    assert result.error.message.startswith("ValueError")
    await _next_run_works(pool)


@pytest.mark.asyncio(loop_scope="module")
async def test_no_finally_block_of_the_code_runs_after_main_returned(pool: SandboxPool) -> None:
    code = """
def forever():
    try:
        yield 1
    finally:
        while True:
            pass

kept = forever()
next(kept)

def main(message, variables):
    g = forever()
    next(g)
    return {'g': g}
"""
    result = await pool.run(code, limits=BOMB_LIMITS)

    assert result.error is not None and result.error.kind == "exception", result
    assert "not JSON" in result.error.message
    await _next_run_works(pool)


# -- guards that the code cannot reach today, held anyway -----------------------------------

def test_a_class_cannot_derive_from_type() -> None:
    make_class = language.run_globals(language.Printed(1000))["__metaclass__"]

    with pytest.raises(language.SandboxViolation):
        make_class("Meta", (type,), {})


def test_no_class_is_writable_even_one_the_code_made() -> None:
    namespace = language.run_globals(language.Printed(1000))
    made = namespace["__metaclass__"]("Made", (), {})

    with pytest.raises(language.SandboxViolation):
        namespace["_write_"](made)
    assert namespace["_write_"](made()) is not None  # its instances stay writable


# -- the walk: every public name the allowed modules hand out -------------------------------

# Modules whose functions may be handed out: the allowed ones and what they are built from.
STDLIB_INTERNALS = ("collections.abc", "fractions", "numbers", "reprlib", "json.decoder", "json.encoder",
                    "zoneinfo._tzpath", "agenthub.sandbox.language")
# Modules no value handed out may come from (a builtin function bound to them, say).
DANGEROUS = {"builtins", "sys", "os", "posix", "_io", "io", "marshal", "gc", "_thread", "threading", "signal",
             "resource", "importlib", "_imp", "ctypes", "_ctypes", "pickle", "_pickle", "subprocess",
             "socket", "_socket", "_posixsubprocess", "inspect", "types", "codecs", "_codecs"}


def _walk() -> list[tuple[str, Any]]:
    language.preload()
    found: list[tuple[str, Any]] = []
    seen: set[int] = set()

    def visit(path: str, obj: Any, depth: int) -> None:
        if id(obj) in seen or depth > 3:
            return
        seen.add(id(obj))
        for name in dir(obj):
            if name.startswith("_") or name in language.INSPECT_ATTRIBUTES:
                continue
            try:
                value = language.guarded_getattr(obj, name)
            except Exception:  # noqa: BLE001 - a property refusing to be read on the class
                continue
            found.append((f"{path}.{name}", value))
            if not isinstance(value, int | float | str | bytes | type(None)):
                visit(f"{path}.{name}", value, depth + 1)

    for module_name in language.ALLOWED_MODULES:
        visit(module_name, language._safe_module(module_name), 0)
    return found


def _gadget(value: Any) -> str | None:
    """Why ``value`` must not be handed to the code, or None."""
    if isinstance(value, types.ModuleType) and not any(value is safe for safe in language._MODULES.values()):
        return "a real module"
    if isinstance(value, types.FrameType | types.CodeType | types.TracebackType | types.CellType):
        return "interpreter internals"
    if isinstance(value, dict) and any(value is vars(module) for module in list(sys.modules.values()) if module):
        return "a module's globals"
    if isinstance(value, type) and issubclass(value, type):
        return "a metaclass"
    if isinstance(value, enum.EnumMeta) and not list(value):
        return "an enum without members (its functional API makes classes)"
    if type(value).__name__ == "PyCapsule":
        return "a C pointer"
    if isinstance(value, types.FunctionType):
        home = value.__globals__.get("__name__", "")
        allowed = home in language.ALLOWED_MODULES or home in STDLIB_INTERNALS
        a_module_of_its_own = any(value.__globals__ is vars(module) for module in list(sys.modules.values()) if module)
        if not allowed or not a_module_of_its_own:
            return f"a function with the globals of {home}"
    if isinstance(value, types.BuiltinFunctionType) and isinstance(value.__self__, types.ModuleType):
        if value.__self__.__name__ in DANGEROUS:
            return f"a builtin of {value.__self__.__name__}"
    if callable(value) and not isinstance(value, type):
        try:
            private = [name for name in inspect.signature(value).parameters if name.startswith("_")]
        except (TypeError, ValueError):
            private = []
        if set(private) - {"_w", "_one_shot", "_bufsize"}:  # known and harmless (json, hashlib)
            return f"a callable with private parameters {private}"
    return None


def test_no_public_name_of_an_allowed_module_is_a_gadget() -> None:
    found = _walk()

    gadgets = [(path, reason) for path, value in found if (reason := _gadget(value))]

    assert len(found) > 1000  # the walk went deep enough to mean something
    assert gadgets == []


def test_the_walk_would_see_a_gadget() -> None:
    assert _gadget(sys) == "a real module"
    assert _gadget(vars(json_module())) == "a module's globals"
    assert _gadget(enum.Enum) is not None
    assert _gadget(type) == "a metaclass"
    assert _gadget(sys.modules["os"].system) == "a builtin of posix"


def json_module() -> types.ModuleType:
    return sys.modules["json"]
