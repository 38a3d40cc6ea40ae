"""Field types every domain's schemas share: text the database can store on every backend,
names that show something."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, Field, GetCoreSchemaHandler, GetJsonSchemaHandler, SecretStr
from pydantic_core import CoreSchema, core_schema
from typing_extensions import TypeAliasType


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


class _NulFree:
    """Says in the JSON schema what :func:`_no_nul` and the JSON reader check: no NUL in a
    string (``pattern``), or in an object's keys (``propertyNames``)."""

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        schema = handler(core_schema)
        if schema.get("type") == "object":
            schema["propertyNames"] = {"pattern": NUL_FREE}
        else:
            schema["pattern"] = NUL_FREE
        return schema


NUL_FREE = r"^[^\x00]*$"
Text = Annotated[str, AfterValidator(_no_nul), _NulFree()]
"""A string the database can store on every backend (PostgreSQL rejects NUL)."""
Secret = Annotated[SecretStr, _NulFree()]
"""A secret a client sends (a password, a token): never echoed back, even in a validation
error; without NUL characters, which the JSON reader refuses (see :mod:`agenthub.json_input`)."""
JsonValue = TypeAliasType(
    "JsonValue",
    "Annotated[str, _NulFree()] | int | float | bool | None | list[JsonValue] | JsonObject",
)
JsonObject = TypeAliasType("JsonObject", Annotated[dict[str, JsonValue], _NulFree()])
"""Free-form JSON (integration settings, a message's ``user_data``) as the JSON reader takes
it (see :mod:`agenthub.json_input`): no NUL character in any text or key."""


def _visible(value: str) -> str:
    """Refuse a value of spaces and invisible characters only (zero-width spaces, joiners,
    direction marks: Unicode's format characters), the empty one included: a name, a model
    id or a message's content must show something."""
    if all(character.isspace() or unicodedata.category(character) == "Cf" for character in value):
        raise ValueError("must not be blank")
    return value


_INVISIBLE = (
    "\\u00ad\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u0890\\u0891\\u08e2\\u180e\\u200b-\\u200f\\u202a-\\u202e"
    "\\u2060-\\u2064\\u2066-\\u206f\\ufeff\\ufff9-\\ufffb\\U000110bd\\U000110cd\\U00013430-\\U0001343f"
    "\\U0001bca0-\\U0001bca3\\U0001d173-\\U0001d17a\\U000e0001\\U000e0020-\\U000e007f"
)
"""Unicode's format characters (category Cf), as a regular expression class's contents."""


class NoNul:
    """The mark of a string the database can store on every backend (PostgreSQL rejects
    NUL): ``Annotated[str, Field(max_length=...), NoNul()]``. Checked after the string's own
    constraints (``Field`` before the mark), so that a value too long is refused in
    characters ("String should have at most 200 characters") by POST and PATCH alike."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        json_schema = handler(schema)
        json_schema["pattern"] = NUL_FREE
        return json_schema

    def check(self, value: str) -> str:
        return _no_nul(value)


class Visible(NoNul):
    """:class:`NoNul`, and something visible (:func:`_visible`): blank, empty and
    invisible-only values are all refused in the same words, ``must not be blank``."""

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        json_schema = handler(schema)
        # \x1c-\x1f and \x85 are spaces to Python (str.isspace), not to JSON Schema's \s.
        json_schema["pattern"] = f"^[^\\x00]*[^\\s\\x00\\x1c-\\x1f\\x85{_INVISIBLE}][^\\x00]*$"
        json_schema["minLength"] = 1
        return json_schema

    def check(self, value: str) -> str:
        return _visible(_no_nul(value))


class EmptyOrVisible(NoNul):
    """:class:`Visible`, but the empty string is taken: an optional name (a step's, a
    request's) may be left out, not made of spaces."""

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        json_schema = handler(schema)
        json_schema["pattern"] = f"^(?:|[^\\x00]*[^\\s\\x00\\x1c-\\x1f\\x85{_INVISIBLE}][^\\x00]*)$"
        return json_schema

    def check(self, value: str) -> str:
        return _visible(_no_nul(value)) if value else value


Name = Annotated[str, Field(max_length=200), Visible()]
OptionalName = Annotated[str, Field(max_length=200), EmptyOrVisible()]
"""A name that may be empty ("": none given) but not blank."""
ModelId = Annotated[str, Field(max_length=128), Visible()]
Prompt = Annotated[str, Field(max_length=100_000), NoNul()]
