"""Search queries compiled to SQL, run against real rows on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from filemeta_gui.db.engine import Database
from filemeta_gui.db.models import File, FileTag, Tag
from filemeta_gui.db.search_index import check_search_index
from filemeta_gui.domain.enums import Backend
from filemeta_gui.domain.query import parse
from filemeta_gui.repositories.query_sql import (
    FTS_FOLDS_INTO_ASCII,
    compile_query,
    fts_phrase,
    next_hex_prefix,
    search_condition,
)

SHA_A = "ab12" + "0" * 60
SHA_B = "ab34" + "1" * 60
SHA_C = "cd56" + "2" * 60


def _ns(year: int, month: int, day: int, hour: int = 0) -> int:
    return int(datetime(year, month, day, hour, tzinfo=UTC).timestamp()) * 10**9


# key: (path, content_type, size, mtime_ns, hash)
FILES: dict[str, tuple[str, str, int, int, str | None]] = {
    "beach": ("/photos/2024/Beach Day.JPG", "image/jpeg", 3_000_000, _ns(2024, 6, 1), SHA_A),
    "sunset": (
        "/photos/2024/beach_sunset.png",
        "image/png",
        12_000_000,
        _ns(2023, 12, 31, 23),
        SHA_B,
    ),
    "report": ("/docs/report 100%.pdf", "application/pdf", 50_000, _ns(2024, 1, 1), None),
    "a_b": ("/docs/a_b.txt", "text/plain", 10, _ns(2022, 5, 5), SHA_C),
    "axb": ("/docs/axb.txt", "text/plain", 10, _ns(2022, 5, 5), None),
    "song": ("/music/song.mp3", "audio/mpeg", 5_000_000, _ns(2021, 1, 1), None),
    "clip": ("/video/clip.mp4", "video/mp4", 1_000_000_000, _ns(2020, 1, 1), None),
    "slash": ("/misc/back\\slash.md", "text/markdown", 700, _ns(2019, 1, 1), None),
    "unicode": ("/misc/Ünïcode Straße.txt", "text/plain", 1, _ns(2018, 1, 1), None),
    "xy": ("/misc/x.y", "application/octet-stream", 0, _ns(2017, 1, 1), None),
    "quote": ('/misc/quote "q".txt', "text/plain", 2, _ns(2016, 1, 1), None),
    "draft": ("/misc/[draft] Plan", "application/x-plan", 3, _ns(2015, 1, 1), None),
}
ALL = set(FILES)
# tag -> (parent, files tagged with it directly)
TAGS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "Holiday": (None, ("song",)),
    "beach": ("Holiday", ("beach",)),
    "sunset": ("beach", ("sunset",)),
    "work": (None, ("report", "a_b")),
    "loop1": ("loop2", ("clip",)),  # a cycle in the parent links must not hang the search
    "loop2": ("loop1", ()),
}


def _row(path: str, content_type: str, size: int, mtime_ns: int, sha: str | None) -> dict[str, Any]:
    filename = path.rsplit("/", 1)[-1]
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return {
        "id": uuid.uuid4(),
        "filename": filename,
        "file_path": path,
        "file_size": size,
        "content_type": content_type,
        "extension": extension,
        "mtime_ns": mtime_ns,
        "hash_value": sha,
    }


async def _add_texts(database: Database, paths: list[str]) -> None:
    """Text files at ``paths``, one byte each."""
    async with database.session() as session:
        await session.execute(sa.insert(File), [_row(p, "text/plain", 1, 0, None) for p in paths])


async def _populate(database: Database) -> None:
    rows = {key: _row(*spec) for key, spec in FILES.items()}
    tag_ids = {name: uuid.uuid4() for name in TAGS}
    async with database.session() as session:
        await session.execute(sa.insert(File), list(rows.values()))
        await session.execute(
            sa.insert(Tag), [{"id": tag_ids[name], "name": name} for name in TAGS]
        )
        for name, (parent, _) in TAGS.items():
            if parent:
                await session.execute(
                    sa.update(Tag).where(Tag.id == tag_ids[name]).values(parent_id=tag_ids[parent])
                )
        links = [
            {"file_id": rows[key]["id"], "tag_id": tag_ids[name]}
            for name, (_, keys) in TAGS.items()
            for key in keys
        ]
        await session.execute(sa.insert(FileTag), links)


async def _search(database: Database, query: str, tz: Any = UTC) -> set[str]:
    by_path = {spec[0]: key for key, spec in FILES.items()}
    condition = search_condition(query, database.backend, tz=tz)
    async with database.session() as session:
        paths = (await session.scalars(sa.select(File.file_path).where(condition))).all()
    return {by_path.get(path, path) for path in paths}


CASES: list[tuple[str, set[str]]] = [
    ("", ALL),
    # words: substrings of name or path, any case; 3+ characters go through the index
    ("beach", {"beach", "sunset"}),
    ("BEACH", {"beach", "sunset"}),
    ("photos", {"beach", "sunset"}),
    ("docs/a", {"a_b", "axb"}),
    ("beach png", {"sunset"}),
    ("beach nothing", set()),
    ("song OR clip", {"song", "clip"}),
    ("song OR clip OR 4", {"song", "clip", "beach", "sunset"}),
    ("(beach day) OR song", {"beach", "song"}),
    ("beach -png", {"beach"}),
    ("photos -sunset -day", set()),
    ("-beach", ALL - {"beach", "sunset"}),
    ("-(song OR clip OR misc)", {"beach", "sunset", "report", "a_b", "axb"}),
    ("-4", ALL - {"beach", "sunset", "clip"}),
    # phrases
    ('"beach day"', {"beach"}),
    ('"day beach"', set()),
    ('"quote ""q"""', {"quote"}),
    ('"\\"', {"slash"}),
    # LIKE wildcards and the escape character are literal
    ("100%", {"report"}),
    ("%", {"report"}),
    ("_", {"a_b", "sunset"}),
    ("a_b", {"a_b"}),
    ("\\", {"slash"}),
    ("k\\s", {"slash"}),
    ("_s", {"sunset"}),
    # 1-2 character terms (plain LIKE on SQLite)
    ("4", {"beach", "sunset", "clip"}),
    ("x.", {"xy"}),
    ("Q", {"quote"}),
    ("mp", {"song", "clip"}),
    # words without letters: no case to fold (PostgreSQL uses LIKE for them)
    ("20", {"beach", "sunset"}),
    ("2024", {"beach", "sunset"}),
    ("4/", {"beach", "sunset"}),
    # short ASCII words in a non-ASCII path, short non-ASCII words
    ("ST", {"unicode"}),
    ("Ü", {"unicode"}),
    ("ß", {"unicode"}),
    # a word in the folder part only, in the name only, across the last slash
    ("misc", {"slash", "unicode", "xy", "quote", "draft"}),
    ("clip", {"clip"}),
    ("s/ax", {"axb"}),
    # non-ASCII, 3+ characters: both backends fold case
    ("straße", {"unicode"}),
    ("ÜNÏCODE", {"unicode"}),
    # tags: a parent finds files tagged with its descendants; names in any case
    ("tag:holiday", {"song", "beach", "sunset"}),
    ("tag:beach", {"beach", "sunset"}),
    ("tag:SUNSET", {"sunset"}),
    ("tag:nothing", set()),
    ("-tag:holiday", ALL - {"song", "beach", "sunset"}),
    ("tag:work OR tag:sunset", {"report", "a_b", "sunset"}),
    ("tag:holiday tag:beach -tag:sunset", {"beach"}),
    ("tag:loop1", {"clip"}),
    ("tag:loop2", {"clip"}),
    # types and extensions
    ("type:image", {"beach", "sunset"}),
    ("type:image/png", {"sunset"}),
    ("type:image/*", {"beach", "sunset"}),
    ("type:text", {"a_b", "axb", "slash", "unicode", "quote"}),
    ("type:audio OR type:video", {"song", "clip"}),
    ("type:application/pdf", {"report"}),
    ("-type:text", ALL - {"a_b", "axb", "slash", "unicode", "quote"}),
    ("ext:jpg", {"beach"}),
    ("ext:.PNG,mp3", {"sunset", "song"}),
    ("ext:y", {"xy"}),
    # sizes
    ("size:>10MB", {"sunset", "clip"}),
    ("size:<=10", {"a_b", "axb", "unicode", "xy", "quote", "draft"}),
    ("size:=0", {"xy"}),
    ("size:1MB..5MB", {"beach", "song"}),
    ("size:>=1GB", {"clip"}),
    ("-size:<1KB", {"beach", "sunset", "report", "song", "clip"}),
    # modification dates (read in UTC here)
    ("modified:<2024-01-01", ALL - {"beach", "report"}),
    ("modified:2024-01-01", {"report"}),
    ("modified:2023-12", {"sunset"}),
    ("modified:>=2024", {"beach", "report"}),
    ("modified:2022..2023", {"a_b", "axb", "sunset"}),
    ("modified:>2024-01", {"beach"}),
    # hashes: NULL hashes are not "ab…", so a negated hash filter includes them
    ("hash:ab", {"beach", "sunset"}),
    ("hash:AB12", {"beach"}),
    (f"hash:{SHA_C}", {"a_b"}),
    ("-hash:ab", ALL - {"beach", "sunset"}),
    ("hash:ff", set()),
    # prefix ranges: the next prefix up carries past "f" (PostgreSQL reads an index range)
    ("hash:ab3", {"sunset"}),
    ("hash:ccf", set()),
    ("hash:c", {"a_b"}),
    ("hash:cd5", {"a_b"}),
    ("hash:f", set()),
    ("hash:a", {"beach", "sunset"}),
    # path globs: whole path, * crosses folders, the rest literal, case as in the path
    ("path:/docs/*", {"report", "a_b", "axb"}),
    ("path:/docs/a_b.txt", {"a_b"}),
    ("path:/docs/a?b.txt", {"a_b", "axb"}),
    ("path:/DOCS/*", set()),
    ("path:*.txt", {"a_b", "axb", "unicode", "quote"}),
    ("path:*.TXT", set()),
    ("path:*/Beach*", {"beach"}),
    ("path:/photos/*/beach*", {"sunset"}),
    ("path:/misc/[draft]*", {"draft"}),
    ("path:*[d*", {"draft"}),
    ('path:"*/?draft] Plan"', {"draft"}),
    ("path:*100%*", {"report"}),
    ("path:/docs", set()),
    ("path:/misc/x.?", {"xy"}),
    ('path:"*/back\\slash.md"', {"slash"}),
    ("-path:/docs/*", ALL - {"report", "a_b", "axb"}),
    # everything together
    ("(beach OR song) -tag:sunset type:image", {"beach"}),
    ("photos OR docs size:<1KB", {"a_b", "axb"}),
    ("tag:holiday OR hash:cd", {"song", "beach", "sunset", "a_b"}),
]


