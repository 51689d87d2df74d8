"""Content types: by extension first (``mimetypes``), by file signature when that fails.

``mimetypes.guess_type`` parses the whole path on every call; a scan asks once per
distinct extension and keeps the answer, which matters at 100k files.
"""

from __future__ import annotations

import mimetypes
import os
import threading

OCTET_STREAM = "application/octet-stream"
SNIFF_BYTES = 32
MAX_EXTENSION = 32  # files.extension is VARCHAR(32)

# (offset, signature, type). Checked in order, so longer signatures come first where two
# share a prefix.
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (0, b"BM", "image/bmp"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"PK\x03\x04", "application/zip"),
    (0, b"PK\x05\x06", "application/zip"),
    (0, b"\x1f\x8b", "application/gzip"),
    (0, b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (0, b"Rar!\x1a\x07", "application/vnd.rar"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"OggS", "audio/ogg"),
    (0, b"fLaC", "audio/flac"),
    (4, b"ftypheic", "image/heic"),
    (4, b"ftypqt", "video/quicktime"),
    (4, b"ftyp", "video/mp4"),
    (0, b"\x7fELF", "application/x-executable"),
)
_RIFF_TYPES = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}

_by_extension: dict[str, str | None] = {}
_lock = threading.Lock()


def split_extension(name: str) -> str:
    """Lower-case extension with its dot (``.jpg``); empty for none or an implausible one."""
    dot = name.rfind(".")
    if dot <= 0 or dot == len(name) - 1:
        return ""  # no dot, a dot-file such as ".bashrc", or a trailing dot
    extension = name[dot:].lower()
    return extension if len(extension) <= MAX_EXTENSION else ""


def by_extension(extension: str) -> str | None:
    """The registered type of a lower-case extension, or None."""
    try:
        return _by_extension[extension]
    except KeyError:
        pass
    guessed = mimetypes.guess_type("x" + extension, strict=False)[0] if extension else None
    with _lock:
        _by_extension[extension] = guessed
    return guessed


def sniff(head: bytes) -> str | None:
    """The type announced by the first bytes of a file, or None."""
    for offset, signature, content_type in _SIGNATURES:
        if head.startswith(signature, offset):
            return content_type
    if head.startswith(b"RIFF") and len(head) >= 12:
        return _RIFF_TYPES.get(head[8:12])
    return None


def sniff_file(path: str) -> str | None:
    """Read the first bytes of ``path``; None when it cannot be read or says nothing."""
    try:
        # O_NONBLOCK: a FIFO that replaced the file since the walk must not block us.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        return sniff(os.read(fd, SNIFF_BYTES))
    except OSError:
        return None
    finally:
        os.close(fd)


def content_type_for(path: str, extension: str, told: str | None = None) -> str:
    """By extension when it is a known one, else by signature, else octet-stream.

    ``told``: what the walk already read off the file's first bytes (``told_by_bytes``),
    so the file is not opened again."""
    return by_extension(extension) or (sniff_file(path) if told is None else told) or OCTET_STREAM


def told_by_bytes(path: str, name: str) -> str | None:
    """For the walk: what the first bytes of a file say ("" when nothing) if its extension
    is not a known one; None when the extension says it."""
    if by_extension(split_extension(name)) is not None:
        return None
    return sniff_file(path) or ""
