"""How payloads travel on the bus: JSON, encoded and decoded by orjson. The in-process bus
copies payloads through the same codec, so both backends hand consumers the same types
(lists, not tuples; strings for what JSON has no type for)."""

from __future__ import annotations

import orjson

from agenthub.bus.base import Payload

_OPTIONS = orjson.OPT_NON_STR_KEYS


def encode(payload: Payload) -> bytes:
    return orjson.dumps(payload, default=str, option=_OPTIONS)


def decode(raw: bytes | str) -> Payload:
    return orjson.loads(raw)


def copy(payload: Payload) -> Payload:
    """What a consumer receives for ``payload``: a copy, as it would come from Redis."""
    return decode(encode(payload))
