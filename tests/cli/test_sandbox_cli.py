"""``agenthub sandbox check`` and ``agenthub sandbox run`` as a user types them: real
subprocesses that start a real sandbox."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.cli.test_cli import agenthub, assert_readable_failure
from tests.support.server import free_port

STEP = """\
import json
from datetime import datetime
from zoneinfo import ZoneInfo

async def main(message, variables):
    print("hello", variables["name"])
    when = datetime(2026, 1, 2, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))
    return {"sum": message["a"] + message["b"], "when": when.strftime("%d.%m.%Y %H:%M %Z")}
"""
FAILING = """\
def main(message, variables):
    total = 1
    raise ValueError("no such order: " + str(message))
"""
# Whatever the environment says, these runs choose their own layers.
SANDBOX_ENV = {"SANDBOX_REQUIRED_LAYERS": "", "SANDBOX_BUBBLEWRAP": "auto"}


def require_bwrap() -> None:
    """Skip without bubblewrap; fail instead where the system packages must be there (CI)."""
    if shutil.which("bwrap") is None:
        reason = "install bubblewrap (Debian: apt-get install bubblewrap)"
        if os.environ.get("TEST_REQUIRE_SYSTEM_PACKAGES") or os.environ.get("CI") == "true":
            pytest.fail(f"bwrap is missing: {reason}")
        pytest.skip(reason)


def _write(tmp_path: Path, name: str, code: str) -> str:
    path = tmp_path / name
    path.write_text(code, encoding="utf-8")
    return str(path)


async def test_check_lists_every_layer_and_exits_0(tmp_path: Path) -> None:
    result = await agenthub("sandbox", "check", cwd=tmp_path, **SANDBOX_ENV)
    assert result.returncode == 0, result
    for layer in ("process", "rlimits", "language", "seccomp", "landlock", "bubblewrap", "unprivileged_user",
                  "private_tmpfs"):
        assert layer in result.stdout, (layer, result)
    assert "active" in result.stdout
    assert "The sandbox started with" in result.text
    assert "Traceback" not in result.stdout + result.stderr


async def test_check_with_bubblewrap_required_and_installed_exits_0(tmp_path: Path) -> None:
    require_bwrap()
    result = await agenthub("sandbox", "check", cwd=tmp_path, SANDBOX_REQUIRED_LAYERS="bubblewrap",
                            SANDBOX_BUBBLEWRAP="auto")
    assert result.returncode == 0, result
    assert "active (required)" in result.stdout, result


async def test_check_fails_when_a_required_layer_is_missing(tmp_path: Path) -> None:
    result = await agenthub("sandbox", "check", cwd=tmp_path, SANDBOX_REQUIRED_LAYERS="bubblewrap",
                            SANDBOX_BUBBLEWRAP="off")
    assert result.returncode == 1, result
    assert_readable_failure(result, "The sandbox is unavailable", "bubblewrap")
    assert "unavailable" in result.stderr and "bubblewrap" in result.stderr
    assert "missing (required)" in result.stdout  # the table still shows what is there


async def test_an_unknown_required_layer_is_a_configuration_error(tmp_path: Path) -> None:
    result = await agenthub("sandbox", "check", cwd=tmp_path, SANDBOX_REQUIRED_LAYERS="seccomp,firewall")
    assert result.returncode == 2, result
    assert_readable_failure(result, "SANDBOX_REQUIRED_LAYERS", "firewall")
    served = await agenthub("serve", "--port", str(free_port()), cwd=tmp_path, SANDBOX_REQUIRED_LAYERS="firewall",
                            DATA_DIR=str(tmp_path / "data"), timeout=60)
    assert served.returncode == 2, served
    assert_readable_failure(served, "SANDBOX_REQUIRED_LAYERS", "firewall")


async def test_run_prints_an_ok_result_as_json_and_exits_0(tmp_path: Path) -> None:
    step = _write(tmp_path, "step.py", STEP)
    result = await agenthub("sandbox", "run", step, "--message", '{"a": 2, "b": 3}', "--variables",
                            '{"name": "Ann"}', cwd=tmp_path, **SANDBOX_ENV)
    assert result.returncode == 0, result
    body = json.loads(result.stdout)
    assert body["status"] == "ok"
    assert body["value"] == {"sum": 5, "when": "02.01.2026 09:30 CET"}
    assert body["output"] == "hello Ann\n"
    assert body["duration_ms"] >= 0


async def test_run_prints_an_error_result_with_the_line_and_exits_1(tmp_path: Path) -> None:
    step = _write(tmp_path, "failing.py", FAILING)
    result = await agenthub("sandbox", "run", step, "--message", '"A-17"', cwd=tmp_path, **SANDBOX_ENV)
    assert result.returncode == 1, result
    body = json.loads(result.stdout)
    assert body["status"] == "error"
    assert body["error"] == {"kind": "exception", "message": "ValueError: no such order: A-17", "line": 3}


async def test_run_applies_the_limits_given(tmp_path: Path) -> None:
    step = _write(tmp_path, "chatty.py", "def main(message, variables):\n    print('x' * 5000)\n    return {}\n")
    result = await agenthub("sandbox", "run", step, "--limits", '{"output_bytes": 1000}', cwd=tmp_path,
                            **SANDBOX_ENV)
    assert result.returncode == 1, result
    assert json.loads(result.stdout)["error"]["kind"] == "output"


async def test_run_reads_standard_input_for_a_dash(tmp_path: Path) -> None:
    result = await agenthub("sandbox", "run", "-", "--message", "4", cwd=tmp_path, stdin=
                            "def main(message, variables):\n    return {'square': message ** 2}\n", **SANDBOX_ENV)
    assert result.returncode == 0, result
    assert json.loads(result.stdout)["value"] == {"square": 16}


@pytest.mark.parametrize(
    ("options", "fragments"),
    [
        (("--message", "{not json"), ("Invalid --message", "not JSON")),
        (("--variables", "[1, 2]"), ("Invalid --variables", "JSON object")),
        (("--variables", "{'single': 'quotes'}"), ("Invalid --variables", "not JSON")),
        (("--limits", "5"), ("Invalid --limits", "JSON object")),
        (("--limits", '{"seconds": 5}'), ("Invalid --limits", "unknown sandbox limit 'seconds'")),
        (("--limits", '{"memory_mb": -1}'), ("Invalid --limits", "positive")),
    ],
)
async def test_bad_options_are_one_line_and_exit_2(tmp_path: Path, options: tuple[str, ...],
                                                    fragments: tuple[str, ...]) -> None:
    step = _write(tmp_path, "step.py", STEP)
    result = await agenthub("sandbox", "run", step, *options, cwd=tmp_path, **SANDBOX_ENV)
    assert result.returncode == 2, result
    assert_readable_failure(result, *fragments)
    assert result.stdout == ""


async def test_a_file_that_is_not_there_or_not_text_is_one_line_and_exit_2(tmp_path: Path) -> None:
    missing = await agenthub("sandbox", "run", str(tmp_path / "nothere.py"), cwd=tmp_path, **SANDBOX_ENV)
    assert missing.returncode == 2, missing
    assert_readable_failure(missing, "Cannot read", "nothere.py", "No such file")
    binary = tmp_path / "binary.py"
    binary.write_bytes(b"\xff\xfe\x00def")
    refused = await agenthub("sandbox", "run", str(binary), cwd=tmp_path, **SANDBOX_ENV)
    assert refused.returncode == 2, refused
    assert_readable_failure(refused, "Cannot read", "not UTF-8")
    piped = await agenthub("sandbox", "run", "-", cwd=tmp_path, stdin=b"\xff\xfe bad", **SANDBOX_ENV)
    assert piped.returncode == 2, piped
    assert_readable_failure(piped, "Cannot read", "not UTF-8")


async def test_a_file_saved_with_a_byte_order_mark_runs_as_python_runs_it(tmp_path: Path) -> None:
    marked = tmp_path / "marked.py"
    marked.write_bytes("\ufeffdef main(message, variables):\n    return {'ok': 1}\n".encode())
    ran = await agenthub("sandbox", "run", str(marked), cwd=tmp_path, **SANDBOX_ENV)
    assert ran.returncode == 0, ran
    assert json.loads(ran.stdout)["value"] == {"ok": 1}


def _unusable_bwrap(tmp_path: Path, mode: str) -> dict[str, str]:
    """A PATH whose ``bwrap`` is installed but cannot run (as in a container that forbids
    namespaces)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    fake = folder / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create a new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    return {"PATH": f"{folder}:{os.environ.get('PATH', '/usr/bin:/bin')}", "SANDBOX_REQUIRED_LAYERS": "",
            "SANDBOX_BUBBLEWRAP": mode}


