"""Which index should answer one page of a search (PostgreSQL decides mostly alone).

A page is "the first 201 matches in sort order". Two ways to get them:

* **walk** the sort index (migration 0005) and test each entry — cheap when matches are
  common, since 201 of them come soon; ruinous when they are rare (the whole index);
* **seek** the matches through one filter's own index (FTS5, content_type, file_tags, …)
  and sort them — cheap when they are few, ruinous when there are 300k to sort.

PostgreSQL weighs the two with its statistics. SQLite has none in a FileMeta library and
always seeks, so at 1M files ``type:image`` or a common word took 150-250 ms. So we ask:
each top-level filter that has an index is counted through it, up to ``PROBE_CAP`` rows
(a fraction of a millisecond each). The most selective one under the cap is the way in;
when none is, the page walks the sort index and every filter is tested on the way
(``query_sql``'s ``open_nodes``: the others are written so SQLite cannot use their index).

Counts and anchors read every match, not the first 201. Their choices are here too
(``anchors_listed_first``; and for a query that only excludes, ``excluded_through_index``,
``hashed_exclusion``, ``excluded_tag_rowids``): no index finds the files *without* X, but
X's own index finds the ones to leave out.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from filemeta_gui.db.models import File, FileTag
from filemeta_gui.domain.enums import Backend, SortColumn
from filemeta_gui.domain.query import (
    And,
    ExtFilter,
    HashFilter,
    ModifiedFilter,
    Node,
    Not,
    Or,
    PathFilter,
    SizeFilter,
    TagFilter,
    Term,
    TypeFilter,
    tag_filters,
)
from filemeta_gui.domain.records import PageRequest
from filemeta_gui.repositories import keyset
from filemeta_gui.repositories.base import among_ids
from filemeta_gui.repositories.files import live, sort_column_name, sort_expression
from filemeta_gui.repositories.query_sql import (
    FILES_ROWID,
    FTS_MIN_CHARS,
    FTS_TABLE,
    compile_query,
    fts_expression,
    fts_match_clause,
    read_as_union,
    rowids_where,
    tag_tree,
    trigram_word,
)

PROBE_CAP = 2_000
"""Seek when a filter matches fewer rows: reading and sorting 2,000 rows takes ~2 ms."""
UNCOVERED_SEEK = 20_000
"""Seek below this many matches for filters the sort indexes do not carry (see plan_page)."""
ROW_TEST_MIN = 20_000
"""A walk tests a tag per row when it is on at least this many files (see plan_page)."""
TAG_SEEK = 10_000
"""PostgreSQL reads a tag on fewer files whole (see _plan_postgresql)."""
COMMON_WORDS = 20_000
"""SQLite: plain words in at least this many files are walked on from a cursor by testing
rows first (``PagePlan.word_window``)."""
TOGETHER_COUNT_MAX = 60_000
"""SQLite: several filters side by side are each counted at most this far
(``_together_cap``)."""
SEEK_US_PER_ROW = 3.0
"""SQLite: reading one file of the way in by rowid and testing the other filters on it, in
µs (``ext:pdf report`` through the 21.6k files holding ``report``: 66 ms)."""
WALK_US = 0.4
"""SQLite: testing filters on one entry of a sort index that carries what they test, in µs
(``ext:pdf report`` walked ~750k entries of the name index in 300 ms)."""
WALK_US_ON_ROWS = 2.0
"""SQLite: the same where a word is tested on the table row of each entry."""
PATH_WALK_PER_MATCH = 2.0
"""SQLite, orders whose index holds the path: entries a plain word's walk tests per
match, before it builds the set of the matches instead. Measured at 1M files: testing an
entry costs ~0.3 µs, and putting a match into the set ~0.7 µs."""
PATH_WORD_WINDOW = 200_000
"""The entries such a walk tests when the word is in ``COMMON_WORDS`` files or more, which
is as far as it is counted (60-80 ms at 1M files; counting all 193k matches of ``img``
would take 10-25 ms more)."""
WHOLE_READ_MATCHES = 32_000
"""SQLite, orders whose index holds the path: plain words in fewer files are read whole
and sorted when their walk's first window holds none of them (``PagePlan.whole_read``),
~1.7 µs a match at 1M files, where walking on may pass the whole index (~0.3-0.5 µs an
entry). Their count goes this far: for a word in more files, 1-3 ms more than counting to
``COMMON_WORDS`` (``img``, ``2019``)."""
TYPE_RUN_ORDERS = frozenset({SortColumn.NAME, SortColumn.TYPE})
"""The orders in which each type's files form one run of an index (``_type_runs``)."""
TYPE_RUNS_MAX = 100
"""A type filter merges at most this many types' runs (``PagePlan.type_runs``); a library
holds a few dozen types."""
PAGE_ROWS = PageRequest().limit + 1
"""Rows a first page reads: the page, and one more telling whether another follows."""
NAME_INDEX = "ix_files_sort_filename"
"""PostgreSQL: the plain name index, which its own walk of a name-order page reads."""
SORT_INDEXES = "ix_files_sort_"
"""PostgreSQL: the prefix of every sort index's name (migration 0005)."""
WALK_BUDGET_MS = 80
"""PostgreSQL: the least time a walk for a word gets before the matches are read whole
instead (``PagePlan.walk_budget_ms``)."""
SEEK_US_PER_MATCH = 4.0
"""PostgreSQL: reading one match of a word through the trigram index and sorting it, in
µs. Measured at 1M files: ``pdf`` (24.6k matches) 102 ms, ``screenshot`` (29.8k) 119 ms,
``beach`` (10.6k) 33-35 ms, ``img`` (193k) 448 ms. It was 6.0 until the thirteenth session:
walks the budget then cut were read whole after up to 1.5 times as long as that took
(``screenshot`` in size, type or folder order: 295-377 ms, now 231-254)."""
SEEK_MAX_MATCHES = 50_000
"""PostgreSQL, a word in type order: the planner expects it in more files, so reading them
all would take longer than most walks (``img``: 448 ms), and the types holding them are
read in turn instead (``_types_holding``)."""
WHOLE_RUN_MATCHES = 3_000
"""PostgreSQL, a common word in type order: a type holding at most this many of its
matches has them read whole and sorted (``PagePlan.whole_runs``), ~20 ms at most
(``SEEK_US_PER_MATCH``), whatever share of the type they are."""

