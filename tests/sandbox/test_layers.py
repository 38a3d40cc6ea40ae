"""Each layer on its own, without the pool, in a fresh process (the test process stays unharmed)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

from agenthub.sandbox import language
from agenthub.sandbox.layers import filesystem, jail
from tests.sandbox.conftest import (
    PACKAGE_ROOT,
    isolated_json,
    require_bwrap,
    require_landlock,
    require_root,
    require_seccomp,
    run_isolated,
)


def _code(body: str) -> str:
    return textwrap.dedent(body)


def test_seccomp_denies_sockets_and_forks_and_keeps_file_reads() -> None:
    require_seccomp()
    outcome = isolated_json(_code("""
        import errno, json, os, socket
        from agenthub.sandbox.layers import syscalls
        syscalls.load(syscalls.build())
        seen = {}
        for name, attempt in (("socket", lambda: socket.socket()), ("fork", os.fork),
                              ("kill", lambda: os.kill(1, 0))):
            try:
                attempt()
                seen[name] = "allowed"
            except OSError as error:
                seen[name] = errno.errorcode[error.errno]
        with open("/proc/self/status") as status:
            seen["read"] = status.read().startswith("Name:")
        print(json.dumps(seen))
    """))
    assert outcome == {"socket": "EPERM", "fork": "EPERM", "kill": "EPERM", "read": True}


def test_landlock_reads_only_the_readable_set_and_writes_only_the_folder(tmp_path: Path) -> None:
    require_landlock()
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("platform data")
    writable = tmp_path / "run"
    writable.mkdir()
    outcome = isolated_json(_code(f"""
        import json
        from agenthub.sandbox.layers import filesystem
        rules = filesystem.ruleset(readable=filesystem.readable_paths(), writable={str(writable)!r})
        filesystem.apply(rules)
        seen = {{}}
        def attempt(name, action):
            try:
                action()
                seen[name] = "allowed"
            except PermissionError:
                seen[name] = "denied"
        attempt("read outside", lambda: open({str(secret)!r}).read())
        attempt("write outside", lambda: open({str(secret.parent / 'new.txt')!r}, "w").write("x"))
        attempt("write inside", lambda: open({str(writable / 'mine.txt')!r}, "w").write("x"))
        attempt("read inside", lambda: open({str(writable / 'mine.txt')!r}).read())
        attempt("read the standard library", lambda: open(json.__file__).read())
        print(json.dumps(seen))
    """))
    assert outcome == {"read outside": "denied", "write outside": "denied", "write inside": "allowed",
                       "read inside": "allowed", "read the standard library": "allowed"}
    assert not (secret.parent / "new.txt").exists()


def test_rlimits_stop_memory_and_file_size(tmp_path: Path) -> None:
    outcome = isolated_json(_code(f"""
        import errno, json
        from agenthub.sandbox.layers import rlimits
        rlimits.apply(cpu_seconds=5, memory_bytes=rlimits.address_space_in_use() + 64 * 1024 * 1024,
                      file_bytes=1000)
        seen = {{}}
        try:
            bytearray(256 * 1024 * 1024)
            seen["memory"] = "allowed"
        except MemoryError:
            seen["memory"] = "MemoryError"
        try:
            with open({str(tmp_path / 'big')!r}, "wb") as big:
                big.write(b"x" * 5000)
            seen["file"] = "allowed"
        except OSError as error:
            seen["file"] = errno.errorcode[error.errno]
        print(json.dumps(seen))
    """))
    assert outcome == {"memory": "MemoryError", "file": "EFBIG"}


def test_rlimits_cpu_time_ends_in_sigxcpu() -> None:
    done = run_isolated(_code("""
        from agenthub.sandbox.layers import rlimits
        rlimits.apply(cpu_seconds=1, memory_bytes=2 ** 40, file_bytes=2 ** 30)
        while True:
            pass
    """))
    assert done.returncode == -signal.SIGXCPU


def test_private_tmpfs_is_capped_and_invisible_to_the_parent(tmp_path: Path) -> None:
    require_root()
    folder = tmp_path / "run"
    folder.mkdir()
    child = subprocess.Popen(
        [sys.executable, "-c", _code(f"""
            import errno, sys
            from agenthub.sandbox.layers import tmpfs
            tmpfs.mount_private({str(folder)!r}, size_bytes=64 * 1024, uid=0, gid=0)
            open({str(folder / 'inside.txt')!r}, "w").write("private")
            try:
                with open({str(folder / 'big')!r}, "wb") as big:
                    big.write(b"x" * 256 * 1024)
                print("allowed", flush=True)
            except OSError as error:
                print(errno.errorcode[error.errno], flush=True)
            sys.stdin.read()  # keep the mount alive until the test has looked
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": PACKAGE_ROOT},
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "ENOSPC"
        assert not os.path.ismount(folder)
        assert list(folder.iterdir()) == []
        assert str(folder) not in Path("/proc/self/mountinfo").read_text()
    finally:
        if child.stdin:
            child.stdin.close()
        child.wait(timeout=30)


