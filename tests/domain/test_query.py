"""The search-language parser: trees for valid queries, positioned errors for the rest."""

from __future__ import annotations

import random
from datetime import date

import pytest

from filemeta_gui.domain.errors import QuerySyntaxError
from filemeta_gui.domain.query import (
    And,
    ExtFilter,
    HashFilter,
    MatchAll,
    ModifiedFilter,
    Node,
    Not,
    Or,
    PathFilter,
    SizeFilter,
    TagFilter,
    Term,
    TypeFilter,
    describe,
    parse,
    tag_filters,
    top_or,
    with_choice,
)

a, b, c, d = Term("a"), Term("b"), Term("c"), Term("d")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", MatchAll()),
        ("   \t ", MatchAll()),
        ("cat", Term("cat")),
        ("a b", And((a, b))),
        ("a AND b", And((a, b))),
        ("a OR b", Or((a, b))),
        ("a or b", And((a, Term("or"), b))),  # only upper-case OR is a keyword
        # OR binds tighter than the implicit AND: "trip jpg OR png" is trip AND (jpg OR png).
        ("a b OR c", And((a, Or((b, c))))),
        ("a OR b c", And((Or((a, b)), c))),
        ("a OR b OR c", Or((a, b, c))),
        ("(a b) OR c", Or((And((a, b)), c))),
        ("(a OR b) (c OR d)", And((Or((a, b)), Or((c, d))))),
        ("-a", Not(a)),
        ("NOT a", Not(a)),
        ("--a", a),
        ("-a OR b", Or((Not(a), b))),
        ("-(a OR b)", Not(Or((a, b)))),
        ("-(a b) c", And((Not(And((a, b))), c))),
        ("((a))", a),
        ("(a (b c))", And((a, b, c))),
        ('"two words"', Term("two words")),
        ('"say ""hi"""', Term('say "hi"')),
        ('-"x y"', Not(Term("x y"))),
        ('"OR"', Term("OR")),
        ('"tag:x"', Term("tag:x")),
        ("a - b", And((a, Term("-"), b))),  # a lone dash is a character to search for
        ("well-known", Term("well-known")),
        ("100%_\\", Term("100%_\\")),
        ("C:\\Users", Term("C:\\Users")),  # one letter before ':' is a drive, not a filter
        ("12:30", Term("12:30")),
        ("photo(1)", And((Term("photo"), Term("1")))),
        ("tag:holiday", TagFilter("holiday")),
        ("TAG:Holiday", TagFilter("Holiday")),
        ('tag:"summer 2024"', TagFilter("summer 2024")),
        ("-tag:x", Not(TagFilter("x"))),
        ("(tag:a OR tag:b)", Or((TagFilter("a"), TagFilter("b")))),
        ("type:image", TypeFilter("image")),
        ("type:Video", TypeFilter("video")),
        ("type:image/png", TypeFilter("image/png")),
        ("type:image/*", TypeFilter("image/*")),
        ("type:application/vnd.ms-excel", TypeFilter("application/vnd.ms-excel")),
        ("ext:jpg", ExtFilter(("jpg",))),
        ("ext:.JPG", ExtFilter(("jpg",))),
        ("ext:jpg,PNG", ExtFilter(("jpg", "png"))),
        ("hash:ABC123", HashFilter("abc123")),
        ("path:/data/*.jpg", PathFilter("/data/*.jpg")),
        ('path:"/my docs/*"', PathFilter("/my docs/*")),
        ("path:C:/x", PathFilter("C:/x")),
        # A space ends a filter value: 10 bytes, then the word MB.
        ("size:10 MB", And((SizeFilter(10, 10), Term("MB")))),
    ],
)
def test_parses(query: str, expected: Node) -> None:
    assert parse(query) == expected


MB = 10**6


@pytest.mark.parametrize(
    ("value", "minimum", "maximum"),
    [
        (">10MB", 10 * MB + 1, None),
        (">=10MB", 10 * MB, None),
        ("<10MB", None, 10 * MB - 1),
        ("<=10MB", None, 10 * MB),
        ("=10MB", 10 * MB, 10 * MB),
        ("10MB", 10 * MB, 10 * MB),
        ("1MB..5MB", MB, 5 * MB),
        ("1MB..", MB, None),
        ("..5MB", None, 5 * MB),
        (">1kib", 1025, None),
        (">=1.5GB", 1_500_000_000, None),
        (">=2MiB", 2 * 2**20, None),
        ("<=1TiB", None, 2**40),
        (">=1TB", 10**12, None),
        (">0", 1, None),
        ("<=0b", None, 0),
        (">0.1KiB", 103, None),  # 102.4 bytes: strictly more is 103
        (">=0.1KiB", 103, None),
        ("<0.1KiB", None, 102),
        ("<=0.1KiB", None, 102),
        ("0.5KB..1.2KB", 500, 1200),
        ("0.1KiB..0.2KiB", 103, 204),
    ],
)
def test_size_values(value: str, minimum: int | None, maximum: int | None) -> None:
    assert parse(f"size:{value}") == SizeFilter(minimum, maximum)


