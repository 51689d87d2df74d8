"""A fake PostgreSQL server that asks for a password and refuses it, as a real one does.

The test server trusts every local connection (pg_hba ``trust``): it never asks for a
password, so a wrong one cannot be provoked there. This one speaks just enough of the v3
wire protocol for a client to get that far: it declines SSL (and GSS) encryption, reads
the startup message, asks for a cleartext password, reads it, answers with the FATAL
error PostgreSQL sends for a wrong password (SQLSTATE 28P01) and hangs up.

Use it as ``async with WrongPasswordServer() as server:`` on the loop the client runs on.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct

_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104
_CLEARTEXT_PASSWORD = 3


class WrongPasswordServer:
    """Listens on 127.0.0.1:``port``; ``passwords`` are the ones clients sent."""

    def __init__(self) -> None:
        self.port = 0
        self.passwords: list[str] = []
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> WrongPasswordServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            user = await _startup(reader, writer)
            writer.write(_message(b"R", struct.pack("!i", _CLEARTEXT_PASSWORD)))
            await writer.drain()
            kind, body = await _read_message(reader)
            if kind == b"p":  # PasswordMessage: the password, NUL-terminated
                self.passwords.append(body.rstrip(b"\0").decode())
            writer.write(_error("28P01", f'password authentication failed for user "{user}"'))
            await writer.drain()
        writer.close()


async def _startup(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> str:
    """Decline encryption requests; return the user named by the StartupMessage."""
    while True:
        (length,) = struct.unpack("!i", await reader.readexactly(4))
        body = await reader.readexactly(length - 4)
        (code,) = struct.unpack("!i", body[:4])
        if code in (_SSL_REQUEST, _GSSENC_REQUEST):
            writer.write(b"N")  # "not supported here": the client goes on in plain text
            await writer.drain()
            continue
        words = body[4:].split(b"\0")  # protocol version, then name, value, ..., ""
        parameters = dict(zip(words[::2], words[1::2], strict=False))
        return parameters.get(b"user", b"").decode()


async def _read_message(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    kind = await reader.readexactly(1)
    (length,) = struct.unpack("!i", await reader.readexactly(4))
    return kind, await reader.readexactly(length - 4)


def _message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def _error(sqlstate: str, text: str) -> bytes:
    fields = {b"S": "FATAL", b"V": "FATAL", b"C": sqlstate, b"M": text}
    body = b"".join(key + value.encode() + b"\0" for key, value in fields.items())
    return _message(b"E", body + b"\0")
