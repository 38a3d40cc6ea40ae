"""Variables of a scenario session, by scope, and their substitution.

Scopes: ``bot.*`` (the bot's variables), ``user.*`` (one end user, shared by the
organisation's bots), ``session.*``, ``channel.*`` and ``message.*`` (``text``, ``button``,
``attachments``, ``channel``, ``user_id``, ``user_data``). ``{$scope.key$}`` in a text is
replaced by the value (a dotted path reaches inside objects and lists: ``{$session.order.items.0$}``);
a missing variable is an empty string; a value that is not text is written as JSON. A name
without a scope (``temp``) is a session variable.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

SCOPES = ("bot", "user", "session", "channel", "message")
WRITABLE = ("bot", "user", "session", "channel")
"""Scopes a group's ``variables`` may write (``message.*`` is what came in)."""
PLACEHOLDER = re.compile(r"\{\$\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\s*\$\}")
MISSING = object()


@dataclass
class Scopes:
    """Every variable a step of one session sees; the writable ones change as it runs."""

    bot: dict[str, Any] = field(default_factory=dict)
    user: dict[str, Any] = field(default_factory=dict)
    session: dict[str, Any] = field(default_factory=dict)
    channel: dict[str, Any] = field(default_factory=dict)
    message: dict[str, Any] = field(default_factory=dict)

    def scope(self, name: str) -> dict[str, Any]:
        if name not in SCOPES:
            raise KeyError(name)
        value: dict[str, Any] = getattr(self, name)
        return value

    def get(self, path: str, default: Any = None) -> Any:
        """The value at ``scope.key[.more]`` (a name without a scope is a session variable);
        ``default`` when there is none."""
        scope, _, rest = path.partition(".")
        if scope not in SCOPES or not rest:
            scope, rest = "session", path
        value: Any = self.scope(scope)
        for part in rest.split("."):
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.lstrip("-").isdigit() and -len(value) <= int(part) < len(value):
                value = value[int(part)]
            else:
                return default
        return value

    def set(self, path: str, value: Any) -> None:
        """Set ``scope.key`` (a name without a scope: ``session.<name>``); ValueError for
        ``message.*`` or an unknown scope."""
        scope, _, key = path.partition(".")
        if not key:
            scope, key = "session", path
        if scope not in WRITABLE:
            raise ValueError(f"{path!r}: variables of scope {scope!r} can't be written")
        self.scope(scope)[key] = value


def as_text(value: Any) -> str:
    """A value as substituted into text: strings as they are, None as "", the rest as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def substitute_text(text: str, scopes: Scopes) -> str:
    """``text`` with every ``{$scope.key$}`` replaced (a missing variable: "")."""
    if "{$" not in text:
        return text
    return PLACEHOLDER.sub(lambda match: as_text(scopes.get(match.group(1))), text)


def substitute(value: Any, scopes: Scopes) -> Any:
    """``value`` with substitution in every string inside it (dict keys too). A string that
    is one placeholder and nothing else keeps the variable's own type (a number stays a
    number in a JSON body)."""
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value.strip()) if value.startswith("{$") else None
        if whole is not None:
            found = scopes.get(whole.group(1), MISSING)
            return "" if found is MISSING or found is None else found
        return substitute_text(value, scopes)
    if isinstance(value, dict):
        return {substitute_text(str(key), scopes): substitute(item, scopes) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, scopes) for item in value]
    return value
