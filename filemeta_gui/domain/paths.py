"""Lossless storage of file names that are not valid UTF-8.

POSIX file names are bytes. Python hands them to us as ``str`` with undecodable bytes
mapped to lone surrogates (``surrogateescape``), which neither SQLite nor PostgreSQL
accept as text. FileMeta therefore stores two columns:

* ``file_path``: text for people and for search. Valid UTF-8 names are stored as they are;
  in other names each undecodable byte is written ``\\xHH``.
* ``raw_path``: the exact bytes, only for names that are not valid UTF-8 (NULL otherwise).

``from_stored`` gives back the exact ``os`` path, so such files are found, opened and
rescanned like any other.
"""

from __future__ import annotations

import os


def is_clean(path: str) -> bool:
    """True when ``path`` can be stored as text as it is."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def to_stored(path: str) -> tuple[str, bytes | None]:
    """Split an OS path into its display text and, when needed, its raw bytes."""
    if is_clean(path):
        return path, None
    raw = os.fsencode(path)
    return raw.decode("utf-8", "backslashreplace"), raw


def from_stored(text: str, raw: bytes | None) -> str:
    """The OS path for a stored ``(file_path, raw_path)`` pair."""
    return os.fsdecode(raw) if raw is not None else text


def display(path: str) -> str:
    """A printable form of any OS path (undecodable bytes as ``\\xHH``)."""
    return to_stored(path)[0]
