"""A TCP proxy in front of PostgreSQL that a test can cut and restore (real refused connects,
connections reset mid-query) or stall and resume (connections accepted and open, nothing
answered: PostgreSQL's processes stopped, a storage hiccup); nothing of ours mocked."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit, urlunsplit


class CuttableProxy:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self._parts = parts
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self.port = 0

    @property
    def url(self) -> str:
        netloc = self._parts.netloc.rsplit("@", 1)
        user = netloc[0] + "@" if len(netloc) == 2 else ""
        return urlunsplit(self._parts._replace(netloc=f"{user}127.0.0.1:{self.port}"))

    async def start(self) -> CuttableProxy:
        self._server = await asyncio.start_server(self._link, "127.0.0.1", self.port,
                                                  reuse_address=True)  # fmt: skip
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def cut(self) -> None:
        """New connections are refused; open ones are reset."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()

    async def restore(self) -> None:
        await self.start()

    def stall(self) -> None:
        """Connections are accepted and stay open, but no byte goes through until `resume`."""
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    async def close(self) -> None:
        await self.cut()

    async def _link(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self._links.add(client_w)
        await self._flowing.wait()  # a stalled server's kernel still accepts connections
        try:
            server_r, server_w = await asyncio.open_connection(*self._target)
        except OSError:
            client_w.transport.abort()
            return
        self._links.update((client_w, server_w))
        await asyncio.gather(self._pump(client_r, server_w), self._pump(server_r, client_w))
        self._links.difference_update((client_w, server_w))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