APART_BELOW = 5_000
"""An alternative of an OR in fewer files is read apart (``alternatives_apart``): through
its own index, 5,000 matches are read and sorted in ~10-20 ms."""

_FILTER_COLUMNS: dict[type, str] = {
    TypeFilter: "content_type",
    ExtFilter: "extension",
    SizeFilter: "file_size",
    ModifiedFilter: "mtime_ns",
    HashFilter: "hash_value",
    PathFilter: "file_path",
    TagFilter: "",
}


@dataclass(frozen=True, slots=True)
class PagePlan:
    """How SQLite answers a page: see the module docstring."""

    open_nodes: frozenset[int] | None = None
    """``id()`` of the query nodes that may use their index (None: any)."""
    row_tests: frozenset[int] = frozenset()
    """``id()`` of tag filters to test per walked row rather than as one set of ids."""
    bounded_walk: bool = False
    """Walk only a part of the sort index, then scan the table (``keyset.walk_then_scan``)."""
    seek: bool = False
    """Find the rows through one filter's index and sort them (no sort index walked)."""
    tag_ids: Mapping[int, tuple[uuid.UUID, ...]] = field(default_factory=dict)
    """PostgreSQL: the ids of each top-level tag filter's tree, by the filter's ``id()``."""
    word_window: tuple[int, int] | None = None
    """Plain words (SQLite): test them on the rows of the first ``[0]`` entries of the
    walk, and of up to ``[1]`` more if the matches found say so, then walk on against their
    set of FTS5 matches (``keyset.window_then_walk``, ``compile_query(words_per_row=True)``)."""
    whole_read: bool = False
    """With ``word_window``: the words are in fewer than ``WHOLE_READ_MATCHES`` files, so
    if the first window holds none of them, they are read whole and sorted rather than
    walked on for. At 1M files the first ``screenshot`` (29.8k files) is 448k entries down
    the name index: walked on for, its page took 256 ms."""
    short_path_walk: bool = False
    """Words, with type and extension filters (PostgreSQL, name order): walk the name
    indexes that carry the path, testing each entry (``keyset.short_path_statement``,
    ``compile_query(words_per_row=True)``)."""
    type_runs: tuple[str, ...] | None = None
    """A type filter, in name order (on PostgreSQL also in type order, and beside size and
    date filters): the live files' types it matches, each read in the sort order from its
    own range of an index, merged in name order (``keyset.type_runs_statement``) and one
    after the other in type order (``_type_runs``). Also, on PostgreSQL, the types holding
    a common word's matches, for its first page in type order (``_types_holding``)."""
    whole_runs: frozenset[str] = frozenset()
    """Of ``type_runs`` (a common word in type order): those read whole and sorted rather
    than walked, as holding few of its matches (``WHOLE_RUN_MATCHES``). At 1M files,
    ``2019`` holds 109 of the 33k ``application/octet-stream`` files: walked, their run
    took 58 ms; read whole, 17 ms."""
    implied: frozenset[int] = frozenset()
    """``id()`` of the type filter that ``type_runs`` answers, compiled as no condition:
    each run is of one of its types, and PostgreSQL's planner, taking the two conditions
    on the type for independent, expected too few matches per run and read them all
    (``modified:2019 type:audio`` at 1M files: 28 ms, against 6 ms walking the runs, as
    one statement)."""
    walk_budget_ms: int | None = None
    """PostgreSQL, words in an order other than the name, where the planner walks the sort
    index, and type runs beside size and date filters: stop the walk after this long and
    read the matches whole instead (``FileRepository.page``; see ``_walk_budget``)."""


