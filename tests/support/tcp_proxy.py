"""A TCP proxy on 127.0.0.1 that a test can cut and restore: how a test makes Redis (or
any server) go away and come back without touching the real server."""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def url_host(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Stop accepting and drop every open connection."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, upstream_writer))
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()


async def proxied_redis(redis_server_url: str) -> tuple[TcpProxy, str]:
    """A started proxy in front of the Redis server at ``redis_server_url``, and the Redis
    URL that goes through it: cut the proxy and that Redis is unreachable."""
    from sqlalchemy.engine import make_url

    real = make_url(redis_server_url.replace("redis://", "postgresql://", 1))
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 6379)
    await proxy.start()
    return proxy, f"redis://127.0.0.1:{proxy.port}/{real.database or 0}"