async def test_queries_find_exactly_the_matching_files(database: Database) -> None:
    await _populate(database)
    wrong = []
    for query, expected in CASES:
        found = await _search(database, query)
        if found != expected:
            wrong.append(f"{query!r}: found {sorted(found)}, expected {sorted(expected)}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_short_words_fold_case_as_the_server_does_in_non_ascii_paths(
    database: Database,
) -> None:
    # Short words test every path with an ASCII-only ILIKE first; a path that is not all
    # ASCII must still get the server's own folding. Its locale folds the Kelvin sign
    # (U+212A) to "k", which ASCII folding cannot: only the fallback finds this file.
    kelvin = "/misc/\u212aelvin.txt"
    await _populate(database)
    async with database.session() as session:
        await session.execute(sa.insert(File), [_row(kelvin, "text/plain", 1, 0, None)])
    assert await _search(database, "KE") == {kelvin}
    assert await _search(database, "ke") == {kelvin}
    # Other short words fold ASCII only, which is exact: no other character outside
    # ASCII lower-cases to an ASCII letter, and the ASCII around them still folds.
    accents = "/misc/\u00c9t\u00e9 QZ \u00e0 \u0130stanbul.txt"
    async with database.session() as session:
        await session.execute(sa.insert(File), [_row(accents, "text/plain", 1, 0, None)])
    assert await _search(database, "qz") == {accents}
    assert accents in await _search(database, "\u00e9 q")  # "é" is not ASCII: full ILIKE
    assert accents in await _search(database, "is")  # U+0130 + "s": the full ILIKE
    # A word without an "i" or a "k" gets no second ILIKE.
    assert " OR " not in str(search_condition("qz", Backend.POSTGRESQL))


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_an_alternative_too_short_for_the_index_tests_the_others_per_row(
    database: Database,
) -> None:
    """``qz OR desk``: no index answers ``qz``, so every path is tested, and ``desk`` is
    tested the way a walk tests it (ASCII folding under "C", the locale's ILIKE only for
    a path holding U+0130 or the Kelvin sign). It finds what each word finds alone."""
    paths = [
        "/misc/Desk.txt", "/misc/Kiosk.txt", "/misc/QZ.txt", "/misc/Désk.txt",
        "/misc/İmg.png", "/misc/IMG_1.png", "/misc/other.txt",
    ]  # fmt: skip
    await _add_texts(database, paths)
    for short, other in (("qz", "desk"), ("qz", "kiosk"), ("zz", "img"), ("qz", "ésk")):
        alone = await _search(database, short) | await _search(database, other)
        assert await _search(database, f"{short} OR {other}") == alone, other
        assert alone, other
    either = str(search_condition("qz OR desk", Backend.POSTGRESQL))
    assert either.count('COLLATE "C"') >= 2, either  # both words folded under "C"
    # A word alone, or beside an indexed one, keeps the form the trigram index answers.
    assert 'COLLATE "C"' not in str(search_condition("desk OR beach", Backend.POSTGRESQL))


