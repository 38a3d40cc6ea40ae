"""The role files: the shipped roles, ROLES_DIR adding and overriding, bad files skipped
with a warning naming them, edits seen without a reload."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from agenthub.roles.library import SHIPPED_DIR, RoleLibrary


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    return path


def _role(description: str, prompt: str, tools: str = "[]", agent_type: str = "simple") -> str:
    return f"---\ndescription: {description}\nagent_type: {agent_type}\ntools: {tools}\n---\n{prompt}\n"


def test_the_shipped_roles_have_real_prompts() -> None:
    roles = {role.name: role for role in RoleLibrary().roles()}

    assert {"lawyer", "accountant", "hr"} <= set(roles)
    for role in roles.values():
        assert role.shipped and role.agent_type == "simple"
        assert len(role.prompt) > 500 and "do not" in role.prompt
        assert role.description and not role.prompt.startswith("---")


def test_roles_dir_adds_and_overrides(tmp_path: Path) -> None:
    _write(tmp_path, "lawyer", _role("Our own lawyer", "You are ACME's lawyer."))
    _write(tmp_path, "translator", _role("Translates", "You translate.", tools="[web_search]"))

    library = RoleLibrary(tmp_path)

    assert library.get("lawyer").prompt == "You are ACME's lawyer."  # type: ignore[union-attr]
    assert library.get("lawyer").shipped is False  # type: ignore[union-attr]
    assert library.get("translator").tools == ("web_search",)  # type: ignore[union-attr]
    assert library.get("accountant").shipped is True  # type: ignore[union-attr]


@pytest.mark.parametrize(("name", "text", "reason"), [
    ("nofront", "Just a prompt", "no front matter"),
    ("badyaml", "---\ndescription: [unclosed\n---\nPrompt", "not valid YAML"),
    ("notamap", "---\n- a\n---\nPrompt", "mapping"),
    ("nodesc", "---\nagent_type: simple\n---\nPrompt", "description"),
    ("badtype", _role("x", "Prompt", agent_type="swarm"), "agent_type"),
    ("extra", "---\ndescription: x\ncolour: red\n---\nPrompt", "colour"),
    ("empty", "---\ndescription: x\n---\n   \n", "prompt"),
    ("Bad Name", _role("x", "Prompt"), "file name"),
    ("badtool", "---\ndescription: x\ntools: [nosuch]\n---\nPrompt", "tools"),
])
def test_a_bad_file_is_skipped_with_a_warning_naming_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str, text: str, reason: str
) -> None:
    _write(tmp_path, name, text)
    _write(tmp_path, "good", _role("Good", "Fine."))

    with caplog.at_level(logging.WARNING, logger="agenthub.roles.library"):
        roles, skipped = RoleLibrary(tmp_path).reload()

    assert "good" in [role.name for role in roles]
    assert name not in [role.name for role in roles]
    (problem,) = skipped
    assert problem.file == f"{name}.md" and reason in problem.reason, problem
    assert f"{name}.md" in caplog.text


def test_an_unreadable_folder_leaves_the_shipped_roles(tmp_path: Path) -> None:
    library = RoleLibrary(tmp_path / "missing")

    assert {"lawyer", "accountant", "hr"} <= set(library.names())


def test_an_edit_is_seen_on_next_use_and_reload_rereads(tmp_path: Path) -> None:
    path = _write(tmp_path, "coach", _role("Coach", "Version one."))
    library = RoleLibrary(tmp_path)
    assert library.get("coach").prompt == "Version one."  # type: ignore[union-attr]

    path.write_text(_role("Coach", "Version two, longer."), encoding="utf-8")
    assert library.get("coach").prompt == "Version two, longer."  # type: ignore[union-attr]

    # An edit the times and sizes can't show: only a reload reads it.
    stat = path.stat()
    path.write_text(_role("Coach", "Version six, longer."), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert library.get("coach").prompt == "Version two, longer."  # type: ignore[union-attr]
    library.reload()
    assert library.get("coach").prompt == "Version six, longer."  # type: ignore[union-attr]

    path.unlink()
    assert library.get("coach") is None


def test_the_shipped_files_are_package_data() -> None:
    pyproject = (SHIPPED_DIR.parents[2] / "pyproject.toml").read_text()
    assert '"roles/*.md"' in pyproject
