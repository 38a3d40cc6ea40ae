"""What the panel shows of a value: secrets never. Secret columns (hashes, sealed values) are
never listed at all (:data:`HIDDEN_COLUMN`); in what is shown, JSON values lose the values
under secrets' names and request headers' values, and every string loses URL passwords."""

from __future__ import annotations

import json
import re
from typing import Any

from markupsafe import Markup

from agenthub.agents.schemas import MASK, is_secret_key, mask_url_passwords

HIDDEN_COLUMN = re.compile(r"_hash$|^sealed_|secret|password")
"""Column names never shown nor edited: password, API key, refresh token, invitation and
link code digests, credentials' sealed values."""

NOT_SECRET_KEYS = frozenset({"key", "keys", "position"})
"""JSON names that the secret hints would match but name no secret (a step's or a request's
``key`` in a bot's document)."""

HEADER_FIELDS = frozenset({"headers"})


def shown_columns(names: list[str]) -> list[str]:
    return [name for name in names if not HIDDEN_COLUMN.search(name)]


def mask_json(value: Any, *, key: str = "") -> Any:
    """``value`` with secrets masked at any depth: values under secrets' names
    (``api_key``, ``bot_token``, ``webhook_secret``...), every value of a ``headers`` object,
    and URL passwords."""
    if key and key not in NOT_SECRET_KEYS and is_secret_key(key) and value:
        return MASK
    if isinstance(value, dict):
        if key in HEADER_FIELDS:
            return {str(name): MASK if item else item for name, item in value.items()}
        return {str(name): mask_json(item, key=str(name)) for name, item in value.items()}
    if isinstance(value, list):
        return [mask_json(item) for item in value]
    if isinstance(value, str):
        return mask_url_passwords(value)
    return value


def format_json(value: dict[str, Any] | list[Any]) -> Markup:
    """A JSON column as the panel shows it: masked, indented, escaped."""
    text = json.dumps(mask_json(value), indent=2, ensure_ascii=False, default=str)
    return Markup("<pre class='mb-0'>{}</pre>").format(text)


def format_text(value: str) -> str:
    """A string as the panel shows it (escaped by the template): URL passwords masked."""
    return mask_url_passwords(value)