async def test_a_bwrap_that_cannot_run_is_left_out_with_its_reason_when_bubblewrap_is_auto(tmp_path: Path) -> None:
    env = _unusable_bwrap(tmp_path, "auto")
    checked = await agenthub("sandbox", "check", cwd=tmp_path, **env)
    assert checked.returncode == 0, checked
    assert "bwrap could not run here" in checked.stdout
    step = _write(tmp_path, "step.py", STEP)
    ran = await agenthub("sandbox", "run", step, "--message", '{"a": 1, "b": 1}', "--variables", '{"name": "x"}',
                         cwd=tmp_path, **env)
    assert ran.returncode == 0, ran
    assert json.loads(ran.stdout)["status"] == "ok"


async def test_a_sandbox_that_cannot_start_is_one_line_on_stderr_and_exit_1(tmp_path: Path) -> None:
    env = _unusable_bwrap(tmp_path, "on")
    checked = await agenthub("sandbox", "check", cwd=tmp_path, **env)
    assert checked.returncode == 1, checked
    assert_readable_failure(checked, "The sandbox is unavailable")
    assert "The sandbox is unavailable" in checked.stderr
    step = _write(tmp_path, "step.py", STEP)
    ran = await agenthub("sandbox", "run", step, "--message", '{"a": 1, "b": 1}', "--variables", '{"name": "x"}',
                         cwd=tmp_path, **env)
    assert ran.returncode == 1, ran
    assert_readable_failure(ran, "The sandbox is unavailable")
    assert ran.stdout == ""