async def plan_page(
    session: AsyncSession,
    node: Node,
    sort: SortColumn,
    backend: Backend,
    continuing: bool = False,
) -> PagePlan:
    """Either seek through the one most selective filter (fewer than ``PROBE_CAP``
    matches), or walk the sort index with only the filters on the sort column itself
    narrowing the walk to a range of it.

    A walk tests a word of 1-2 characters against the table row of every entry it passes
    (no index knows them): ~2 µs each, so a rare one would take seconds over 1M files.
    Such walks are bounded (``keyset.walk_then_scan``); past the bound a scan is cheaper.
    So is a size, date, hash or path filter, which the sort indexes do not carry: those
    seek below ``UNCOVERED_SEEK`` matches (reading and sorting 20k rows, ~15 ms, against
    walking ~10k entries at ~2 µs each to find 201 of them).

    A walk tests other filters against a set of matching ids built once (~0.3-1 µs per
    match), except a tag on ``ROW_TEST_MIN`` files or more, whose links are looked up per
    walked entry instead (~1.5 µs each, but a few thousand entries find 201 of them).
    Measured at 1M files: a tag on 96k files 5 ms that way against 96 ms for the set, a
    tag on 4.8k files 16 ms as a set against 65 ms per row.

    ``continuing``: the page starts at a cursor. Plain words in ``COMMON_WORDS`` files or
    more, walked on from there, are tested on the rows of a short walk first
    (``PagePlan.word_window``): their matches cluster in name order, and the page before
    ended on one. Fewer matches make a set cheap enough (``beach``, 10.6k files at 1M:
    31-36 ms a page either way, 45-54 ms when tested on rows first).

    In the orders whose index holds the path (``keyset.PATH_CARRIED``: name, folder),
    testing a word on an entry reads no table row, so every page of plain words walks so
    first, ``PATH_WALK_PER_MATCH`` entries per match. At 1M files, the first page of
    ``img`` (193k matches, the first 169k entries down) took 162-243 ms p50 through the
    set, and 99-104 ms walked (the walk alone, as one statement: 57-82 ms).

    On both backends a type filter alone, in name order, reads each matching type's run
    of ``ix_files_type_name`` (migration 0010) and merges them: the first video at 1M
    files is 400k entries down the name index, which the walk passed in 42-52 ms.
    PostgreSQL does so in more cases (``_type_runs``).
    """
    if (runs := await _type_runs(session, node, sort, backend, continuing)) is not None:
        return runs
    if backend is not Backend.SQLITE:
        return await _plan_postgresql(session, node, sort, backend, continuing)
    items = _top_level(node)
    best: tuple[int, Sequence[Node]] | None = None
    row_tests: set[int] = set()
    groups = _candidates(items)
    # Two filters together match fewer files than either, and a walk may pass the whole
    # index to find 201 of them (tag:reef beach: 4.8k and 10.6k files, ~50 together,
    # 0.3 s walked at 1M files). Then the rarer is the way in whenever it is under
    # UNCOVERED_SEEK: reading and sorting that many rows is bounded. Above it, their
    # shares of the library decide (_rare_together).
    several = len(groups) > 1
    words = _plain_ascii_words(items)  # then ``groups`` is the one group of them
    # The index of these orders also holds the type and extension: words beside such
    # filters are tested in it the same way (_words_with_carried_filters).
    carried = sort in keyset.PATH_CARRIED and (words or _words_with_carried_filters(items))
    word_cap = COMMON_WORDS if words and (continuing or carried) else 0
    word_window: tuple[int, int] | None = None
    whole_read = False
    files, per_entry = 0, WALK_US
    together = 0  # several filters: each counted this far for _rare_together
    if several:
        files = int(await session.scalar(text("SELECT max(rowid) FROM files")) or 0)
        per_entry = _walk_us(groups, sort)
        together = _together_cap(len(groups), files, per_entry)
    counted: list[tuple[int, bool, Sequence[Node]]] = []
    column = sort_column_name(sort)
    for group in groups:
        tag = isinstance(group[0], TagFilter)
        uncovered = type(group[0]) in _UNCOVERED or several
        seek_below = UNCOVERED_SEEK if uncovered else PROBE_CAP
        cap = max(ROW_TEST_MIN, seek_below, together) if tag else max(seek_below, together)
        # Words walked through the path counted further: whether to read them whole.
        worded = carried and isinstance(group[0], Term)
        counted_to = max(word_cap, WHOLE_READ_MATCHES) if worded else word_cap or cap
        count = await _capped_count(session, group, backend, counted_to)
        counted.append((count, count >= (word_cap or cap), group))
        if worded:
            walked = max(1, int(count * PATH_WALK_PER_MATCH))
            whole_read = count < WHOLE_READ_MATCHES
            # Matches spread evenly fill a window of twice as many entries from ~10k on
            # (201 / share <= 2 × count at 1M files); for more than can be read whole, a
            # wider window is cheaper than walking on against their set.
            common = count >= COMMON_WORDS and not whole_read
            word_window = (PATH_WORD_WINDOW,) * 2 if common else (walked, walked)
        elif word_cap and count >= COMMON_WORDS:
            word_window = (keyset.WORD_WINDOW, keyset.WORD_WALK_MAX)
        # A filter on the sort column is a range of the walk, read in order: the walk
        # passes its matches only (``size:>100MB`` by size at 1M files: 62-98 ms read
        # whole and sorted).
        ranged = _walk_range(group[0]) == column
        if count < seek_below and not ranged and (best is None or count < best[0]):
            best = (count, group)
        elif tag and count >= ROW_TEST_MIN:
            row_tests.add(id(group[0]))
    if best is None and several:
        best = _rare_together(counted, files, per_entry)
    row_tests.update(_negated_tags(items))
    if best is not None:  # a big tag beside it is still tested per row, not as a set
        return PagePlan(frozenset(id(item) for item in best[1]), frozenset(row_tests), seek=True)
    opened = frozenset(id(item) for item in items if _walk_range(item) == column)
    bounded = _tested_on_rows_only(node)
    return PagePlan(
        opened, frozenset(row_tests), bounded, word_window=word_window, whole_read=whole_read
    )


def _negated_tags(items: Sequence[Node]) -> list[int]:
    """SQLite: ``id()`` of the tag filters of top-level ``-tag:`` items, to test per row.

    As a set, ``-tag:people`` (96k files at 1M) first gathered every tagged file: 80 ms a
    page. Per row, a page tests ~220 entries for 201 untagged files (~1.5 µs each). Even a
    tag on 99% of the files would take 201 / 1% = 20k probes (30 ms), against a set of
    990k. Counts still build the set: they test every file.
    """
    negated = (item.item for item in items if isinstance(item, Not))
    return [id(item) for item in negated if isinstance(item, TagFilter)]