def test_identity_changes_user_for_good() -> None:
    require_root()
    outcome = isolated_json(_code("""
        import json, os
        from agenthub.sandbox.layers.identity import Identity, become
        become(Identity(65534, 65534))
        seen = {"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": os.getgroups()}
        try:
            os.setuid(0)
            seen["back"] = "allowed"
        except PermissionError:
            seen["back"] = "denied"
        print(json.dumps(seen))
    """))
    assert outcome == {"uid": 65534, "euid": 65534, "gid": 65534, "groups": [], "back": "denied"}


def test_identity_refuses_root_as_the_sandbox_user() -> None:
    require_root()
    from agenthub.sandbox.layers.identity import resolve

    with pytest.raises(ValueError, match="must not be root"):
        resolve("root")


def test_jail_has_no_network_and_no_unbound_paths(tmp_path: Path) -> None:
    bwrap = require_bwrap()
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    unbound = tmp_path / "platform-only.txt"
    unbound.write_text("x")
    try:
        command = jail.command(bwrap, readable=[*filesystem.readable_paths(), PACKAGE_ROOT],
                               tmp_dir=str(tmp_path / "jail-tmp"), tmp_bytes=1024 * 1024)
        body = _code(f"""
            import json, os, socket
            seen = {{}}
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=5).close()
                seen["connect"] = "connected"
            except OSError as error:
                seen["connect"] = type(error).__name__
            seen["unbound"] = os.path.exists({str(unbound)!r})
            seen["passwd"] = os.path.exists("/etc/passwd")
            seen["hostname"] = socket.gethostname()
            print(json.dumps(seen))
        """)
        done = subprocess.run([*command, sys.executable, "-c", body], capture_output=True, text=True,
                              timeout=30, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": PACKAGE_ROOT})
    finally:
        listener.close()
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["connect"] != "connected"
    assert outcome == {**outcome, "unbound": False, "passwd": False, "hostname": "sandbox"}


@pytest.mark.parametrize("source", [
    "x = ().__class__", "_secret = 1", "def f(_getattr_, /):\n    pass", "import _thread",
    "g = (i for i in [1])\nx = g.gi_frame",
])
def test_language_compile_refuses_underscore_and_frame_names(source: str) -> None:
    code, errors = language.compile_code(source)

    assert code is None and errors and errors[0].startswith("Line ")


def test_language_getattr_refuses_what_compile_cannot_see() -> None:
    for name in ("__class__", "gi_frame", "f_globals", "tb_frame"):
        with pytest.raises(language.SandboxViolation):
            language.guarded_getattr((i for i in [1]), name)


def test_language_guarded_import_refuses_what_is_not_allowed() -> None:
    for name in ("os", "sys", "subprocess", "json.decoder", "importlib", "ctypes", "builtins"):
        with pytest.raises(language.SandboxViolation):
            language.guarded_import(name)
    with pytest.raises(language.SandboxViolation):
        language.guarded_import("json", fromlist=("decoder",))
    with pytest.raises(language.SandboxViolation):
        language.guarded_import("json", level=1)
    assert language.guarded_import("json").dumps([1]) == "[1]"


def test_language_safe_modules_hold_no_module() -> None:
    language.preload()
    safe = set(map(id, language._MODULES.values()))
    for name in language.ALLOWED_MODULES:
        module = language.guarded_import(name)
        for attribute, value in vars(language._MODULES[name]).items():
            if isinstance(value, types.ModuleType):
                assert id(value) in safe, f"{name}.{attribute} is a real module"
        assert module is language._MODULES[name.split(".")[0]]
