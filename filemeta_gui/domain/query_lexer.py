"""Lexing the search language, and the quoting that turns values back into query text.

See ``domain.query`` for the language. Tokens carry their offset in the query so that every
syntax error can point at the character where it starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from filemeta_gui.domain.errors import QuerySyntaxError

FILTER_NAMES = ("tag", "type", "ext", "size", "modified", "hash", "path")
KEYWORDS = ("OR", "AND", "NOT")

# Two letters at least: "C:\Users" is a Windows path to search for, not a filter.
_FILTER = re.compile(r"([A-Za-z][A-Za-z_]+):(.*)", re.DOTALL)
_DELIMITERS = frozenset('()"')


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    """One of ``( ) - OR AND NOT term filter``."""
    pos: int
    text: str = ""
    name: str = ""
    value_pos: int = 0


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``; raises ``QuerySyntaxError`` for quotes and unknown filters."""
    found: list[Token] = []
    i, end = 0, len(text)
    while i < end:
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            found.append(Token(char, i))
            i += 1
        elif char == '"':
            phrase, i_next = _read_quoted(text, i)
            found.append(Token("term", i, phrase))
            i = i_next
        elif char == "-" and i + 1 < end and not text[i + 1].isspace():
            found.append(Token("-", i))
            i += 1
        else:
            token, i = _read_bare(text, i)
            found.append(token)
    return found


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """The phrase opened by the quote at ``start`` and the offset just after it."""
    parts: list[str] = []
    i = start + 1
    while True:
        close = text.find('"', i)
        if close < 0:
            raise QuerySyntaxError("This quote is never closed.", start)
        parts.append(text[i:close])
        if text.startswith('"', close + 1):  # a doubled quote stands for one quote
            parts.append('"')
            i = close + 2
            continue
        phrase = "".join(parts)
        if not phrase:
            raise QuerySyntaxError(
                'Empty quotes "" match nothing: type something between them.', start
            )
        return phrase, close + 1


def _read_bare(text: str, start: int) -> tuple[Token, int]:
    i = start
    while i < len(text) and not text[i].isspace() and text[i] not in _DELIMITERS:
        i += 1
    word = text[start:i]
    if word in KEYWORDS:
        return Token(word, start), i
    match = _FILTER.fullmatch(word)
    if match is None:
        return Token("term", start, word), i
    name, value = match.group(1).lower(), match.group(2)
    if name not in FILTER_NAMES:
        known = ", ".join(f"{n}:" for n in FILTER_NAMES)
        raise QuerySyntaxError(
            f"Unknown filter {match.group(1)}: (known filters: {known}). "
            "Put the word in quotes to search for it as text.",
            start,
        )
    value_pos = start + len(name) + 1
    if not value and text.startswith('"', i):
        value, i = _read_quoted(text, i)
    if not value:
        raise QuerySyntaxError(f"{name}: needs a value, for example {_EXAMPLES[name]}.", start)
    return Token("filter", start, value, name, value_pos), i


_EXAMPLES = {
    "tag": "tag:holiday",
    "type": "type:image",
    "ext": "ext:jpg",
    "size": "size:>10MB",
    "modified": "modified:<2024-01-01",
    "hash": "hash:3fa9",
    "path": "path:*/photos/*",
}


def needs_quotes(text: str) -> bool:
    return (
        text in KEYWORDS
        or text.startswith("-")
        or _FILTER.fullmatch(text) is not None
        or any(char.isspace() or char in _DELIMITERS for char in text)
    )


def quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def quote_value(text: str) -> str:
    """A filter value as query text, quoted when it would not read back as one token."""
    needs = not text or any(char.isspace() or char in _DELIMITERS for char in text)
    return quote(text) if needs else text
