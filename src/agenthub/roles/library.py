"""The roles: Markdown prompt files with YAML front matter, shipped in this package
(``agenthub/roles/<name>.md``) and, when ``ROLES_DIR`` is set, read from that folder too (a
file there adds a role, or overrides the shipped one of the same name).

A role file::

    ---
    description: Answers questions on contracts and company law
    agent_type: simple
    tools: []
    ---
    You are the company's lawyer...

A :class:`RoleLibrary` reads the files once and keeps them; every use checks the files'
modification times and sizes (a ``stat`` per file, no reading), so an edited, added or removed
file is seen by every process that uses roles on its next use: by the gateway's routes and by
each runner's ``role_call`` tool alike, with nothing to send between them. :meth:`RoleLibrary.reload`
reads everything again at once (``POST /api/v1/roles/reload``): for an edit the times can't
show (a file put back with its old time and size). A file that can't be read or whose front
matter is not valid is skipped with a warning naming it; it never stops the others.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agenthub.agents.intelligence import AgentType, BuiltinTool

log = logging.getLogger(__name__)

SHIPPED_DIR = Path(__file__).parent
ROLE_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"
"""A role's name: its file's name without ``.md``."""
MAX_FILE_BYTES = 200_000
FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)(.*)\Z", re.DOTALL)



class FrontMatter(BaseModel):
    """What a role file says about its role above the prompt."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=1, max_length=2000)
    agent_type: AgentType = "simple"
    tools: list[BuiltinTool] = Field(
        default_factory=list, max_length=20,
        description="Built-in tools by name (a name this server has no tool of: the file is skipped)",
    )


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    description: str
    agent_type: str
    tools: tuple[str, ...]
    prompt: str
    shipped: bool
    """True for a role of the package, False for one from ``ROLES_DIR``."""


@dataclass(frozen=True, slots=True)
class Skipped:
    """A role file that was not loaded, and why."""

    file: str
    reason: str


class RoleFileInvalid(ValueError):
    pass


def parse_role(name: str, text: str, *, shipped: bool) -> Role:
    """The role a file's text describes; raises :class:`RoleFileInvalid` saying what is wrong."""
    match = FRONT_MATTER.match(text.lstrip("\ufeff"))
    if match is None:
        raise RoleFileInvalid("no front matter: the file must start with a '---' line, the YAML, and a '---' line")
    try:
        data: Any = yaml.safe_load(match.group(1))
    except yaml.YAMLError as error:
        raise RoleFileInvalid(f"the front matter is not valid YAML ({error.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise RoleFileInvalid("the front matter must be a YAML mapping (description, agent_type, tools)")
    try:
        front = FrontMatter.model_validate(data)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "front matter"
        raise RoleFileInvalid(f"{where}: {problem['msg']}") from None
    prompt = match.group(2).strip()
    if not prompt:
        raise RoleFileInvalid("the prompt (the text after the front matter) is empty")
    return Role(
        name=name, description=front.description.strip(), agent_type=front.agent_type, tools=tuple(front.tools),
        prompt=prompt, shipped=shipped,
    )


Fingerprint = tuple[tuple[str, int, int], ...]


class RoleLibrary:
    """The roles of the shipped folder and of ``ROLES_DIR``, read from their files and kept
    until a file changes (see the module's doc). Safe to share between tasks and threads."""

    def __init__(self, extra_dir: Path | None = None, *, shipped_dir: Path = SHIPPED_DIR) -> None:
        self._dirs: list[tuple[Path, bool]] = [(shipped_dir, True)]
        if extra_dir is not None:
            self._dirs.append((Path(extra_dir), False))
        self._lock = threading.Lock()
        self._fingerprint: Fingerprint | None = None
        self._roles: dict[str, Role] = {}
        self._skipped: list[Skipped] = []

    @classmethod
    def from_settings(cls, settings: Any) -> RoleLibrary:
        return cls(getattr(settings, "roles_dir", None))

    def _files(self) -> list[tuple[Path, bool]]:
        """The role files in the order they apply (shipped first, ``ROLES_DIR`` overriding)."""
        files: list[tuple[Path, bool]] = []
        for folder, shipped in self._dirs:
            try:
                found = sorted(path for path in folder.glob("*.md") if path.is_file())
            except OSError as error:
                log.warning("the roles folder %s can't be read: %s", folder, error.__class__.__name__)
                continue
            files.extend((path, shipped) for path in found)
        return files

    def _fingerprint_of(self, files: list[tuple[Path, bool]]) -> Fingerprint:
        marks = []
        for path, _ in files:
            try:
                stat = path.stat()
            except OSError:
                continue
            marks.append((str(path), stat.st_mtime_ns, stat.st_size))
        return tuple(marks)

    def _load(self, files: list[tuple[Path, bool]]) -> tuple[dict[str, Role], list[Skipped]]:
        roles: dict[str, Role] = {}
        skipped: list[Skipped] = []
        for path, shipped in files:
            name = path.stem
            try:
                if not re.match(ROLE_NAME_PATTERN, name):
                    raise RoleFileInvalid(f"the file name must be <role>.md with <role> matching {ROLE_NAME_PATTERN}")
                if path.stat().st_size > MAX_FILE_BYTES:
                    raise RoleFileInvalid(f"the file is larger than {MAX_FILE_BYTES} bytes")
                roles[name] = parse_role(name, path.read_text(encoding="utf-8"), shipped=shipped)
            except (OSError, UnicodeDecodeError) as error:
                skipped.append(Skipped(path.name, f"the file can't be read ({error.__class__.__name__})"))
            except RoleFileInvalid as error:
                skipped.append(Skipped(path.name, str(error)))
        for problem in skipped:
            log.warning("role file %s skipped: %s", problem.file, problem.reason)
        return roles, skipped

    def _current(self, *, force: bool = False) -> dict[str, Role]:
        files = self._files()
        fingerprint = self._fingerprint_of(files)
        with self._lock:
            if force or fingerprint != self._fingerprint:
                self._roles, self._skipped = self._load(files)
                self._fingerprint = fingerprint
            return self._roles

    def roles(self) -> list[Role]:
        """Every role, by name."""
        return sorted(self._current().values(), key=lambda role: role.name)

    def get(self, name: str) -> Role | None:
        return self._current().get(name)

    def names(self) -> list[str]:
        return sorted(self._current())

    def reload(self) -> tuple[list[Role], list[Skipped]]:
        """Read every role file again now: the roles, and the files skipped."""
        roles = self._current(force=True)
        with self._lock:
            skipped = list(self._skipped)
        return sorted(roles.values(), key=lambda role: role.name), skipped
