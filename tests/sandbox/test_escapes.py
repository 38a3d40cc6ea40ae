"""The escape suite (issue 12, point 4): each attempt is refused or killed with an error of
the right kind, and the next run through the same pool slot (a pool of one) still works."""

from __future__ import annotations

import textwrap

import pytest

from agenthub.sandbox import SandboxPool
from tests.sandbox.conftest import BOMB_LIMITS

pytestmark = pytest.mark.asyncio(loop_scope="module")

HONEST = "def main(message, variables):\n    return {'answer': message['n'] * 2}\n"


def in_main(body: str) -> str:
    return "def main(message, variables):\n" + textwrap.indent(textwrap.dedent(body), "    ")


FORBIDDEN = {
    "import os": "import os\ndef main(m, v):\n    return {'cwd': os.getcwd()}\n",
    "import subprocess": "import subprocess\ndef main(m, v):\n    return {}\n",
    "import inside main": in_main("import os\nreturn {}"),
    "from import of a module": "from os import path\ndef main(m, v):\n    return {}\n",
    "__import__": in_main("return {'x': __import__('os')}"),
    "builtins __import__ by name": in_main("import builtins\nreturn {}"),
    "open /etc/passwd": in_main("return {'x': open('/etc/passwd').read()}"),
    "write outside the temporary folder": in_main("open('/tmp/owned', 'w').write('x')\nreturn {}"),
    "subclasses walk": in_main("return {'x': ().__class__.__base__.__subclasses__()}"),
    "subclasses through getattr": in_main("return {'x': getattr((), '__class__')}"),
    "getattr with a default": in_main("return {'x': str(getattr(1, '__class__', None))}"),
    "f_globals walk": in_main("def f(): pass\nreturn {'x': f.__globals__}"),
    "generator gi_frame": in_main("g = (i for i in [1])\nreturn {'x': g.gi_frame.f_globals}"),
    "gi_frame through getattr": in_main("g = (i for i in [1])\nreturn {'x': str(getattr(g, 'gi_frame'))}"),
    "coroutine cr_frame through getattr": in_main(
        "async def c(): pass\nco = c()\nreturn {'x': str(getattr(co, 'cr_frame'))}"),
    "frame f_back": in_main("g = (i for i in [1])\nf = getattr(g, 'gi_' + 'frame')\nreturn {}"),
    "eval": in_main("return {'x': eval('1+1')}"),
    "exec": in_main("exec('x = 1')\nreturn {}"),
    "compile": in_main("return {'x': str(compile('1', 'f', 'eval'))}"),
    "globals()": in_main("return {'x': str(globals())}"),
    "vars()": in_main("return {'x': str(vars())}"),
    "type() to make classes": in_main("T = type('T', (), {})\nreturn {}"),
    "ctypes": "import ctypes\ndef main(m, v):\n    return {}\n",
    "socket to 127.0.0.1": in_main(
        "import socket\ns = socket.create_connection(('127.0.0.1', 5432))\nreturn {}"),
    "socket to the metadata address": in_main(
        "import socket\ns = socket.create_connection(('169.254.169.254', 80))\nreturn {}"),
    "urllib.request": in_main("import urllib.request\nreturn {}"),
    "environment through os": in_main("import os\nreturn {'env': dict(os.environ)}"),
    "os.fork bomb": in_main("import os\nwhile True:\n    os.fork()"),
    "thread bomb": in_main(
        "import threading\nwhile True:\n    threading.Thread(target=lambda: None).start()"),
    "_thread": in_main("import _thread\nreturn {}"),
    "signal": in_main("import signal\nsignal.alarm(0)\nreturn {}"),
    "resource": in_main("import resource\nresource.setrlimit(resource.RLIMIT_CPU, (100, 100))\nreturn {}"),
    "pickle": in_main("import pickle\nreturn {}"),
    "marshal": in_main("import marshal\nreturn {}"),
    "gc.get_objects": in_main("import gc\nreturn {'n': len(gc.get_objects())}"),
    "sys.modules": in_main("import sys\nreturn {'os': str(sys.modules['os'])}"),
    "importlib": in_main("import importlib\nreturn {}"),
    "relative import": "from . import x\ndef main(m, v):\n    return {}\n",
    "another run's temporary files": in_main("return {'x': open('../run-1-x/data').read()}"),
    "format attribute walk": in_main("return {'x': '{0.__class__}'.format(1)}"),
    "format through str.format": in_main("return {'x': str.format('{0.__class__}', 1)}"),
    "format_map walk": in_main("return {'x': '{a.__class__}'.format_map({'a': 1})}"),
    "format of gi_frame": in_main("g = (i for i in [1])\nreturn {'x': '{0.gi_frame}'.format(g)}"),
    "format spec nesting": in_main("return {'x': '{0:{1.__class__}}'.format(1, 2)}"),
    "format through a str subclass": "class S(str):\n    pass\n" + in_main(
        "return {'x': S.format('{0.__class__}', 1)}"),
    "format through super()": "class S(str):\n    def f(self):\n        return super().format(1)\n" + in_main(
        "return {'x': S('{0.__class__}').f()}"),
    "format through UserString": in_main(
        "import collections\nreturn {'x': collections.UserString('{0.__class__}').format(1)}"),
    "string.Formatter": in_main("import string\nreturn {'x': string.Formatter().format('{0.__class__}', 1)}"),
    "string.Formatter by from-import": "from string import Formatter\ndef main(m, v):\n    return {}\n",
    "json.codecs": in_main("import json\nreturn {'x': str(json.codecs)}"),
    "datetime.sys": in_main("import datetime\nreturn {'x': str(datetime.sys)}"),
    "uuid.os": in_main("import uuid\nreturn {'x': str(uuid.os)}"),
    "re.enum": in_main("import re\nreturn {'x': str(re.enum)}"),
    "random.os through getattr": in_main("import random\nreturn {'x': str(getattr(random, 'os'))}"),
    "from json import decoder": "from json import decoder\ndef main(m, v):\n    return {'x': str(decoder)}\n",
    "from re import a private module": "from re import _parser\ndef main(m, v):\n    return {}\n",
    "uuid.getnode": in_main("import uuid\nreturn {'x': uuid.getnode()}"),
    "uuid.Enum class factory": in_main(
        "import uuid\nE = uuid.Enum('E', [('__getattr__', len)])\nreturn {}"),
    "singledispatch annotation eval": in_main("""
        import functools
        @functools.singledispatch
        def f(x):
            pass
        def g(x: "().__class__.__base__.__subclasses__()"):
            pass
        f.register(g)
        return {}
    """),
    "update_wrapper copying __globals__": in_main("""
        import functools, json
        def f():
            pass
        functools.update_wrapper(f, json.loads, assigned=(), updated=('__globals__',))
        return {}
    """),
    "wraps with assigned": in_main("""
        import functools, json
        @functools.wraps(json.loads, assigned=('__globals__',))
        def f():
            pass
        return {}
    """),
    "update_wrapper on a library object": in_main("""
        import functools, json
        functools.update_wrapper(json.dumps, json.loads)
        return {}
    """),
    "dunder method in a class": "class X:\n    def __getattr__(self, name):\n        return name\n" + in_main(
        "return {}"),
    "dunder assignment in a class": "class X:\n    __setattr__ = print\n" + in_main("return {}"),
    "metaclass keyword": "class M:\n    pass\nclass X(metaclass=M):\n    pass\n" + in_main("return {}"),
    "setattr on a class": "class X:\n    pass\n" + in_main("setattr(X, 'y', 1)\nreturn {}"),
    "writing attributes of a library object": in_main(
        "import decimal\ndecimal.getcontext().prec = 3\nreturn {}"),
    "writing a module attribute": in_main("import json\njson.dumps = len\nreturn {}"),
    "positional-only parameter shadowing a guard": in_main(
        "def f(_getattr_=None, /):\n    return ().__class__\nreturn {'x': str(f())}"),
    "except* handler": in_main(
        "try:\n    raise ValueError()\nexcept* ValueError:\n    pass\nreturn {}"),
    "print to a file": in_main("print('x', file=1)\nreturn {}"),
    "star import": "from json import *\ndef main(m, v):\n    return {}\n",
}