def _walk_us(groups: Sequence[Sequence[Node]], sort: SortColumn) -> float:
    """SQLite: the cost of testing ``groups`` on one entry of the walk, in µs."""
    words = any(isinstance(item, Term) for group in groups for item in group)
    return WALK_US_ON_ROWS if words and sort not in keyset.PATH_CARRIED else WALK_US


def _together_cap(filters: int, files: int, per_entry: float) -> int:
    """How far each of ``filters`` side by side is counted for ``_rare_together``.

    Reading the rarest filter's ``a`` files beats the walk when ``a × SEEK_US_PER_ROW`` is
    under ``per_entry × 201 / share``, the share being the product of every filter's
    share of the ``files``. Each filter is in ``a`` files or more, so only an ``a`` under
    the (filters+1)-th root of ``per_entry × 201 × files^filters / SEEK_US_PER_ROW`` can:
    ~30k at 1M files for two filters on the name index. Counting no further than that
    keeps what ``type:image 2019`` pays for asking to 3-4 ms more (counting ``2019`` up to
    60k took 14-16 ms).
    """
    reach = per_entry * PAGE_ROWS / SEEK_US_PER_ROW * float(files) ** filters
    return min(TOGETHER_COUNT_MAX, int(reach ** (1 / (filters + 1))) + 1)


def _rare_together(
    counted: Sequence[tuple[int, bool, Sequence[Node]]], files: int, per_entry: float
) -> tuple[int, Sequence[Node]] | None:
    """SQLite, several filters each in ``UNCOVERED_SEEK`` files or more: the rarest (not a
    tag) as the way in after all, when the walk for 201 files matching them all would
    likely be longer than reading the rarest's files.

    Together they may match few files: ``ext:pdf report`` (24.6k and 21.6k files at 1M,
    2,120 together, which sort late) walked ~750k entries of the name index in 300 ms;
    read through the 21.6k files holding ``report`` it takes 66 ms. The walk's length is
    guessed as if the filters were independent (the product of their shares of the
    library). A filter counted to its cap (``counted``'s flag) counts as in that many
    files, so the walk may be shorter than guessed; but reading the rarest stays bounded
    (under the cap, ~90 ms at 1M files), where a walk the guess got wrong passes the whole
    index: ``ext:pdf 2019`` (24.6k files, and ``2019`` past the cap in 55k) walked 268 ms,
    and reads through ``ext:pdf`` in ~70. When the rarest reaches its cap, every filter is
    common and the page walks. Filters that are not independent fool the guess either
    way: ``ext:pdf report`` by type walked in 39 ms, since PDFs come early in type order
    and hold most reports; read through ``report`` it takes 63 ms.
    """
    if files <= 0:
        return None
    ways_in = [item for item in counted if not isinstance(item[2][0], TagFilter)]
    if not ways_in:
        return None
    count, capped, group = min(ways_in, key=lambda item: item[0])
    if capped:
        return None
    rarest = (count, group)
    share = 1.0
    for counted_files, _, _ in counted:
        share *= min(counted_files, files) / files
    walked = PAGE_ROWS / max(share, 1e-12)
    return rarest if rarest[0] * SEEK_US_PER_ROW < walked * per_entry else None


async def _plan_postgresql(
    session: AsyncSession, node: Node, sort: SortColumn, backend: Backend, continuing: bool
) -> PagePlan:
    """PostgreSQL has statistics, but assumes the matches of a filter spread evenly through
    the sort order, so it walks the sort index expecting 201 of them soon. Files over
    100 MB (videos, which sort late by name) do not: at 1M files
    ``size:>100MB`` walked 400k entries in 250 ms, where reading its 15k matches and
    sorting them takes 17-22 ms. So a size or date filter with fewer than
    ``UNCOVERED_SEEK`` matches (counted through its index, ~3 ms) is read whole and
    sorted (``keyset.statement``), except in its own order, where its matches are a
    range of the sort index, in order.

    So is a tag on fewer than ``TAG_SEEK`` files (counting its links costs ~0.25 us
    each, so a common tag pays ~2.5 ms to be told apart). The planner cannot see through
    the recursive tag tree, so each top-level tag filter's tree is read first and handed
    to it as values (``compile_query``'s ``tag_ids``). At 1M files, a tag on 4.8k files
    took 78-122 ms walked and 30-50 ms read whole this way; read whole through the tree,
    which the planner took for a few rows, 480 ms. A tag in no file walked all 1M names
    (2 s). A path prefix the planner already reads through the path index, and a hash
    prefix through the hash index (17 ms for ``hash:ab``).

    Words in name order, alone or with type and extension filters, walk the indexes of
    migration 0008 (which carry the path, the type and the extension) wherever the
    planner would walk the plain name index itself, reading the table row of every entry
    it passes: common words cluster late in name order (camera names, extensions), and at
    1M files the first matches of ``img`` are 169k entries down; ``src`` or ``pdf`` took
    1.2 s so, ``type:video -beach`` 0.5 s. Where the planner expects few matches, it reads
    them through the trigram index and sorts them, and keeps that plan (``zanzibar``:
    0.6 ms, where a walk would pass all 1M entries; ``ext:pdf report``: 19 ms); a rare
    word of 1-2 characters, which no index knows, is scanned for in parallel (``qz``:
    250-260 ms, against 255-320 for a walk of the whole index). Asking the planner costs
    ~1 ms; an estimate of the words' share alone could not see that a filter beside them
    narrows the matches (``ext:pdf report`` walked took 190 ms).

    In the other orders, a walk the planner takes for words gets a time budget, past which
    the matches are read whole (``_walk_budget``).
    """
    items = _top_level(node)
    walkable = sort is SortColumn.NAME and _walked_in_name_order(node)
    if walkable and await _planner_walks_names(session, compile_query(node, backend)):
        return PagePlan(short_path_walk=True)
    tag_ids = await tree_ids(session, node)
    for item in items:
        if isinstance(item, TagFilter):
            carrying = among_ids(FileTag.tag_id, tag_ids[id(item)], "postgresql")
            links = select(FileTag.file_id).where(carrying)
            seek = await _count_up_to(session, links, TAG_SEEK) < TAG_SEEK
        elif _walk_range(item) == sort_column_name(sort):
            continue  # a range of the sort index: its matches come in order
        elif isinstance(item, SizeFilter | ModifiedFilter):
            count = await _capped_count(session, [item], backend, UNCOVERED_SEEK)
            seek = count < UNCOVERED_SEEK
        else:
            continue
        if seek:
            return PagePlan(seek=True, tag_ids=tag_ids)
    budget = None
    if sort is not SortColumn.NAME and any(trigram_word(item) for item in items):
        condition = compile_query(node, backend, tag_ids=tag_ids)
        expected = await _expected_walk(session, condition, sort)
        if sort is SortColumn.TYPE and not continuing and (expected or 0) > SEEK_MAX_MATCHES:
            holding = await _types_holding(session, condition)
            few = frozenset(kind for kind, matches in holding if matches <= WHOLE_RUN_MATCHES)
            kinds = tuple(kind for kind, _ in holding)
            return PagePlan(tag_ids=tag_ids, type_runs=kinds, whole_runs=few)
        budget = _walk_budget(expected, continuing)
    return PagePlan(tag_ids=tag_ids, walk_budget_ms=budget)