@pytest.mark.parametrize(
    ("value", "start", "end"),
    [
        ("<2024-01-01", None, date(2024, 1, 1)),
        ("<=2024-01-01", None, date(2024, 1, 2)),
        (">2024-01-01", date(2024, 1, 2), None),
        (">=2024-01-01", date(2024, 1, 1), None),
        ("=2024-01-01", date(2024, 1, 1), date(2024, 1, 2)),
        ("2024-02-29", date(2024, 2, 29), date(2024, 3, 1)),
        ("2024-12", date(2024, 12, 1), date(2025, 1, 1)),
        ("<=2024-02", None, date(2024, 3, 1)),
        (">2024-02", date(2024, 3, 1), None),
        ("2023", date(2023, 1, 1), date(2024, 1, 1)),
        ("<2023", None, date(2023, 1, 1)),
        ("2024-1-5", date(2024, 1, 5), date(2024, 1, 6)),
        ("2023..2024-03", date(2023, 1, 1), date(2024, 4, 1)),
        ("2024-01-01..2024-01-01", date(2024, 1, 1), date(2024, 1, 2)),
        ("2024-03..", date(2024, 3, 1), None),
        ("..2024-03", None, date(2024, 4, 1)),
    ],
)
def test_modified_values(value: str, start: date | None, end: date | None) -> None:
    assert parse(f"modified:{value}") == ModifiedFilter(start, end)


