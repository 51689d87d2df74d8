"""A TCP proxy in front of PostgreSQL that can make the network go silent or go away.

``blackhole_existing()`` stops carrying bytes on the connections open at that moment
without closing them, the way a dropped Wi-Fi or a dead router looks to a client: no
FIN, no RST, just silence. New connections still pass (the network "came back" for
them), so a client that notices and reconnects recovers.

``cut()`` is a server that went down: every open connection is closed and new ones are
refused (the listening socket is gone) until ``restore()`` listens on the same port again.
"""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._links: list[_Link] = []

    async def __aenter__(self) -> TcpProxy:
        await self._listen()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self._close_all()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close_all(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        links, self._links = self._links, []
        for link in links:
            link.close()
        await asyncio.gather(*(link.done for link in links), return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    def blackhole_existing(self) -> None:
        for link in self._links:
            link.silent = True

    async def cut(self) -> None:
        """Close every connection and refuse new ones: the server is down."""
        await self._close_all()

    async def restore(self) -> None:
        """Accept connections again, on the same port: the server is back."""
        if self._server is None:
            await self._listen()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        link = _Link(writer, upstream_writer)
        self._links.append(link)
        link.done = asyncio.gather(
            link.pump(reader, upstream_writer), link.pump(upstream_reader, writer)
        )
        with contextlib.suppress(Exception):
            await link.done


class _Link:
    def __init__(self, *writers: asyncio.StreamWriter) -> None:
        self.writers = writers
        self.silent = False
        self.done: asyncio.Future[object] = asyncio.get_running_loop().create_future()

    async def pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            if not self.silent:  # silent: swallow the bytes, as a dead link would
                writer.write(data)
                await writer.drain()
        if not self.silent:  # one side hung up: so does the other (a dead link says nothing)
            writer.close()

    def close(self) -> None:
        for writer in self.writers:
            writer.close()