def test_the_characters_fts5_folds_into_ascii_are_known() -> None:
    """``FTS_FOLDS_INTO_ASCII`` against the SQLite in use: every character of the Basic
    Multilingual Plane outside ASCII, in a trigram FTS5 table, asked for by each printable
    ASCII character. A newer SQLite that folds more would fail here, not find less."""
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='trigram')")
    outside = [cp for cp in range(0x80, 0x10000) if not 0xD800 <= cp <= 0xDFFF]
    connection.executemany(
        "INSERT INTO t(rowid, x) VALUES (?, ?)", ((cp, f"q{chr(cp)}q") for cp in outside)
    )
    folded: dict[str, str] = {}
    for char in map(chr, range(0x21, 0x7F)):
        phrase = fts_phrase(f"q{char}q")
        for (cp,) in connection.execute("SELECT rowid FROM t WHERE t MATCH ?", (phrase,)):
            if char.lower() == char:  # "K" and "k" find the same: keep the lower case
                folded[char] = chr(cp)
    assert folded == FTS_FOLDS_INTO_ASCII


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_words_tested_on_rows_find_what_fts5_finds(database: Database) -> None:
    """``compile_query(words_per_row=True)``: LIKE on each path, and FTS5 for a path
    holding a character it folds into the word (the Kelvin sign, the long s)."""
    paths = [
        "/misc/Desk.txt", "/misc/\u212aiosk.txt", "/misc/de\u017fk.txt", "/misc/D\u00e9sk.txt",
        "/misc/100%_desk.txt", "/misc/imgs/a.png", "/misc/\u00e9t\u00e9/IMG.png",
    ]  # fmt: skip
    await _add_texts(database, paths)
    for query in ("desk", "kiosk", "img", "sk.", "100%_", "desk img", "\u00e9t\u00e9"):
        conditions = [
            compile_query(parse(query), database.backend, words_per_row=per_row)
            for per_row in (False, True)
        ]
        async with database.session() as session:
            found = [
                set((await session.scalars(sa.select(File.file_path).where(c))).all())
                for c in conditions
            ]
        assert found[0] == found[1], query
    assert "instr" not in str(compile_query(parse("img"), Backend.SQLITE, words_per_row=True))


