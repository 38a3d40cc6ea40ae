"""Template instances as a session runs them: the frame entering one pushes, and what
returning from it (or leaving it) does to the session's variables.

Inside a template the session's step is qualified by the instance step it runs for,
``<instance step key>/<template step key>`` (``greeting/ask``: a key holds no ``/``), and the
session holds one frame per template it is inside of (one: templates hold no instances)::

    {"instance": "greeting", "template": "greet", "caller": {...the caller's session.*...}}

``session.*`` inside a template is a scope of its own: the template's ``variables`` with the
instance's ``inputs`` (substituted in the caller's variables) over them. The caller's
``session.*`` waits in the frame and comes back when the template ends, with the
template's outputs written to the variables the instance's ``outputs`` name (an output the
template never set writes nothing). ``bot.*``, ``user.*`` and ``channel.*`` are shared: a
template writing them writes the caller's.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from agenthub.scenarios.document import TemplateDoc, TemplateUse
from agenthub.scenarios.variables import MISSING, Scopes, substitute

log = logging.getLogger(__name__)
SEPARATOR = "/"


def qualify(instance: str, step: str) -> str:
    """The session's step for ``step`` of the template run by the instance step ``instance``."""
    return f"{instance}{SEPARATOR}{step}"


def instance_of(key: str | None) -> str | None:
    """The instance step a session's step is inside of (None: a step of the bot itself)."""
    if key is None or SEPARATOR not in key:
        return None
    return key.partition(SEPARATOR)[0]


def push(scopes: Scopes, frames: list[dict[str, Any]], *, instance: str, use: TemplateUse,
         template: TemplateDoc) -> None:
    """Enter the template that the step ``instance`` is an instance of: its own ``session.*``."""
    inputs = substitute(dict(use.inputs), scopes)
    frames.append({"instance": instance, "template": use.template, "caller": scopes.session})
    scopes.session = copy.deepcopy(dict(template.variables)) | inputs


def pop(scopes: Scopes, frames: list[dict[str, Any]], use: TemplateUse) -> None:
    """Return from the innermost template: the caller's ``session.*`` back, the outputs set."""
    frame = frames.pop()
    values = [(target, scopes.get(name, MISSING)) for name, target in use.outputs.items()]
    scopes.session = dict(frame.get("caller") or {})
    for target, value in values:
        if value is MISSING:
            continue
        try:
            scopes.set(target, value)
        except (ValueError, KeyError):
            log.warning("scenario template output %r can't be set", target)


def leave(scopes: Scopes, frames: list[dict[str, Any]]) -> None:
    """Leave every template without returning (a bot-level handler, a scheduled move or a
    publish took the session elsewhere): the outermost caller's ``session.*`` back, no outputs."""
    if frames:
        scopes.session = dict(frames[0].get("caller") or {})
        frames.clear()