async def alternatives_apart(
    session: AsyncSession, items: Sequence[Node], backend: Backend
) -> tuple[Node, ...]:
    """The alternatives of an OR that are in fewer than ``APART_BELOW`` files, found
    through their own index: read apart, a page of each (``LibraryService.page``).

    Tested as one condition, an OR has no index: the page walks the sort order testing
    every alternative on each file until 201 match. Quick when they are common together;
    when they are not, the walk passes the whole library: at 1M files ``qz OR zanzibar``
    took 258 ms on SQLite and 304 ms on PostgreSQL, ``tag:reef OR zanzibar`` 3.9 s on
    PostgreSQL. Each alternative apart is found the way its own page is, and the rest
    stay together, where a common one among them ends the walk soon (``qz OR img``: 110
    ms, against 180 ms for ``qz`` alone). A word of 1-2 characters, or a negation, is
    never apart: no index finds it, and alone it is walked for to the end.

    Counted through the index on SQLite (up to ``APART_BELOW``), and for tags on
    PostgreSQL; otherwise PostgreSQL's estimate (``EXPLAIN``, ~1 ms), within a factor of
    two for words: counting 5,000 matches through the trigram index took 25-40 ms.
    """
    apart = []
    for item in items:
        if not (fts_expression(item) or _indexed_filter(item)):
            continue
        if backend is Backend.SQLITE or isinstance(item, TagFilter):
            few = await _capped_count(session, [item], backend, APART_BELOW) < APART_BELOW
        else:
            few = await _estimated_matches(session, compile_query(item, backend)) < APART_BELOW
        if few:
            apart.append(item)
    return tuple(apart)


def _indexed_filter(item: Node) -> bool:
    return type(item) in _FILTER_COLUMNS and _indexed(item)


async def _estimated_matches(session: AsyncSession, condition: ColumnElement[bool]) -> float:
    """PostgreSQL's estimate of the live files matching ``condition``."""
    steps = await _plan_steps(
        session, select(literal(1)).select_from(File).where(live(), condition)
    )
    return float(steps[0].get("Plan Rows", 0))


async def _planner_walks_names(session: AsyncSession, condition: ColumnElement[bool]) -> bool:
    """Would PostgreSQL find a name-order page of ``condition`` by walking ``NAME_INDEX``
    (rather than reading the matches through another index and sorting them)?"""
    steps = await _first_page_plan(session, condition, (File.filename, File.id))
    return any(step.get("Index Name") == NAME_INDEX for step in steps)


async def _expected_walk(
    session: AsyncSession, condition: ColumnElement[bool], sort: SortColumn
) -> float | None:
    """The matches PostgreSQL expects when it walks the sort index for a first page of
    ``condition`` in ``sort`` order; None when it would not walk it."""
    steps = await _first_page_plan(session, condition, (sort_expression(sort), File.id))
    walks = [
        step
        for step in steps
        if str(step.get("Index Name", "")).startswith(SORT_INDEXES)
        and step.get("Node Type") in ("Index Scan", "Index Only Scan")
    ]
    return float(walks[0].get("Plan Rows", 0)) if walks else None


