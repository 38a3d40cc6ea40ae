"""The test suite leaves nothing behind in Redis: a test's keys go when it ends, and what a
process writes after its test ended is deleted (and reported) when the session ends. Runs a
small suite with this suite's own fixtures in a pytest subprocess, against the real Redis."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
import redis

pytest_plugins = ["pytester"]
pytestmark = [pytest.mark.redis]

INNER_TESTS = """
import redis

from agenthub.bus import keys


async def test_writes_through_the_bus(bus, redis_prefix, tmp_path_factory):
    if bus.name == "memory":
        return
    await bus.add(keys.agent_input("demo"), {"text": "hello"})
    await bus.ensure_group(keys.agent_input("demo"), keys.INPUT_GROUP)
    await bus.set(keys.agent_status("demo"), {"status": "running"})
    with open(OUT, "a") as out:
        out.write(redis_prefix + "\\n")


def test_left_a_straggler(redis_server_url, redis_prefix):
    with open(OUT, "a") as out:
        out.write(redis_prefix + "\\n")
    STRAGGLERS.append((redis_server_url, redis_prefix))


def test_a_process_writes_after_its_test_ended():
    url, prefix = STRAGGLERS[0]
    redis.Redis.from_url(url).set(prefix + "late", "1")
"""


def test_a_session_leaves_no_keys_behind(pytester: pytest.Pytester, redis_server_url: str, tmp_path: Path) -> None:
    shutil.copy(Path(__file__).parent / "conftest.py", pytester.path / "conftest.py")
    out = tmp_path / "prefixes.txt"
    pytester.makepyfile(test_inner=f"OUT = {str(out)!r}\nSTRAGGLERS = []\n" + textwrap.dedent(INNER_TESTS))
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-W", "default",
        "-o", "asyncio_mode=auto", "-o", "asyncio_default_fixture_loop_scope=function",
    )
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*Redis keys were written after their test ended, under 1 prefixes*"])
    prefixes = out.read_text().split()
    assert len(prefixes) == 2
    client = redis.Redis.from_url(redis_server_url)
    try:
        for prefix in prefixes:
            assert list(client.scan_iter(match=f"{prefix}*")) == [], prefix
    finally:
        client.close()
