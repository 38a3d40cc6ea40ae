"""Finding mentions in a group chat message: ``@username`` (notify that member) and
``@@role`` (ask that AI role). Pure functions, no database.

What is not a mention:

- an e-mail address (``ann@example.com``): the ``@`` follows a letter or a digit;
- anything inside code: inline spans (`` `@ann` ``, ```` ``@ann`` ````) and fenced blocks
  (lines between ```` ``` ```` or ``~~~`` fences; a fence never closed runs to the end, as
  in Markdown);
- an ``@`` inside another word, a path or a URL (``x@ann``, ``/@ann``, ``.@ann``), or
  escaped (``\\@ann``);
- a name followed by another ``@`` (``@ann@example.com`` is an address someone wrote).

A name is letters (any script), digits, ``_``, ``.`` and ``-``, starting with a letter, a
digit or ``_``; a ``.`` or ``-`` it ends with is punctuation (``ask @ann.`` names ``ann``).
Each name counts once per message, in the order first written; role names are lower case
(they name agents, whose handles are).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

MAX_NAME = 200
"""Characters a mentioned name may have (a username's longest); longer is no mention."""

_MENTION = re.compile(r"(?<![\w.+\-@/\\])@(@?)([^\W][\w.\-]*)")
"""``@`` or ``@@`` not preceded by a word character or what joins one (``.+-@/\\``),
then a name."""
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_BACKTICKS = re.compile(r"`+")


@dataclass(frozen=True, slots=True)
class Mention:
    kind: Literal["user", "role"]
    name: str


def parse(text: str) -> list[Mention]:
    """The mentions in ``text``, each once, in the order they first appear."""
    found: list[Mention] = []
    seen: set[tuple[str, str]] = set()
    plain = without_code(text)
    for match in _MENTION.finditer(plain):
        name = match.group(2).rstrip(".-")
        if not name or len(name) > MAX_NAME or plain[match.end():match.end() + 1] == "@":
            continue
        kind: Literal["user", "role"] = "role" if match.group(1) else "user"
        if kind == "role":
            name = name.lower()
        key = (kind, name.casefold())
        if key not in seen:
            seen.add(key)
            found.append(Mention(kind, name))
    return found


def without_code(text: str) -> str:
    """``text`` with its fenced code blocks and inline code spans blanked out (each of their
    characters a space, so positions stay where they were)."""
    return _blank_spans(_blank_fences(text))


def _blank(part: str) -> str:
    return re.sub(r"[^\n]", " ", part)


def _blank_fences(text: str) -> str:
    """Blank the lines of fenced blocks, fences included. A block closes at a fence of the same
    character at least as long as the one that opened it, or at the end of the text."""
    out: list[str] = []
    fence: str | None = None
    for line in text.splitlines(keepends=True):
        opening = _FENCE.match(line)
        if fence is None:
            if opening:
                fence = opening.group(1)
                out.append(_blank(line))
            else:
                out.append(line)
            continue
        out.append(_blank(line))
        if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence) \
                and not line.strip()[len(opening.group(1)):].strip():
            fence = None
    return "".join(out)


def _blank_spans(text: str) -> str:
    """Blank inline code spans: a run of backticks opens one, the next run of the same length
    closes it; a run that is never closed is plain text."""
    runs = list(_BACKTICKS.finditer(text))
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(runs):
        opening = runs[i]
        closing = next((j for j in range(i + 1, len(runs)) if len(runs[j].group()) == len(opening.group())), None)
        if closing is None:
            i += 1
            continue
        spans.append((opening.start(), runs[closing].end()))
        i = closing + 1
    for start, end in reversed(spans):
        text = text[:start] + _blank(text[start:end]) + text[end:]
    return text