def _walk_budget(expected: float | None, continuing: bool) -> int | None:
    """How long PostgreSQL's walk of the sort index may take, when it walks one for words.

    Its planner expects a word's matches spread evenly through the sort order, so it walks
    the sort index to find 201 of them soon, testing the word on each entry's row (~2 µs).
    Where they cluster at the far end, the walk passes nearly every file: at 1M files,
    ``pdf`` by type, last first, took 1.98 s (24.6k matches, mostly ``application/pdf``),
    by folder 0.56 s; ``beach`` by size 122 ms, where its matches were read whole and
    sorted in 102 and 35 ms. Which way is faster shows only once the walk has run, so it
    gets as long as reading the matches whole is expected to take (the planner's estimate
    of their number, times ``SEEK_US_PER_MATCH``), at least ``WALK_BUDGET_MS``, and from
    a share of that on the read races it (``race.first_of``): a page takes about as long
    as the faster way. The planner's estimate may be twice the matches: ``pdf`` (24.8k)
    was expected in 50k files, which until the fourteenth session was past
    ``SEEK_MAX_MATCHES`` and kept the walk alone, 552 ms by folder, Z to A.

    A page after the first (``continuing``) walks on from a match, among others as a
    rule, so its walk gets twice as long: ``pdf`` by type, Z to A, took 126-179 ms a
    page walked on, and ~200 ms stopped at 80 ms and read whole.
    """
    if expected is None:
        return None
    return max(_least_budget(continuing), round(expected * SEEK_US_PER_MATCH / 1000))


def _least_budget(continuing: bool) -> int:
    """``WALK_BUDGET_MS``, twice that for a page after the first (see ``_walk_budget``)."""
    return WALK_BUDGET_MS * (2 if continuing else 1)


async def _types_holding(
    session: AsyncSession, condition: ColumnElement[bool]
) -> list[tuple[str, int]]:
    """The types of the live files matching ``condition``, in order, each with how many.

    PostgreSQL, the first page of a word in type order that the planner expects in more
    than ``SEEK_MAX_MATCHES`` files: a walk of the type index passes every file of the
    types before the first match (``img`` by type at 1M files: 0.74-1.2 s, the 272k
    documents and songs first), and reading the matches whole takes ~0.45 s. Finding
    which types hold them reads them too, but in parallel and without sorting (~0.17-0.21
    s for ``img``, counting them as well); then only those types' runs are read, one
    after the other (``FileRepository.page``): walked where they hold many matches, read
    whole where they hold few (``PagePlan.whole_runs``). Pages after the first walk on from
    a match, as before.
    """
    holding = select(File.content_type, func.count()).where(live(), condition)
    holding = holding.group_by(File.content_type).order_by(File.content_type)
    return [(kind, matches) for kind, matches in (await session.execute(holding)).all()]


async def _first_page_plan(
    session: AsyncSession, condition: ColumnElement[bool], order: Sequence[Any]
) -> list[dict[str, Any]]:
    """The steps of PostgreSQL's plan for the keys of a first page (``EXPLAIN``, ~1 ms),
    outermost first."""
    keys = select(File.id).where(live(), condition).order_by(*order)
    return await _plan_steps(session, keys.limit(PAGE_ROWS))


async def _plan_steps(session: AsyncSession, statement: Select[Any]) -> list[dict[str, Any]]:
    """The steps of PostgreSQL's plan for ``statement``, outermost first."""
    connection = await session.connection()
    # Expanding IN lists (``ext:``) written out, as the driver would receive them.
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = tuple(compiled.params[name] for name in compiled.positiontup or ())
    result = await connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", params)
    plan = result.scalar_one()
    steps: list[dict[str, Any]] = []
    pending = [(json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]]
    while pending:
        step = pending.pop()
        steps.append(step)
        pending.extend(step.get("Plans", ()))
    return steps


def _live_types_statement() -> Select[Any]:
    """Each distinct type of the live files, in order: a recursive query that asks the
    index for the next type after the last one found (a loose index scan)."""
    first = select(func.min(File.content_type).label("kind")).where(live())
    found = first.cte("live_types", recursive=True)
    following = select(func.min(File.content_type)).where(live(), File.content_type > found.c.kind)
    found = found.union_all(select(following.scalar_subquery()).where(found.c.kind.is_not(None)))
    return select(found.c.kind).where(found.c.kind.is_not(None))


_LIVE_TYPES = _live_types_statement()
"""Built once: it is the same for every page of a type filter."""


async def _live_types(session: AsyncSession, node: TypeFilter) -> tuple[str, ...] | None:
    """The types of live files that ``node`` matches, or None past ``TYPE_RUNS_MAX``.

    Every distinct type is read, one index probe each (~1 ms for 29 at 1M files), and
    the matching ones kept here: a range of types by prefix would not be one range of the
    index under every PostgreSQL collation, which may ignore the "/".
    """
    if not node.prefixes:
        return (node.value,)
    kinds = (await session.scalars(_LIVE_TYPES.limit(TYPE_RUNS_MAX + 1))).all()
    if len(kinds) > TYPE_RUNS_MAX:
        return None
    return tuple(kind for kind in kinds if kind.startswith(node.prefixes))


