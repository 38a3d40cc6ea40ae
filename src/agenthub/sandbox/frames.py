"""Length-prefixed JSON frames: how the platform and a sandboxed process talk over their socket."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from typing import Any

HEADER = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024


class FrameError(Exception):
    """The peer closed the socket or sent something that is not a frame."""


class FrameTooLarge(FrameError):
    """The peer announced a frame over the reader's limit (its body is not read)."""


def encode(body: Any) -> bytes:
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return HEADER.pack(len(data)) + data


def send(sock: socket.socket, body: Any) -> None:
    sock.sendall(encode(body))


def receive(sock: socket.socket, *, max_bytes: int = MAX_FRAME) -> Any:
    """One frame from a blocking socket."""
    (size,) = HEADER.unpack(_exactly(sock, HEADER.size))
    if size > max_bytes:
        raise FrameTooLarge(f"a frame of {size} bytes is over the limit of {max_bytes}")
    return json.loads(_exactly(sock, size))


def _exactly(sock: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            raise FrameError("the peer closed the socket")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


async def read(reader: asyncio.StreamReader, *, max_bytes: int = MAX_FRAME) -> Any:
    """One frame from a stream (FrameError when it ends first or is too large)."""
    try:
        (size,) = HEADER.unpack(await reader.readexactly(HEADER.size))
        if size > max_bytes:
            raise FrameTooLarge(f"a frame of {size} bytes is over the limit of {max_bytes}")
        return json.loads(await reader.readexactly(size))
    except (asyncio.IncompleteReadError, ConnectionError) as error:
        raise FrameError("the peer closed the socket") from error
    except ValueError as error:
        raise FrameError("the peer sent something that is not JSON") from error
