"""The search language: a pure parser from the text in the search box to a small AST.

Grammar (informal)::

    query   := clause*                    clauses are AND-ed ("AND" may be written)
    clause  := unary ("OR" unary)*
    unary   := ("-" | "NOT") unary | atom
    atom    := "(" query ")" | "phrase" | filter | word

OR binds tighter than the implicit AND, as in Gmail or Everything: ``trip jpg OR png`` is
``trip AND (jpg OR png)``, and a query typed after a sidebar filter stays inside it.

* Words and "quoted phrases" match the file name or path as case-insensitive substrings.
  Inside quotes a quote is written twice: ``"12"" vinyl"`` finds ``12" vinyl``.
  Parentheses and quotes always delimit words: search ``"photo (1)"`` with quotes.
* ``OR``, ``AND`` and ``NOT`` are keywords only in upper case; a lone ``-`` is a word.
* Filters (names are case-insensitive; a value may be quoted): ``tag:NAME`` (the tag or any
  descendant), ``type:image|video|audio|text|image/png|image/*``, ``ext:jpg[,png]``,
  ``size:>10MB`` (``> >= < <= =``, ranges ``1MB..5MB``, open ``1MB..``; units B, KB, MB,
  GB, TB (powers of 1000) and KiB, MiB, GiB, TiB), ``modified:<2024-01-01`` (same operators;
  dates YYYY, YYYY-MM or YYYY-MM-DD, each naming a whole period), ``hash:`` hex prefix,
  ``path:`` glob over the whole path, case-sensitive like the paths themselves (``*`` any
  run of characters, ``/`` included, ``?`` one character, everything else literal).

Malformed input raises :class:`QuerySyntaxError` with the offset of the problem. ``str()``
of any node gives query text that parses back to an equal node.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from filemeta_gui.domain.errors import QuerySyntaxError
from filemeta_gui.domain.query_lexer import Token, needs_quotes, quote, quote_value, tokenize
from filemeta_gui.domain.query_values import (
    describe_period,
    describe_size,
    parse_modified,
    parse_size,
)

TYPE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "image": ("image/",),
    "video": ("video/",),
    "audio": ("audio/",),
    "text": ("text/",),
}
# RFC 6838 token characters, lower-cased; "*" only as the whole subtype.
_MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/(?:[a-z0-9][a-z0-9!#$&^_.+-]*|\*)")
_HEX = re.compile(r"[0-9a-f]{1,64}")


@dataclass(frozen=True, slots=True)
class MatchAll:
    """The empty query."""

    def __str__(self) -> str:
        return ""


@dataclass(frozen=True, slots=True)
class Term:
    """A word or phrase: a case-insensitive substring of the file name or path."""

    text: str

    def __str__(self) -> str:
        return quote(self.text) if needs_quotes(self.text) else self.text


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]

    def __str__(self) -> str:
        return " ".join(f"({item})" if isinstance(item, And) else str(item) for item in self.items)


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]

    def __str__(self) -> str:
        return " OR ".join(
            f"({item})" if isinstance(item, And | Or) else str(item) for item in self.items
        )


@dataclass(frozen=True, slots=True)
class Not:
    item: Node

    def __str__(self) -> str:
        inner = str(self.item)
        return f"-({inner})" if isinstance(self.item, And | Or) else f"-{inner}"


@dataclass(frozen=True, slots=True)
class TagFilter:
    name: str

    def __str__(self) -> str:
        return f"tag:{quote_value(self.name)}"


@dataclass(frozen=True, slots=True)
class TypeFilter:
    """A category (``image``), a MIME type (``image/png``) or a family (``image/*``)."""

    value: str

    @property
    def prefixes(self) -> tuple[str, ...]:
        """Content-type prefixes that match (empty when the value is one exact type)."""
        if self.value in TYPE_CATEGORIES:
            return TYPE_CATEGORIES[self.value]
        if self.value.endswith("/*"):
            return (self.value[:-1],)
        return ()

    def __str__(self) -> str:
        return f"type:{self.value}"


@dataclass(frozen=True, slots=True)
class ExtFilter:
    """File extensions, lower case and without the dot."""

    extensions: tuple[str, ...]

    def __str__(self) -> str:
        return f"ext:{quote_value(','.join(self.extensions))}"


@dataclass(frozen=True, slots=True)
class SizeFilter:
    """File size in bytes between ``minimum`` and ``maximum``, both inclusive."""

    minimum: int | None
    maximum: int | None

    def __str__(self) -> str:
        return f"size:{describe_size(self.minimum, self.maximum)}"


@dataclass(frozen=True, slots=True)
class ModifiedFilter:
    """Modified on or after the day ``start`` and before the day ``end`` (local dates)."""

    start: date | None
    end: date | None

    def __str__(self) -> str:
        return f"modified:{describe_period(self.start, self.end)}"


@dataclass(frozen=True, slots=True)
class HashFilter:
    """A lower-case hexadecimal prefix of the SHA-256."""

    prefix: str

    def __str__(self) -> str:
        return f"hash:{self.prefix}"


@dataclass(frozen=True, slots=True)
class PathFilter:
    glob: str

    def __str__(self) -> str:
        return f"path:{quote_value(self.glob)}"


Node = (
    MatchAll
    | Term
    | And
    | Or
    | Not
    | TagFilter
    | TypeFilter
    | ExtFilter
    | SizeFilter
    | ModifiedFilter
    | HashFilter
    | PathFilter
)
Filter = TagFilter | TypeFilter | ExtFilter | SizeFilter | ModifiedFilter | HashFilter | PathFilter


def describe(node: Node) -> str:
    """Query text for ``node``; ``parse(describe(node)) == node``."""
    return str(node)


def tag_filters(node: Node) -> list[TagFilter]:
    """Every tag filter in ``node``, at any depth."""
    match node:
        case TagFilter():
            return [node]
        case And(items) | Or(items):
            return [found for item in items for found in tag_filters(item)]
        case Not(item):
            return tag_filters(item)
    return []


def top_or(node: Node) -> Or | None:
    """The OR that is ``node``, or the one OR among its clauses (None: none, or several)."""
    if isinstance(node, Or):
        return node
    ors = [item for item in node.items if isinstance(item, Or)] if isinstance(node, And) else []
    return ors[0] if len(ors) == 1 else None


def with_choice(node: Node, either: Or, choice: Node) -> Node:
    """``node`` with its OR ``either`` (see :func:`top_or`) narrowed to ``choice``: with
    ``either`` = ``jpg OR png``, ``trip jpg OR png`` becomes ``trip jpg``. Flat, as the
    parser makes it (clauses of a chosen AND join the others)."""
    if node is either:
        return choice
    assert isinstance(node, And)
    at = node.items.index(either)
    chosen = choice.items if isinstance(choice, And) else (choice,)
    return And((*node.items[:at], *chosen, *node.items[at + 1 :]))


def parse(text: str) -> Node:
    """Parse a query; raises :class:`QuerySyntaxError` for malformed input."""
    parser = _Parser(tokenize(text))
    node = parser.query(depth=0)
    return node if node is not None else MatchAll()


# --- parser ---------------------------------------------------------------------------------

_ENDS_OPERAND = frozenset({")", "OR", "AND"})


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def query(self, depth: int) -> Node | None:
        items: list[Node] = []
        while (token := self.peek()) is not None:
            if token.kind == ")":
                if depth == 0:
                    raise QuerySyntaxError("This ')' has no matching '('.", token.pos)
                break
            if token.kind == "AND":
                if not items:
                    raise QuerySyntaxError("AND needs something before it.", token.pos)
                self.take()
                self._operand_after(token, "AND needs something after it.")
                continue
            if token.kind == "OR":
                raise QuerySyntaxError("OR needs something before it.", token.pos)
            items.append(self.disjunction())
        return _combine(And, items)

    def disjunction(self) -> Node:
        items = [self.unary()]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.take()
            self._operand_after(token, "OR needs something after it.")
            items.append(self.unary())
        node = _combine(Or, items)
        assert node is not None
        return node

    def unary(self) -> Node:
        token = self.take()
        if token.kind in ("-", "NOT"):
            self._operand_after(token, f"{token.kind} needs something to exclude after it.")
            inner = self.unary()
            # --x is x: keeps the tree (and its SQL) minimal.
            return inner.item if isinstance(inner, Not) else Not(inner)
        if token.kind == "(":
            inner_node = self.query(depth=1)
            closing = self.peek()
            if closing is None:
                raise QuerySyntaxError("This '(' is never closed.", token.pos)
            self.take()
            if inner_node is None:
                raise QuerySyntaxError("Empty parentheses: put something inside.", token.pos)
            return inner_node
        if token.kind == "term":
            return Term(token.text)
        assert token.kind == "filter"
        return _filter(token)

    def _operand_after(self, token: Token, message: str) -> None:
        following = self.peek()
        if following is None or following.kind in _ENDS_OPERAND:
            raise QuerySyntaxError(message, token.pos)


def _combine(kind: type[And] | type[Or], items: list[Node]) -> Node | None:
    """One node for ``items``: nested groups of the same kind are flattened."""
    flat: list[Node] = []
    for item in items:
        flat.extend(item.items if isinstance(item, kind) else (item,))
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else kind(tuple(flat))


def _filter(token: Token) -> Filter:
    name, value, pos = token.name, token.text, token.value_pos
    if name == "tag":
        return TagFilter(_non_blank(value.strip(), pos, "tag: needs a tag name."))
    if name == "type":
        return TypeFilter(_type_value(value.strip().lower(), pos))
    if name == "ext":
        return ExtFilter(_extensions(value, pos))
    if name == "size":
        return SizeFilter(*parse_size(value, pos))
    if name == "modified":
        return ModifiedFilter(*parse_modified(value, pos))
    if name == "hash":
        prefix = value.strip().lower()
        if not _HEX.fullmatch(prefix):
            raise QuerySyntaxError("hash: takes 1 to 64 hexadecimal digits (0-9, a-f).", pos)
        return HashFilter(prefix)
    assert name == "path"
    return PathFilter(value)


def _non_blank(value: str, pos: int, message: str) -> str:
    if not value:
        raise QuerySyntaxError(message, pos)
    return value


def _type_value(value: str, pos: int) -> str:
    if value in TYPE_CATEGORIES or _MIME.fullmatch(value):
        return value
    raise QuerySyntaxError(
        f"Unknown type {value!r}: use image, video, audio, text or a MIME type such as "
        "image/png or image/*.",
        pos,
    )


def _extensions(value: str, pos: int) -> tuple[str, ...]:
    extensions = tuple(part.strip().lstrip(".").lower() for part in value.split(","))
    if not all(extensions):
        raise QuerySyntaxError("ext: needs extensions separated by commas, like ext:jpg,png.", pos)
    return extensions