async def _type_runs(
    session: AsyncSession, node: Node, sort: SortColumn, backend: Backend, continuing: bool
) -> PagePlan | None:
    """A plan reading each matching type's run in the sort order and merging them
    (``PagePlan.type_runs``), or None.

    On both backends, a type filter alone in name order (``ix_files_type_name``). On
    PostgreSQL also in type order, and beside size and date filters, which the runs test
    on the way: ``LIKE 'image/%'`` narrows no B-tree under a collation other than "C", so
    its planner walked the sort index from the start, reading each row. At 1M files
    through the service, ``modified:2020 type:image`` took 320 ms so in name order and
    670 ms in type order, ``size:<1KB type:video`` 1.1 s in name order, ``type:video`` by
    type 84-109 ms; read as runs, 26-31, 65-70, 32-36 and 18 ms. Files matching a size or
    date filter may be rare among the type's, so those runs get a budget like a word's
    walk (``_walk_budget``), past which every match is read and sorted: counting them
    first cost 10-16 ms, and reading 8-10k matches whole 70-170 ms, where the runs found
    201 of them in 6-7 ms. SQLite ranges over its sort indexes by a type's prefix and
    counts its own filters (5-70 ms at 1M files).
    """
    postgresql = backend is not Backend.SQLITE
    if sort not in (TYPE_RUN_ORDERS if postgresql else (SortColumn.NAME,)):
        return None
    items = _top_level(node)
    kinds = [item for item in items if isinstance(item, TypeFilter)]
    beside = _RUN_BESIDE if postgresql else (TypeFilter,)
    if len(kinds) != 1 or not all(isinstance(item, beside) for item in items):
        return None
    types = await _live_types(session, kinds[0])
    if types is None:
        return None
    budget = _least_budget(continuing) if len(items) > 1 else None
    return PagePlan(type_runs=types, implied=frozenset({id(kinds[0])}), walk_budget_ms=budget)


async def tree_ids(session: AsyncSession, node: Node) -> dict[int, tuple[uuid.UUID, ...]]:
    """PostgreSQL: the ids of each tag filter's tree, by the filter's ``id()``, wherever
    it is in ``node`` (``compile_query``'s ``tag_ids``). Inside an OR, a tag written as
    its recursive tree was a subplan the planner expected to be too big to hash, so it
    searched it for every file: at 1M files ``tag:people OR qz`` took 8.3 s a page, and
    counting ``tag:reef OR zanzibar`` 100 s (0.5 s given the ids)."""
    return {
        id(item): tuple((await session.scalars(tag_tree(item.name))).all())
        for item in tag_filters(node)
    }


def _walked_in_name_order(node: Node) -> bool:
    """Can ``node`` be tested inside ``ix_files_name_short_paths`` (PostgreSQL), and does
    it hold a word? Type and extension filters alone keep the plain name index, which
    carries those columns too."""
    has_word = False
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, And | Or):
            pending.extend(item.items)
        elif isinstance(item, Not):
            pending.append(item.item)
        elif isinstance(item, Term):
            has_word = True
        elif not isinstance(item, TypeFilter | ExtFilter):
            return False
    return has_word


def _plain_ascii_words(items: Sequence[Node]) -> bool:
    """Is the query only words of 3 or more ASCII characters (``img``, ``2019 jpg``)?

    Such a word is found on a row by ``LIKE`` as FTS5 finds it (``query_sql._word_on_row``
    asks FTS5 for the few paths where they differ). At 1M files, the pages after the first
    of ``img`` took 65-130 ms, building the set of its 193k matches, where testing the rows
    that follow the cursor finds 201 in ~1 ms.
    """
    return all(trigram_word(item) and item.text.isascii() for item in items)


def _words_with_carried_filters(items: Sequence[Node]) -> bool:
    """Plain words (as ``_plain_ascii_words``) beside type and extension filters only
    (``img type:image``, ``ext:jpg img``), which every sort index carries.

    SQLite, in the orders whose index holds the path: the words are then tested on the
    path in the index like plain words alone, for a window of the walk
    (``PagePlan.word_window``). Otherwise a word beside a filter was a set of its FTS5
    matches, built before the walk: ``img type:image`` took 110-117 ms at 1M files, where
    ``img`` alone took 50-55.
    """
    words = [item for item in items if isinstance(item, Term)]
    others = [item for item in items if not isinstance(item, Term)]
    return (
        bool(words)
        and _plain_ascii_words(words)
        and all(isinstance(item, TypeFilter | ExtFilter) for item in others)
    )


def excluded_through_index(node: Node) -> Node | None:
    """X when ``node`` only excludes files, as ``-X`` (or ``-X -Y``: X OR Y), and X's files
    are found through an index (tags, words of 3+ characters); else None.

    NOT X is tested on every file, X only on its own: so the files without X are counted
    as all files less X's (at 1M files, ``-tag:people`` 1,111 → 238 ms on SQLite and 437
    → 270 ms on PostgreSQL). A type category is not counted through an index on
    PostgreSQL (its LIKE cannot range the default collation), and there this was slower.
    """
    if isinstance(node, Not):
        excluded = node.item
    elif isinstance(node, And) and all(isinstance(item, Not) for item in node.items):
        excluded = Or(tuple(item.item for item in node.items if isinstance(item, Not)))
    else:
        return None
    found = all(isinstance(leaf, TagFilter) or trigram_word(leaf) for leaf in _leaves(excluded))
    return excluded if found else None


EXCLUSION_WORK_MEM = "32MB"
"""PostgreSQL: ``work_mem`` while an exclusion's ids are hashed (``hashed_exclusion``).
The hash may take twice as much (``hash_mem_multiplier``): some 900k ids."""