# Cases that are not refused by name but stopped by a limit.
LIMITED = {
    "infinite loop": (in_main("while True:\n    pass"), "timeout"),
    "sleeping forever": (in_main("import time\ntime.sleep(60)\nreturn {}"), "timeout"),
    "busy loop that swallows the CPU signal": (
        in_main("while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass"),
        "timeout",
    ),
    "list append memory bomb": (in_main("x = []\nwhile True:\n    x.append('a' * 100000)"), "memory"),
    "one huge allocation": (in_main("x = bytearray(10 ** 10)\nreturn {}"), "memory"),
    "string repeat bomb": (in_main("x = 'a' * (2 ** 40)\nreturn {}"), "memory"),
    "regular expression backtracking": (
        in_main("import re\nreturn {'x': bool(re.match(r'(a+)+$', 'a' * 40 + 'b'))}"), "timeout"),
    "huge integer power": (in_main("return {'x': len(str(10 ** (10 ** 8)))}"), "timeout"),
    "huge print": (in_main("print('x' * 1000000)\nreturn {}"), "output"),
    "print bomb that swallows the limit": (
        in_main("while True:\n    try:\n        print('x' * 1000)\n    except BaseException:\n        break\nreturn {}"),
        "output",
    ),
    "huge return value": (in_main("return {'x': 'a' * 1000000}"), "output"),
}


async def _next_run_works(pool: SandboxPool) -> None:
    after = await pool.run(HONEST, message={"n": 21})
    assert after.ok, after.error
    assert after.value == {"answer": 42}


@pytest.mark.parametrize("code", FORBIDDEN.values(), ids=list(FORBIDDEN))
async def test_an_escape_is_refused_and_the_slot_works_after(pool: SandboxPool, code: str) -> None:
    result = await pool.run(code, message={}, limits=BOMB_LIMITS)

    assert result.error is not None, f"not refused, returned {result.value}"
    assert result.error.kind in ("forbidden", "syntax", "exception"), result.error
    # Whatever failed, it said so in words and nothing of the platform's leaked out.
    assert "/" not in result.error.message or "/etc/passwd" in result.error.message, result.error.message
    assert "agenthub" not in result.error.message
    assert "class '" not in result.error.message and "module '" not in str(result.value)
    await _next_run_works(pool)


@pytest.mark.parametrize(("code", "kind"), LIMITED.values(), ids=list(LIMITED))
async def test_a_bomb_is_stopped_with_its_kind_and_the_slot_works_after(
        pool: SandboxPool, code: str, kind: str) -> None:
    result = await pool.run(code, message={}, limits={**BOMB_LIMITS, "output_bytes": 10_000,
                                                      "result_bytes": 10_000})

    assert result.error is not None and result.error.kind == kind, result
    await _next_run_works(pool)


async def test_recursion_bomb_is_an_exception_that_names_recursion(pool: SandboxPool) -> None:
    code = "def f(n):\n    return f(n + 1)\n" + in_main("return {'x': f(0)}")

    result = await pool.run(code, limits=BOMB_LIMITS)

    assert result.error is not None and result.error.kind == "exception"
    assert "RecursionError" in result.error.message
    await _next_run_works(pool)
