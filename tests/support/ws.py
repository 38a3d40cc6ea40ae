"""The WebSocket client of the tests: websockets' ``connect``, waiting up to a minute for
the opening handshake instead of 10 seconds. A server under test on a loaded machine (CI's
test processes and browsers on two cores) may take longer than 10 seconds to answer one;
a test that waits for something else fails on that something, not on a slow handshake."""

from __future__ import annotations

from typing import Any

from websockets.asyncio import client

OPEN_TIMEOUT = 60.0


def connect(uri: str, **options: Any) -> client.connect:
    options.setdefault("open_timeout", OPEN_TIMEOUT)
    return client.connect(uri, **options)
