"""A template's ``inputs`` and ``outputs`` are JSON Schemas (of an object: the inputs an
instance passes, the outputs it maps back). Checked when saved: each must be a JSON Schema
(the ``jsonschema`` library's check of its draft's meta-schema), and an instance's
``inputs`` must satisfy the template's: required inputs present, literal values of the
declared types. A value that substitutes variables (``"{$session.age$}"``) is known only
when the bot runs, so only its presence is checked. An instance's ``outputs`` may map only
outputs the template declares when its schema lists ``properties``.
Each problem is ``(where, problem)``, as in :mod:`agenthub.scenarios.checks`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import SchemaError
from jsonschema.validators import validator_for

from agenthub.scenarios.variables import PLACEHOLDER

Problems = list[tuple[str, str]]


def schema_problems(where: str, schema: Mapping[str, Any]) -> Problems:
    """The problem of a template's ``inputs`` or ``outputs`` that is no JSON Schema."""
    if not schema:
        return []
    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as error:
        at = ".".join(str(part) for part in error.path)
        return [(f"{where}{'.' + at if at else ''}", f"not a JSON Schema: {error.message}")]
    return []


def instance_problems(
    where: str, *, inputs_schema: Mapping[str, Any], outputs_schema: Mapping[str, Any],
    inputs: Mapping[str, Any], outputs: Mapping[str, Any],
) -> Problems:
    """The problems of an instance's ``inputs`` and ``outputs`` (at ``where.inputs...``, or
    ``inputs...`` when ``where`` is empty)."""
    problems: Problems = []
    prefix = f"{where}." if where else ""
    if inputs_schema and not schema_problems("", inputs_schema):
        dynamic = {name for name, value in inputs.items() if isinstance(value, str) and PLACEHOLDER.search(value)}
        validator = validator_for(inputs_schema)(inputs_schema)
        for error in sorted(validator.iter_errors(dict(inputs)), key=lambda found: list(found.path)):
            path = [str(part) for part in error.path]
            if path and path[0] in dynamic:
                continue  # its value is known when the bot runs
            problems.append((".".join([f"{prefix}inputs", *path]), error.message))
    declared = outputs_schema.get("properties") if isinstance(outputs_schema, Mapping) else None
    if isinstance(declared, Mapping):
        problems += [(f"{prefix}outputs.{name}", f"the template has no output {name!r} (it has: "
                      f"{', '.join(declared) or 'none'})") for name in outputs if name not in declared]
    return problems
