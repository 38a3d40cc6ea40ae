"""The result contract: every error kind, limits a step asks for, and the operator's maxima."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agenthub.sandbox import ERROR_KINDS, Limits, SandboxPool
from agenthub.sandbox.limits import DEFAULT_LIMITS, asked
from tests.sandbox.conftest import BOMB_LIMITS, MAXIMA, open_pool

pytestmark = pytest.mark.asyncio(loop_scope="module")

MAIN = "def main(message, variables):\n"
BY_KIND = {
    "syntax": MAIN + "    return {\n",
    "exception": MAIN + "    return {'x': 1 / 0}\n",
    "timeout": MAIN + "    while True:\n        pass\n",
    "memory": MAIN + "    return {'x': len(bytearray(10 ** 9))}\n",
    "output": MAIN + "    print('x' * 100000)\n    return {}\n",
    "forbidden": "import os\n" + MAIN + "    return {}\n",
}


@pytest.mark.parametrize("kind", ERROR_KINDS)
async def test_each_error_kind_is_produced(pool: SandboxPool, kind: str) -> None:
    result = await pool.run(BY_KIND[kind], limits={**BOMB_LIMITS, "output_bytes": 1000})

    assert result.error is not None and result.error.kind == kind, result
    assert result.as_dict()["status"] == "error" and result.as_dict()["error"]["kind"] == kind


async def test_a_step_s_lower_limits_apply(pool: SandboxPool) -> None:
    code = MAIN + "    print('x' * 200)\n    return {'y': 'a' * 200}\n"

    printed_too_much = await pool.run(code, limits={"output_bytes": 100})
    returned_too_much = await pool.run(code, limits={"result_bytes": 100})
    within = await pool.run(code, limits={"output_bytes": 1000, "result_bytes": 1000})

    assert printed_too_much.error is not None and printed_too_much.error.kind == "output"
    assert returned_too_much.error is not None and returned_too_much.error.kind == "output"
    assert "100 bytes" in returned_too_much.error.message
    assert within.ok


async def test_limits_above_the_maxima_are_brought_down_to_them(pool: SandboxPool) -> None:
    over = MAXIMA.output_bytes + 10
    code = MAIN + f"    print('x' * {over})\n    return {{}}\n"

    result = await pool.run(code, limits={"output_bytes": 10 ** 9, "wall_seconds": 10 ** 6})

    assert result.error is not None and result.error.kind == "output"
    assert str(MAXIMA.output_bytes) in result.error.message
    assert asked({"wall_seconds": 10 ** 6}, maxima=MAXIMA).wall_seconds == MAXIMA.wall_seconds
    assert asked(Limits(memory_mb=10 ** 6), maxima=MAXIMA).memory_mb == MAXIMA.memory_mb
    assert asked(None, maxima=Limits(wall_seconds=100, cpu_seconds=100, memory_mb=10 ** 4,
                                     output_bytes=10 ** 9, result_bytes=10 ** 9)) == DEFAULT_LIMITS


@pytest.mark.parametrize("limits", [
    {"wall": 1}, {"cpu_seconds": -1}, {"memory_mb": "big"}, {"output_bytes": True}, {"result_bytes": None},
    {"wall_seconds": float("nan")}, {"cpu_seconds": float("inf")},
], ids=["unknown name", "negative", "a string", "a bool", "None", "NaN", "infinity"])
async def test_a_bad_limits_dict_is_an_error_result(pool: SandboxPool, limits: dict[str, object]) -> None:
    result = await pool.run(MAIN + "    return {}\n", limits=limits)

    assert result.error is not None and result.error.kind == "exception"
    assert "limit" in result.error.message


async def test_message_and_variables_that_are_not_json_are_an_error_result(pool: SandboxPool) -> None:
    result = await pool.run(MAIN + "    return {}\n", message=object())

    assert result.error is not None and "JSON" in result.error.message
    assert (await pool.run(MAIN + "    return {}\n")).ok


async def test_no_secret_of_the_platform_reaches_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-secret-that-must-not-leak-0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setenv("DATABASE_URL", f"postgresql://user:{secret}@db/x")
    pool = await open_pool()
    try:
        tries = {
            "os.environ": "import os\n" + MAIN + "    return dict(os.environ)\n",
            "time.tzname": "import time\n" + MAIN + "    return {'tz': list(time.tzname)}\n",
        }
        for code in tries.values():
            result = await pool.run(code)
            assert secret not in str(result.as_dict())
        # Every process of the sandbox (the jail, the fork server, the warm children).
        read = 0
        for pid in _descendants(pool._process.pid if pool._process else 0):
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                continue  # a run's process that just ended
            read += 1
            assert secret.encode() not in environ, f"process {pid} holds the secret"
            assert b"OPENAI_API_KEY" not in environ and b"DATABASE_URL" not in environ
        assert read >= 2  # at least the jail and the fork server
    finally:
        await pool.close()


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


async def test_code_nested_too_deeply_is_a_short_syntax_error(pool: SandboxPool) -> None:
    parentheses = MAIN + "    return {'x': " + "(" * 100_000 + "1" + ")" * 100_000 + "}\n"
    minuses = MAIN + "    return {'x': " + "-" * 100_000 + "1}\n"

    for code in (parentheses, minuses):
        result = await pool.run(code)
        assert result.error is not None and result.error.kind == "syntax"
        assert len(result.error.message) < 2000
