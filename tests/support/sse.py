"""Reading a Server-Sent Events body in tests."""

from __future__ import annotations

import json
from typing import Any


def parse_sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    """``event:``/``data:`` blocks as (name, data) pairs, in order."""
    events = []
    for block in text.replace("\r\n", "\n").strip().split("\n\n"):
        name, data = None, []
        for line in block.splitlines():
            if line.startswith("event:"):
                name = line[len("event:"):].strip()
            elif line.startswith("data:"):
                data.append(line[len("data:"):].strip())
        if name is not None:
            events.append((name, json.loads("\n".join(data)) if data else {}))
    return events