async def hashed_exclusion(
    session: AsyncSession, excluded: ColumnElement[bool]
) -> ColumnElement[bool] | None:
    """PostgreSQL: "not ``excluded``" as each file's id tested against the set of the
    excluded files' ids, read once through their index and hashed; None if the planner
    will not hash that set (it would then search it for every file).

    Numbering the files without X (anchors) otherwise tests X on each of them: a tag
    probed in ``file_tags``, a word matched on the path. At 1M files, old then new:
    ``-tag:people`` 1.8 → 0.7 s, ``-beach`` 2.0 → 0.6 s, ``-img`` 1.6 → 1.0 s. The
    ``work_mem`` raised for this lasts until the session's transaction ends.
    """
    await session.execute(text(f"SET LOCAL work_mem = '{EXCLUSION_WORK_MEM}'"))
    # correlate(None): the set is of its own ``files``, not a test of the outer row.
    outside = File.id.not_in(select(File.id).where(excluded).correlate(None))
    steps = await _plan_steps(session, select(literal(1)).select_from(File).where(outside))
    if any("hashed SubPlan" in step.get("Filter", "") for step in steps):
        return outside
    await session.execute(text("SET LOCAL work_mem TO DEFAULT"))
    return None


def excluded_tag_rowids(excluded: Node) -> ColumnElement[bool] | None:
    """SQLite: the files without ``excluded`` if it is made of tags only, as each file's
    rowid tested against the rowids of the tagged files, gathered once; else None.

    A tag filter is a set of file ids (``CHAR(32)``), dearer to probe: at 1M files the
    anchors of ``-tag:people`` hopped through 900k files in 1.2-1.4 s, against 0.7-0.85
    s. A word's FTS5 set holds rowids already: gathered through the table it was slower
    (``-img`` 0.6 → 1.3 s).
    """
    if not all(isinstance(leaf, TagFilter) for leaf in _leaves(excluded)):
        return None
    return FILES_ROWID.not_in(rowids_where(compile_query(excluded, Backend.SQLITE)))


def _leaves(node: Node) -> Iterator[Node]:
    """The items of ``node``'s ANDs and ORs, at any depth (a NOT is one of them)."""
    if isinstance(node, And | Or):
        for item in node.items:
            yield from _leaves(item)
    else:
        yield node


def anchors_listed_first(node: Node, sort: SortColumn) -> bool:
    """SQLite: should the anchors of ``node`` in ``sort`` order list its matches first
    (``FileRepository.anchors``)? When no index narrows it (``_tested_on_rows_only``), or
    a size or date filter is not the sort column: numbered along the sort index, each
    entry's table row is read to test it. Other searches are answered by their own
    index there, and listing their matches first cost 20-100 ms more (``beach``, ``img``,
    ``tag:people``, ``type:video`` at 1M files)."""
    column = sort_column_name(sort)
    ranges = (item for item in _top_level(node) if isinstance(item, SizeFilter | ModifiedFilter))
    return _tested_on_rows_only(node) or any(_walk_range(item) != column for item in ranges)


def _tested_on_rows_only(node: Node) -> bool:
    """Does ``node`` hold a condition no index can narrow, tested on each table row: a
    word of 1-2 characters, or a ``path:`` glob that starts with a wildcard and has no
    literal run FTS could look for (``path:*qz*`` walked all 1M names in 3.2 s)."""
    if isinstance(node, Term):
        return not trigram_word(node)
    if isinstance(node, PathFilter):
        return not _indexed(node)
    if isinstance(node, Or) and read_as_union(node.items):
        return False  # its rows are listed already, each alternative's its own way
    if isinstance(node, And | Or):
        return any(_tested_on_rows_only(item) for item in node.items)
    return isinstance(node, Not) and _tested_on_rows_only(node.item)


def _top_level(node: Node) -> tuple[Node, ...]:
    """The items of a query's top-level AND, or the query itself."""
    return node.items if isinstance(node, And) else (node,)


_UNCOVERED = (SizeFilter, ModifiedFilter, HashFilter, PathFilter)
_RUN_BESIDE = (TypeFilter, SizeFilter, ModifiedFilter)
"""The filters a page of type runs tests on the way (``_type_runs``)."""


def _candidates(items: Sequence[Node]) -> list[Sequence[Node]]:
    """Groups of top-level items one index can answer: all FTS words together, each filter."""
    words = [item for item in items if fts_expression(item)]
    groups: list[Sequence[Node]] = [words] if words else []
    groups += [[item] for item in items if type(item) in _FILTER_COLUMNS and _indexed(item)]
    return groups


def _indexed(item: Node) -> bool:
    if isinstance(item, PathFilter):  # a literal start, or literal runs FTS can narrow
        return item.glob[:1] not in ("*", "?") or any(
            len(run) >= FTS_MIN_CHARS for run in item.glob.replace("?", "*").split("*")
        )
    return True


def _walk_range(item: Node) -> str | None:
    """The column a filter is a range of, when walking that column's index can use it."""
    if isinstance(item, PathFilter) and item.glob[:1] in ("*", "?"):
        return None
    return _FILTER_COLUMNS.get(type(item)) or None


async def _capped_count(
    session: AsyncSession, group: Sequence[Node], backend: Backend, cap: int
) -> int:
    """How many files match ``group``, counted up to ``cap`` inside one index.

    Only an estimate, so files in the bin count too: then no table row is read.
    """
    node = group[0] if len(group) == 1 else And(tuple(group))
    matching: Select[Any]
    if expression := fts_expression(node):
        matching = select(FTS_TABLE.c.rowid).where(fts_match_clause(expression))
    elif isinstance(node, TagFilter):
        matching = select(FileTag.file_id).where(FileTag.tag_id.in_(tag_tree(node.name)))
    else:
        matching = select(literal(1)).select_from(File).where(compile_query(node, backend))
    return await _count_up_to(session, matching, cap)


async def _count_up_to(session: AsyncSession, matching: Select[Any], cap: int) -> int:
    capped = matching.limit(cap).subquery()
    return int(await session.scalar(select(func.count()).select_from(capped)) or 0)