async def test_modified_reads_dates_in_the_given_time_zone(database: Database) -> None:
    await _populate(database)
    # "sunset" is 2023-12-31 23:00 UTC and "report" 2024-01-01 00:00 UTC.
    east, west = timezone(timedelta(hours=1)), timezone(timedelta(hours=-1))
    assert await _search(database, "modified:2024-01-01", tz=UTC) == {"report"}
    assert await _search(database, "modified:2024-01-01", tz=east) == {"sunset", "report"}
    assert await _search(database, "modified:2024-01-01", tz=west) == set()
    assert await _search(database, "modified:2023-12-31", tz=west) == {"sunset", "report"}


async def test_index_follows_inserts_renames_and_deletes(database: Database) -> None:
    await _populate(database)
    async with database.session() as session:
        await session.execute(sa.insert(File), [_row("/new/zebra.gif", "image/gif", 5, 0, None)])
    assert await _search(database, "zebra") == {"/new/zebra.gif"}

    async with database.session() as session:
        await session.execute(
            sa.update(File)
            .where(File.file_path == "/new/zebra.gif")
            .values(filename="okapi.gif", file_path="/new/okapi.gif")
        )
        # A write that leaves the searched columns as they were must not disturb the index.
        await session.execute(sa.update(File).values(file_size=File.file_size + 1))
    assert await _search(database, "zebra") == set()
    assert await _search(database, "okapi") == {"/new/okapi.gif"}

    async with database.session() as session:
        await session.execute(sa.delete(File).where(File.file_path.in_(["/new/okapi.gif"])))
        await session.execute(sa.delete(File).where(File.file_path == FILES["song"][0]))
    assert await _search(database, "okapi") == set()
    assert await _search(database, "song OR clip") == {"clip"}
    async with database.session() as session:
        await check_search_index(session)


def test_the_next_hex_prefix_carries() -> None:
    prefixes = ("ab", "a9", "af", "f9f", "0")
    assert [next_hex_prefix(p) for p in prefixes] == ["ac", "aa", "b", "fa", "1"]
    assert next_hex_prefix("ff") is None


@pytest.mark.parametrize("backend", list(Backend))
def test_an_implied_filter_is_no_condition(backend: Backend) -> None:
    """``implied``: the nodes a page answers another way (a type filter read as one walk
    per type) are left out; the others stay."""
    node = parse("type:image size:>10")
    kind = node.items[0]  # type: ignore[attr-defined]
    full = str(compile_query(node, backend))
    left = str(compile_query(node, backend, implied=frozenset({id(kind)})))
    assert "content_type" in full and "content_type" not in left
    assert "file_size" in left
