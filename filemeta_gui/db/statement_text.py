"""Statement text for the monitor: normalised keys and parameters reduced to their types."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from itertools import islice
from typing import Any

# Only this much of a statement is read: a bulk INSERT's batch can be 100k characters of
# repeated rows, and normalising all of it would cost milliseconds per batch.
_MAX_READ_CHARS = 4_096
_MAX_NORMALISED_CHARS = 2_000
_MAX_LISTED_PARAMETERS = 40
_COMMENT = re.compile(r"/\*.*?\*/|--[^\n]*", re.S)
_STRING = re.compile(r"'(?:[^']|'')*'")
_PLACEHOLDER = re.compile(r"\$\d+|%\(\w+\)s|%s|(?<![:\w]):\w+|\?")
_NUMBER = re.compile(r"(?<![\w$.])\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b")
_SPACE = re.compile(r"\s+")
_ITEM = r"\?(?:::\w+(?:\[\])?)?"  # a placeholder, maybe with a PostgreSQL cast
_LIST = re.compile(rf"\(\s*{_ITEM}(?:\s*,\s*{_ITEM})+\s*\)")
_ROWS = re.compile(r"(\((?:[^()']|\([^()]*\))*\))(?:\s*,\s*\1)+")


def normalise_statement(statement: str) -> str:
    """The statement with literals and placeholders as ``?``, lists collapsed, one space.

    ``IN (?, ?, ?)`` becomes ``IN (?, ...)`` and repeated ``VALUES`` rows one row plus
    ``, ...``, so statements differing only in list length share one entry. Of a long
    statement only the head is read, and the result ends with `` …``.
    """
    if len(statement) <= _MAX_READ_CHARS:
        return _normalise(statement)
    return _normalise(statement[:_MAX_READ_CHARS]) + " …"


@functools.lru_cache(maxsize=1024)  # statements repeat: most calls are a dictionary hit
def _normalise(statement: str) -> str:
    text = _COMMENT.sub(" ", statement)
    text = _STRING.sub("?", text)
    # A head cut inside a literal leaves an unpaired quote: drop the rest, value included.
    text = text.split("'", 1)[0]
    text = _PLACEHOLDER.sub("?", text)
    text = _NUMBER.sub("?", text)
    text = _SPACE.sub(" ", text).strip()
    text = _LIST.sub("(?, ...)", text)
    text = _ROWS.sub(r"\1, ...", text)
    return text[:_MAX_NORMALISED_CHARS]


def redact_parameters(parameters: Any, executemany: bool = False) -> tuple[tuple[str, ...], int]:
    """Type names of the parameters (never their values) and the batch size.

    For an ``executemany`` the first row stands for all of them.
    """
    first, batch = parameters, 1
    if executemany and isinstance(parameters, list | tuple) and parameters:
        first, batch = parameters[0], len(parameters)
    if first is None:
        names: list[str] = []
    elif isinstance(first, Mapping):
        shown = islice(first.items(), _MAX_LISTED_PARAMETERS)
        names = [f"{key}: {type(value).__name__}" for key, value in shown]
    elif isinstance(first, list | tuple):
        names = [type(value).__name__ for value in islice(first, _MAX_LISTED_PARAMETERS)]
    else:
        names = [type(first).__name__]
    total = len(first) if isinstance(first, Mapping | list | tuple) else len(names)
    if total > len(names):
        names.append(f"… {total - len(names)} more")
    return tuple(names), batch
