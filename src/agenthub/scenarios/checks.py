"""What is checked when a bot's parts are saved (REST, import, templates) rather than found
wrong when the bot runs: a ``code`` group's code compiles as Python (``compile()`` only: it
is never run here), a group's ``variables`` are JSONPaths that parse, an ``integration``
group names a built-in integration, and the variables a group or a template instance's
``outputs`` write are named ``scope.key`` (a writable scope) or ``key`` (a session
variable). Each problem is ``(where, problem)``; :func:`raise_first` makes the first an
InvalidInput naming the field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import jsonpath

from agenthub.errors import InvalidInput
from agenthub.scenarios.actions.integrations import BUILT_IN_NAMES
from agenthub.scenarios.document import BotDocument, GroupDoc, StepDoc
from agenthub.scenarios.variables import WRITABLE

Problems = list[tuple[str, str]]
_VARIABLE = re.compile(rf"^(?:(?:{'|'.join(WRITABLE)})\.)?[A-Za-z_][A-Za-z0-9_-]*$")
VARIABLE_RULE = f"a variable is named key or scope.key ({', '.join(WRITABLE)}), key of letters, digits, _ and -"


def _code(where: str, code: str | None) -> Problems:
    if code is None:
        return []
    try:
        compile(code, "<code group>", "exec", dont_inherit=True)
    except SyntaxError as error:
        return [(where, f"the code does not compile: {error.msg} (line {error.lineno})")]
    except ValueError as error:
        return [(where, f"the code does not compile: {error}")]
    return []


def variable_names(where: str, named: Iterable[tuple[str, str]]) -> Problems:
    """The problems of the variables ``(field key, variable name)`` names, at ``where.<key>``."""
    return [(f"{where}.{key}", f"{name!r} is not a variable name: {VARIABLE_RULE}")
            for key, name in named if not _VARIABLE.match(name)]


def _paths(where: str, variables: Mapping[str, Any]) -> Problems:
    problems = variable_names(where, ((name, name) for name in variables))
    for name, path in variables.items():
        try:
            jsonpath.compile(str(path))
        except jsonpath.JSONPathError as error:
            said = str(error).splitlines()[0] if str(error) else type(error).__name__
            problems.append((f"{where}.{name}", f"not a JSONPath: {said}"))
    return problems


def group(where: str, fields: Mapping[str, Any]) -> Problems:
    """The problems of a group's ``code``, ``variables`` and ``integration`` (as sent, or a
    document's group dumped); ``where`` ends in a dot, or is ""."""
    problems = _code(f"{where}code", fields.get("code")) + _paths(f"{where}variables", fields.get("variables") or {})
    integration = fields.get("integration")
    if integration is not None and integration.get("name") not in BUILT_IN_NAMES:
        problems.append((f"{where}integration.name", f"no integration {integration.get('name')!r} (there are: "
                                                      f"{', '.join(BUILT_IN_NAMES)})"))
    return problems


def _groups(where: str, groups: Sequence[GroupDoc]) -> Problems:
    problems: Problems = []
    for index, doc in enumerate(groups):
        problems += group(f"{where}.{index}.", doc.model_dump(mode="json"))
    return problems


def steps(where: str, docs: Sequence[StepDoc]) -> Problems:
    """The problems of a document's (or a template's) steps, at ``where`` (``steps``)."""
    problems: Problems = []
    for index, step in enumerate(docs):
        problems += _groups(f"{where}.{index}.connection_groups", step.connection_groups)
        if step.template is not None:
            problems += variable_names(f"{where}.{index}.template.outputs", step.template.outputs.items())
    return problems


def document(doc: BotDocument) -> Problems:
    problems = _groups("connection_groups", doc.connection_groups) + steps("steps", doc.steps)
    for index, template in enumerate(doc.templates):
        problems += steps(f"templates.{index}.steps", template.steps)
    return problems


def raise_first(problems: Problems) -> None:
    if problems:
        where, said = problems[0]
        raise InvalidInput(f"{where}: {said}", field=where, problem=said)