@pytest.mark.parametrize(
    ("query", "position", "fragment"),
    [
        ("(a", 0, "never closed"),
        ("a (b (c)", 2, "never closed"),
        ("a)", 1, "no matching"),
        ("a ) b", 2, "no matching"),
        ("()", 0, "Empty parentheses"),
        ("a ( ) b", 2, "Empty parentheses"),
        ("OR a", 0, "before it"),
        ("a OR", 2, "after it"),
        ("a OR OR b", 2, "after it"),
        ("(a OR) b", 3, "after it"),
        ("a (OR b)", 3, "before it"),
        ("a OR AND b", 2, "after it"),
        ("AND a", 0, "before it"),
        ("a AND", 2, "after it"),
        ("a AND OR b", 2, "after it"),
        ("a -)", 2, "exclude"),
        ("NOT", 0, "exclude"),
        ("a -OR b", 2, "exclude"),
        ('"abc', 0, "never closed"),
        ('a "b c', 2, "never closed"),
        ('a ""', 2, "Empty quotes"),
        ('tag:"x', 4, "never closed"),
        ("foo:bar", 0, "Unknown filter foo:"),
        ("a colour:red", 2, "Unknown filter colour:"),
        ("tag:", 0, "needs a value"),
        ("size: 1MB", 0, "needs a value"),
        ('tag:"  "', 4, "tag name"),
        ("type:foo", 5, "Unknown type"),
        ("type:image/", 5, "Unknown type"),
        ("type:/png", 5, "Unknown type"),
        ("ext:jpg,", 4, "ext:"),
        ("ext:,", 4, "ext:"),
        ("hash:xyz", 5, "hexadecimal"),
        ("hash:" + "a" * 65, 5, "hexadecimal"),
        ("size:>", 5, "missing"),
        ("size:big", 5, "not a size"),
        ("size:>10XB", 6, "Unknown size unit"),
        ("size:>-5", 6, "not a size"),
        ("size:1.5", 5, "not a whole"),
        ("size:<0", 5, "smaller than 0"),
        ("size:5MB..1MB", 5, "empty"),
        ("size:..", 5, "at least one end"),
        ("size:1..2..3", 5, "one '..'"),
        ("size:>1MB..2MB", 5, "not both"),
        ("size:1MB..5XB", 10, "Unknown size unit"),
        ("modified:", 0, "needs a value"),
        ("modified:<", 9, "missing"),
        ("modified:yesterday", 9, "not a date"),
        ("modified:2024-13", 9, "not a valid date"),
        ("modified:2023-02-29", 9, "not a valid date"),
        ("modified:<2024/01/01", 10, "not a date"),
        ("modified:0999", 9, "out of range"),
        ("modified:2024-03..2024-02", 9, "empty"),
        ("modified:2024..x", 15, "not a date"),
    ],
)
def test_malformed_queries_raise_with_position(query: str, position: int, fragment: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse(query)
    assert fragment in str(caught.value)
    assert caught.value.position == position


def test_error_message_is_a_plain_sentence() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse("a (b")
    message = str(caught.value)
    assert message[0].isupper() and message.endswith(".")
    assert "Traceback" not in message


@pytest.mark.parametrize(
    "query",
    [
        "a b OR c",
        "(a b) OR c",
        "-(a OR b) c",
        "-(a b)",
        '"two words" "say ""hi""" "-dash" "OR" "ext:x" "(x)"',
        'tag:"summer 2024" -tag:x tag:y',
        "type:image type:image/png type:video/*",
        "ext:jpg,png hash:abc path:/a/*.jpg",
        'path:"/my docs/?.txt"',
        "size:>10MB size:<1KB size:=1001 size:1MiB..2MiB size:..5",
        "modified:<2024-01-01 modified:2024-03 modified:2023 modified:>=2024-02-03",
        "modified:2024-01-05..2024-02-07 modified:2024-02-10",
        "a OR tag:b OR (c -d)",
    ],
)
def test_describe_round_trips(query: str) -> None:
    node = parse(query)
    assert parse(describe(node)) == node
    assert str(node) == describe(node)


def test_describe_reads_naturally() -> None:
    assert describe(parse("size:>10MB")) == "size:>=10000001"
    assert describe(parse("size:>=10MB")) == "size:>=10MB"
    assert describe(parse("modified:2024-03")) == "modified:2024-03"
    assert describe(parse("modified:<=2024")) == "modified:<2025-01-01"
    assert describe(parse('a OR "b c"  -d')) == 'a OR "b c" -d'
    assert describe(parse("")) == ""


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("a OR b", ["a", "b"]),
        ("trip a OR b", ["trip a", "trip b"]),  # OR binds tighter than the AND
        ("a OR b -c tag:x", ["a -c tag:x", "b -c tag:x"]),
        ("x (a b) OR (c -d)", ["x a b", "x c -d"]),
        ("a OR b OR c", ["a", "b", "c"]),
        ("a OR b c OR d", []),  # two of them would multiply
        ("-(a OR b)", []),
        ("a b", []),
        ("a", []),
    ],
)
def test_one_or_narrows_to_each_of_its_choices(query: str, expected: list[str]) -> None:
    node = parse(query)
    either = top_or(node)
    choices = [with_choice(node, either, item) for item in either.items] if either else []
    assert choices == [parse(text) for text in expected]


def test_tag_filters_are_found_at_any_depth() -> None:
    node = parse("tag:a (b OR -tag:c) -(tag:d OR x)")
    assert [tag.name for tag in tag_filters(node)] == ["a", "c", "d"]
    assert tag_filters(parse("a b OR c")) == []


def test_nodes_are_frozen_and_hashable() -> None:
    node = parse("a OR b -tag:x")
    assert hash(node) == hash(parse("a OR b -tag:x"))
    with pytest.raises(AttributeError):
        node.items = ()  # type: ignore[misc, union-attr]


def test_type_prefixes() -> None:
    assert TypeFilter("image").prefixes == ("image/",)
    assert TypeFilter("audio/*").prefixes == ("audio/",)
    assert TypeFilter("image/png").prefixes == ()


def test_any_input_parses_or_raises_a_positioned_syntax_error() -> None:
    """Random soup of the language's pieces: never another exception, always a round trip."""
    pieces = [
        *("a", "b", " ", " ", "(", ")", '"', "-", "OR", "AND", "NOT", "tag:", "size:", ">"),
        *("<", "=", "..", "1", "MB", "kib", "modified:", "2024", "-01", "hash:", "path:"),
        *("*", "?", "ext:", "type:", "image/", ".", ",", "foo:", "\\", "%", "_", "é"),
    ]
    rng = random.Random(20241128)
    for _ in range(5000):
        query = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        try:
            node = parse(query)
        except QuerySyntaxError as error:
            assert 0 <= error.position <= len(query), query
            continue
        assert parse(describe(node)) == node, query
