"""Every package AgentHub's code loads is installed by ``pip install .`` alone: each module of
``src/agenthub`` is imported in a fresh interpreter, and every distribution that supplied a
module to it must be a base dependency of the project or required by one (the test extra
does not count: the quick start installs without it). A package that only a test tool
happened to bring would pass every test and fail ``./scripts/start`` on a fresh machine."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMPORT_ALL = """
import importlib, json, pkgutil, sys, agenthub
failed = {}
for module in pkgutil.walk_packages(agenthub.__path__, "agenthub."):
    if ".migrations.versions" in module.name:
        continue
    try:
        importlib.import_module(module.name)
    except Exception as error:  # reported, not hidden
        failed[module.name] = repr(error)
print(json.dumps({"modules": sorted({name.split(".")[0] for name in sys.modules}), "failed": failed}))
"""

OPTIONAL = {
    # Imported when present by a dependency that works without them.
    "_distutils_hack": "setuptools' start-up hook in the virtual environment",
    "cryptography": "PyJWT's and the AWS SDK's optional algorithms (AgentHub signs with HS256)",
    "h2": "httpx's HTTP/2, used only when asked for",
    "hpack": "HTTP/2 (h2)",
    "hyperframe": "HTTP/2 (h2)",
    "rfc3339_validator": "jsonschema's optional date-time format check",
}


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;(]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _base_closure() -> set[str]:
    """The project's base dependencies and everything they require (without extras' markers)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pending = [_name(requirement) for requirement in project["dependencies"]]
    # A dependency's extras named in pyproject (uvicorn[standard], redis[hiredis]) count too.
    extras = {_name(r): re.findall(r"\[([^\]]+)\]", r) for r in project["dependencies"]}
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        wanted = {extra.strip() for group in extras.get(name, []) for extra in group.split(",")}
        for requirement in requires:
            marker = requirement.split(";", 1)[1] if ";" in requirement else ""
            needs_extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
            if needs_extra and needs_extra.group(1) not in wanted:
                continue
            pending.append(_name(requirement))
    return seen


def test_every_package_the_code_loads_is_a_declared_dependency() -> None:
    answer = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL], capture_output=True, text=True, timeout=300, cwd=ROOT, check=True,
    )
    loaded = json.loads(answer.stdout.strip().splitlines()[-1])
    assert loaded["failed"] == {}, loaded["failed"]
    suppliers = metadata.packages_distributions()
    closure = _base_closure()
    missing = {}
    for module in set(loaded["modules"]) - set(OPTIONAL):
        for distribution in suppliers.get(module, []):
            name = distribution.lower().replace("_", "-")
            if name != "agenthub" and name not in closure:
                missing[module] = name
    assert missing == {}, f"loaded by AgentHub but not installed by `pip install .`: {missing}"
