"""``FileRepository``: lookups, keyset pages, literal search, upserts and duplicate groups."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Subquery,
    and_,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from filemeta_gui.db.errors import query_cancelled
from filemeta_gui.db.models import File, FileTag, Tag
from filemeta_gui.db.types import utcnow
from filemeta_gui.domain.enums import SortColumn
from filemeta_gui.domain.errors import ValidationError
from filemeta_gui.domain.records import PageRequest
from filemeta_gui.repositories import keyset, race
from filemeta_gui.repositories.anchors import hop_statement, numbered_statement, section_count
from filemeta_gui.repositories.base import (
    ID_CHUNK,
    MAX_PARAMETERS,
    BaseRepository,
    among_ids,
    chunked,
    dialect_name,
    rowcount,
    unique_ids,
    upsert_insert,
)
from filemeta_gui.repositories.convert import FILE_COLUMNS

Cursor = tuple[object, uuid.UUID]
ANCHORS_LISTED = 100_000
"""SQLite: anchors ``listed_first`` number the matches alone when fewer (``anchors``)."""
RACE_HEAD_START = 0.1
"""The share of its budget a walk runs alone before reading the matches whole races it
(``race.first_of``): a walk that ends sooner costs no second connection. Racing slows a
walk that would have ended soon after (the two statements and the client share two
cores), so a longer head start helps those and delays the pages whose walk is hopeless;
the read is expected to take the budget, so a tenth of it delays a read that wins by a
tenth. At 1M files, p50 ms with a head start of 8 / 20 / 40 ms: ``screenshot`` by size
149 / 159 / 181, by folder Z to A 152 / 173 / 190; ``beach`` by type 80 / 95 / 45."""
RACE_READ_MAX_MS = 300
"""Budgets up to this long race; a longer one foretells a read slower than most walks
(``img``: 448 ms, its walks 40-260 ms), which then run alone until the budget is spent."""
DuplicateRows = tuple[str, int, list[Row[Any]]]
"""A group's hash, size and rows (plain rows of ``FILE_COLUMNS``, read like ``File``)."""

# Rows per upsert statement: every column of a row is a bind parameter (MAX_PARAMETERS).
UPSERT_BATCH = min(1_000, MAX_PARAMETERS // len(File.__table__.columns))

_SORT_ATTRIBUTES = {
    SortColumn.NAME: "filename",
    SortColumn.FOLDER: "file_path",
    SortColumn.SIZE: "file_size",
    SortColumn.TYPE: "content_type",
    SortColumn.MODIFIED: "mtime_ns",
    SortColumn.INDEXED: "upload_time",
    SortColumn.HASH: "hash_value",
}


def sort_expression(column: SortColumn) -> ColumnElement[Any]:
    """The SQL expression a file list sorted by ``column`` is ordered on."""
    if column is SortColumn.HASH:
        # Unhashed files have NULL; NULL never compares, so a keyset through them would
        # stall. '' sorts them first, before every hex digest, on both backends.
        return func.coalesce(File.hash_value, "")
    attribute: ColumnElement[Any] = getattr(File, _SORT_ATTRIBUTES[column])
    return attribute


def sort_column_name(column: SortColumn) -> str:
    """The ``files`` column a list sorted by ``column`` is ordered on."""
    return _SORT_ATTRIBUTES[column]


def sort_value(row: File | Row[Any], column: SortColumn) -> object:
    """The value of ``sort_expression(column)`` for an already loaded row (a page cursor)."""
    value = getattr(row, _SORT_ATTRIBUTES[column])
    return "" if column is SortColumn.HASH and value is None else value


def live() -> ColumnElement[bool]:
    """Files not in the bin (soft-deleted rows have ``deleted_at``)."""
    return File.deleted_at.is_(None)


class FileRepository(BaseRepository[File]):
    model = File
    noun = "file"

    def __init__(self, session: AsyncSession, racer: race.SessionFactory | None = None) -> None:
        """``racer``: PostgreSQL, sessions of the same library, for a walk under a budget
        to race the read of every match (``race.first_of``) rather than run first."""
        super().__init__(session)
        self.racer = racer

    async def get_by_path(self, path: str) -> File | None:
        """The row at ``path`` (its display text), soft-deleted or not."""
        return await self.session.scalar(select(File).where(File.file_path == path))

    async def by_hash(self, hash_value: str, include_deleted: bool = False) -> list[File]:
        query = select(File).where(File.hash_value == hash_value).order_by(File.file_path)
        return await self._all(query if include_deleted else query.where(live()))

    async def by_content_type(self, content_type: str, limit: int | None = None) -> list[File]:
        query = select(File).where(File.content_type == content_type, live())
        return await self._all(query.order_by(File.file_path).limit(limit))

    async def page(
        self,
        request: PageRequest,
        where: ColumnElement[bool] | None = None,
        include_deleted: bool = False,
        bounded_walk: bool = False,
        seek: bool = False,
        on_rows: ColumnElement[bool] | None = None,
        row_window: tuple[int, int] = (0, 0),
        short_path_walk: bool = False,
        type_runs: Sequence[str] | None = None,
        walk_budget_ms: int | None = None,
        whole_runs: frozenset[str] = frozenset(),
        seekable: ColumnElement[bool] | None = None,
    ) -> tuple[list[Row[Any]], Cursor | None]:
        """One keyset page: rows after ``request.after`` in the requested order, as plain
        rows of every column (read like ``File`` objects, but not tracked by the session).

        Rows with equal sort values are ordered by id, so no row is skipped or repeated
        between pages however many share a value. Returns the rows and the cursor of the
        next page (None after the last page).

        Args:
            bounded_walk: on SQLite, for conditions only the table row can answer: walk a
                bounded part of the sort index, then scan (``keyset.walk_then_scan``),
                unless the sort index holds the path (``keyset.PATH_CARRIED``).
            seek: find the rows through the condition's index and sort them, rather than
                walk the sort index (``repositories.search_plan``).
            on_rows: ``where`` written to be tested on each row: on SQLite for the first
                ``row_window`` entries of the walk (``keyset.window_then_walk``); on
                PostgreSQL for ``short_path_walk``.
            short_path_walk: on PostgreSQL in name order, walk the name indexes that carry
                the path (``keyset.short_path_statement``).
            type_runs: in name or type order, the rows are of these types (which
                ``where`` need not say): read each one's live files in that order, merged
                in name order (``keyset.type_runs_statement``), one after the other in
                type order.
            walk_budget_ms: on PostgreSQL, give the planner's own way (or the type runs)
                this long, then read every match and sort them
                (``search_plan.PagePlan.walk_budget_ms``).
            whole_runs: in type order, the ``type_runs`` whose matches are read whole and
                sorted rather than walked (``search_plan.PagePlan.whole_runs``).
            seekable: with ``on_rows``, ``where`` written so that its own index finds the
                matches, to read them whole when the walk's first window holds none.
        """
        key: ColumnElement[Any] = getattr(File, _SORT_ATTRIBUTES[request.sort])
        limit = max(request.limit, 1)
        base = [] if include_deleted else [live()]
        conditions = base if where is None else [*base, where]
        postgresql = dialect_name(self.session) == "postgresql"
        sections = keyset.sections(key, request, blind=seek and not postgresql)
        # One row more than asked tells whether another page follows, without a COUNT.
        rows: list[Any] = []
        unpathed = request.sort not in keyset.PATH_CARRIED
        if bounded_walk and where is not None and not postgresql and unpathed:
            fetched = (self._plain_rows, self._first_keys, sections, base)
            rows = await keyset.walk_then_scan(*fetched, [where], limit + 1, request.descending)
            sections = []
        if where is not None and not postgresql and len(sections) == 1:
            walked = (self._plain_rows, self._first_keys, sections[0], base)
            if on_rows is not None:
                rows = await keyset.window_then_walk(
                    *walked,
                    [on_rows],
                    [where],
                    limit + 1,
                    request.descending,
                    row_window,
                    [] if seekable is None else [seekable],
                )
                sections = []
        if short_path_walk and where is not None and postgresql and len(sections) == 1:
            tested = [*base, on_rows if on_rows is not None else where]
            rows = await self._plain_rows(
                keyset.short_path_statement(sections[0], tested, limit + 1)
            )
            sections = []
        # Each run is of one type; read any other way, the types are a condition of their
        # own (``where`` may leave them out: ``search_plan.PagePlan.implied``).
        typed = conditions if type_runs is None else [*conditions, File.content_type.in_(type_runs)]
        # The index of name-order runs holds live files only.
        if (
            type_runs is not None
            and not include_deleted
            and where is not None
            and len(sections) == 1
        ):
            run_budget = walk_budget_ms if postgresql else None
            if request.sort is SortColumn.TYPE:
                kinds = reversed(type_runs) if request.descending else type_runs
                rows = await self._runs_in_turn(
                    sections[0], conditions, kinds, limit + 1, run_budget, whole_runs
                )
            elif type_runs:  # else no live file is of those types
                merged = keyset.type_runs_statement(sections[0], conditions, type_runs, limit + 1)
                rows = await self._budgeted(run_budget, merged, sections[0], typed, limit + 1)
            sections = []
        conditions = typed
        # Keys first on PostgreSQL when filtered, and on SQLite walking in folder order: see
        # keyset.py. (A seek on SQLite sorts what the filter's index finds, walking nothing.)
        folder_walk = request.sort is SortColumn.FOLDER and not seek
        keys_first = where is not None and (postgresql or folder_walk)
        budget = walk_budget_ms if keys_first and not seek else None
        for section in sections:
            wanted = limit + 1 - len(rows)
            chosen = keyset.statement(section, conditions, wanted, keys_first, seek and postgresql)
            rows += await self._budgeted(budget, chosen, section, conditions, wanted)
            if len(rows) > limit:
                break
        if len(rows) <= limit:
            return rows, None
        rows = rows[:limit]
        return rows, (sort_value(rows[-1], request.sort), rows[-1].id)

    async def anchors(
        self,
        sort: SortColumn,
        descending: bool,
        every: int,
        where: ColumnElement[bool] | None = None,
        include_deleted: bool = False,
        listed_first: bool = False,
        hop: bool = False,
    ) -> list[Cursor]:
        """The keyset cursor of every ``every``-th row, in the order :meth:`page` walks.

        ``anchors[k]`` is the ``(sort value, id)`` of row ``(k + 1) * every - 1`` (from 0),
        so block ``k + 1`` of the list is ``PageRequest(after=anchors[k], limit=every)``:
        any depth is one keyset query, never an OFFSET scan. One pass over the sort index,
        or over the matches of ``where`` (see ``repositories/anchors.py``).

        ``listed_first`` (SQLite, ``search_plan.anchors_listed_first``): ``where`` is one
        the sort index cannot test, so numbering along it reads each entry's table row
        (at 1M files, ``qz`` by size 2.3 s, ``size:>100MB`` by name 2.0 s). Its matches,
        if fewer than ``ANCHORS_LISTED``, are listed first through whichever index serves
        them, and only those are numbered (0.05-0.23 s).

        ``hop``: ``where`` holds for most files and no index finds them (a query that only
        excludes): hop through the sort index as for the whole library, testing ``where``
        on the way, rather than number every match. Not in type order on SQLite (below).
        """
        conditions = [] if include_deleted else [live()]
        if where is not None:
            conditions.append(where)
        key: ColumnElement[Any] = getattr(File, _SORT_ATTRIBUTES[sort])
        request = PageRequest(sort=sort, descending=descending)
        sections = keyset.sections(key, request)
        dialect = dialect_name(self.session)
        if listed_first and where is not None and dialect == "sqlite":
            listed = await keyset.listed_matches(self._first_keys, conditions, ANCHORS_LISTED)
            if listed is not None:
                sections, conditions = keyset.sections(key, request, blind=True), [listed]
        # SQLite ranges a row-value comparison on its first column only: hopping through a
        # few huge groups of equal values (types) re-reads each from its start (29 s at 1M).
        hop = (hop or where is None) and not (sort is SortColumn.TYPE and dialect == "sqlite")
        found: list[Cursor] = []
        before = 0
        for number, section in enumerate(sections):
            statement = (
                hop_statement(
                    section, conditions, every, before, descending, dialect == "postgresql"
                )
                if hop
                else numbered_statement(section, conditions, every, before)
            )
            found += [(value, file_id) for value, file_id in await self.session.execute(statement)]
            if number + 1 < len(sections):
                before += await self.session.scalar(section_count(section, conditions)) or 0
        return found

    async def search_literal(self, term: str, limit: int = 100) -> list[File]:
        """Files whose path (which ends in the name) contains ``term``, case-insensitively.

        ``%``, ``_`` and ``\\`` in ``term`` are matched as themselves (``autoescape``).
        """
        match = File.file_path.icontains(term, autoescape=True)
        query = select(File).where(match, live()).order_by(File.filename, File.id)
        return await self._all(query.limit(max(limit, 1)))

    async def recent(self, limit: int = 50) -> list[File]:
        query = select(File).where(live()).order_by(File.upload_time.desc(), File.id.desc())
        return await self._all(query.limit(max(limit, 1)))

    async def largest(self, limit: int = 50) -> list[File]:
        query = select(File).where(live()).order_by(File.file_size.desc(), File.id.desc())
        return await self._all(query.limit(max(limit, 1)))

    async def soft_delete(self, ids: Iterable[uuid.UUID]) -> int:
        """Move files to the bin; returns how many were not there already."""
        return await self._set_deleted(ids, File.deleted_at.is_(None), utcnow())

    async def restore(self, ids: Iterable[uuid.UUID]) -> int:
        """Take files out of the bin; returns how many were in it."""
        return await self._set_deleted(ids, File.deleted_at.is_not(None), None)

    async def bulk_upsert(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, uuid.UUID]:
        """Insert files, or update the row already at the same ``file_path``.

        One ``INSERT ... ON CONFLICT (file_path) DO UPDATE`` per batch of rows. Every row
        must name the same columns. An update sets exactly the given columns (never ``id``),
        takes the file out of the bin unless ``deleted_at`` is given, and bumps ``version``.

        Returns:
            The id of every path, new or existing.
        """
        self._require_paths(rows)
        # A path given twice would make one statement update its own row twice (an error on
        # PostgreSQL): the last occurrence wins.
        by_path = {str(row["file_path"]): dict(row) for row in rows}
        columns = _uniform_columns(by_path.values())
        self._check_columns(columns)
        ids: dict[str, uuid.UUID] = {}
        for batch in chunked(by_path.values(), UPSERT_BATCH):
            result = await self.session.execute(self._upsert(batch, columns))
            ids.update({path: id_ for id_, path in result})
        return ids

    async def duplicate_groups(
        self, min_size: int = 1, include_empty: bool = False, limit: int | None = None
    ) -> list[DuplicateRows]:
        """Files sharing a hash, as ``(hash, size, rows)``, biggest reclaimable space first.

        ``limit``: only the first groups (at 1M files with 10% copies there are ~80k
        groups; a screen shows a few dozen).
        """
        return (await self.duplicate_groups_counted(min_size, include_empty, limit))[0]

    async def duplicate_groups_counted(
        self, min_size: int = 1, include_empty: bool = False, limit: int | None = None
    ) -> tuple[list[DuplicateRows], int]:
        """:meth:`duplicate_groups`, and how many groups there are in all (``limit`` aside).

        The GROUP BY runs once (~0.3 s at 1M files); with a ``limit`` it also counts the
        groups as it ranks them. The rows of all groups are one join against it, those of
        the first few are looked up by hash. Each group's rows are put in path order here:
        SQLite sorting the ~20k whole rows of a 100k-file library took longer than
        finding them (0.55 s against 0.28 s), Python sorts each small group in microseconds.
        """
        groups = _duplicate_hashes(min_size, include_empty)
        wasted = groups.c.file_size * (groups.c.copies - 1)
        # With a limit, the window also counts the groups past it.
        counted = [func.count().over()] if limit is not None else []
        ranked = select(groups.c.hash_value, groups.c.file_size, *counted)
        ranked = ranked.order_by(wasted.desc(), groups.c.hash_value).limit(limit)
        found: list[Any] = list((await self.session.execute(ranked)).all())
        order = [(row[0], row[1]) for row in found]
        total = int(found[0][2]) if counted and found else len(found)
        if limit is None:
            on = and_(File.hash_value == groups.c.hash_value, File.file_size == groups.c.file_size)
            rows = await self._plain_rows(select(*FILE_COLUMNS).join(groups, on).where(live()))
        else:
            rows = []
            for hashes in chunked([h for h, _ in order], ID_CHUNK):
                query = select(*FILE_COLUMNS).where(File.hash_value.in_(hashes), live())
                rows += await self._plain_rows(query)
        by_key: dict[tuple[str, int], list[Row[Any]]] = {}
        for row in rows:
            by_key.setdefault((row.hash_value or "", row.file_size), []).append(row)
        # Rows can vanish between the two queries (another client); keep real groups only.
        kept = [
            (h, size, sorted(by_key[(h, size)], key=_by_path))
            for h, size in order
            if len(by_key.get((h, size), ())) > 1
        ]
        return kept, total

    async def duplicate_group_count(self, min_size: int = 1, include_empty: bool = False) -> int:
        """How many groups :meth:`duplicate_groups` would return (one GROUP BY, no rows)."""
        groups = _duplicate_hashes(min_size, include_empty)
        return int(await self.session.scalar(select(func.count()).select_from(groups)) or 0)

    async def tag_names(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[str, ...]]:
        """Tag names of each file (sorted), in one query."""
        wanted = unique_ids(ids)
        names: dict[uuid.UUID, list[str]] = {file_id: [] for file_id in wanted}
        query = (
            select(FileTag.file_id, Tag.name)
            .join(Tag, Tag.id == FileTag.tag_id)
            .where(among_ids(FileTag.file_id, wanted, dialect_name(self.session)))
            .order_by(Tag.name)
        )
        for file_id, name in await self.session.execute(query):
            names[file_id].append(name)
        return {file_id: tuple(found) for file_id, found in names.items()}

    async def _all(self, query: Select[Any]) -> list[File]:
        return list((await self.session.scalars(query)).all())

    async def _plain_rows(self, query: Select[Any]) -> list[Row[Any]]:
        return list((await self.session.execute(query)).all())

    async def _runs_in_turn(
        self,
        section: keyset.Section,
        conditions: list[ColumnElement[bool]],
        kinds: Iterable[str],
        wanted: int,
        budget_ms: int | None,
        whole: frozenset[str] = frozenset(),
    ) -> list[Row[Any]]:
        """Type order: up to ``wanted`` rows of ``section``, one type's run after another
        (``kinds`` in the section's order), each under ``budget_ms`` if given, or read
        whole and sorted if in ``whole``.

        The runs are disjoint and already in order, so a run is read only when those
        before it fell short; merged, every run would be walked to its first match. Past
        its budget, a run's matches are read whole and sorted.

        A walk names its type as a range, not a value. Given ``content_type = X``, the
        planner saw the order (type, id) as the id's alone and walked the primary key,
        testing every file: at 1M files, the 109 files of ``application/octet-stream``
        holding ``2019`` took 271 ms that way, and 58 ms along the type's own run.
        """
        rows: list[Row[Any]] = []
        for kind in kinds:
            left = wanted - len(rows)
            run = [*conditions, File.content_type == kind]
            if kind in whole:
                rows += await self._plain_rows(_whole(section, run, left))
            else:
                walked = [*conditions, File.content_type.between(kind, kind)]
                walk = keyset.statement(section, walked, left, keys_first=True)
                rows += await self._budgeted(budget_ms, walk, section, run, left)
            if len(rows) >= wanted:
                break
        return rows

    async def _budgeted(
        self,
        budget_ms: int | None,
        walk: Select[Any],
        section: keyset.Section,
        conditions: list[ColumnElement[bool]],
        wanted: int,
    ) -> list[Row[Any]]:
        """The rows of ``walk``; under a budget (PostgreSQL), or of up to ``wanted`` matches
        of ``conditions`` in ``section`` read whole and sorted: raced from
        ``RACE_HEAD_START`` of the budget on with a ``racer`` (budgets up to
        ``RACE_READ_MAX_MS``), else once the walk has run for the budget."""
        if budget_ms is None:
            return await self._plain_rows(walk)
        whole = _whole(section, conditions, wanted)
        if self.racer is not None and budget_ms <= RACE_READ_MAX_MS:
            head_start = budget_ms * RACE_HEAD_START
            return await race.first_of(self.racer, head_start, walk, whole)
        return await self._within(budget_ms, walk, whole)

    async def _within(
        self, budget_ms: int, query: Select[Any], instead: Select[Any]
    ) -> list[Row[Any]]:
        """PostgreSQL: the rows of ``query``, or of ``instead`` if ``query`` runs longer than
        ``budget_ms``. The timeout is set inside a savepoint, and rolling that back (it
        only read) takes the timeout back too, whichever way the query ended."""
        savepoint = await self.session.begin_nested()
        rows: list[Row[Any]] | None = None
        try:
            timeout = max(1, int(budget_ms))  # 0 would mean no timeout at all
            await self.session.execute(text(f"SET LOCAL statement_timeout = {timeout}"))
            rows = await self._plain_rows(query)
        except DBAPIError as error:
            if not query_cancelled(error):
                raise
        finally:
            await savepoint.rollback()
        return rows if rows is not None else await self._plain_rows(instead)

    async def _first_keys(self, query: Select[Any]) -> tuple[object, ...] | None:
        row = (await self.session.execute(query)).first()
        return None if row is None else tuple(row)

    async def _set_deleted(
        self, ids: Iterable[uuid.UUID], state: ColumnElement[bool], value: object
    ) -> int:
        changed = 0
        for batch in chunked(unique_ids(ids), ID_CHUNK):
            query = update(File).where(File.id.in_(batch), state).values(deleted_at=value)
            changed += rowcount(await self.session.execute(query))
        return changed

    def _upsert(
        self, batch: list[dict[str, Any]], columns: frozenset[str]
    ) -> ReturningInsert[uuid.UUID, str]:
        insert = upsert_insert(self.session, File)
        statement = insert.values(batch)
        changes: dict[str, Any] = {
            name: statement.excluded[name] for name in columns if name not in {"id", "file_path"}
        }
        changes.setdefault("deleted_at", None)
        changes["version"] = File.__table__.c.version + 1
        return statement.on_conflict_do_update(
            index_elements=[File.file_path], set_=changes
        ).returning(File.id, File.file_path)

    @staticmethod
    def _require_paths(rows: Sequence[Mapping[str, Any]]) -> None:
        if any("file_path" not in row for row in rows):
            raise ValidationError("Every file to store needs a file_path.")


def _uniform_columns(rows: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    columns: frozenset[str] | None = None
    for row in rows:
        keys = frozenset(row)
        if columns is not None and keys != columns:
            raise ValidationError("Every file in one upsert must give the same fields.")
        columns = keys
    return columns or frozenset()


def _by_path(row: Row[Any]) -> str:
    # Paths are unique. Code-point order, SQLite's own, and the same on any server.
    return str(row.file_path)


def _duplicate_hashes(min_size: int, include_empty: bool) -> Subquery:
    # Grouped in the order of ix_files_size_hash (file_size, hash_value, deleted_at) and
    # counting rows, not ids: the index alone answers it, already sorted (at 1M files
    # 2.7 s when SQLite read the table and sorted it for a GROUP BY hash, size).
    copies = func.count().label("copies")
    size_ok: ColumnElement[bool] = File.file_size >= min_size
    size_ok = (
        or_(size_ok, File.file_size == 0) if include_empty else and_(size_ok, File.file_size > 0)
    )
    return (
        select(File.hash_value, File.file_size, copies)
        .where(live(), File.hash_value.is_not(None), size_ok)
        .group_by(File.file_size, File.hash_value)
        .having(func.count() > 1)
        .subquery("duplicate_hashes")
    )


def _whole(
    section: keyset.Section, conditions: list[ColumnElement[bool]], wanted: int
) -> Select[Any]:
    """Up to ``wanted`` matches of ``conditions`` in ``section``, every match read first
    and sorted (PostgreSQL's other way in, beside a walk of the sort index)."""
    return keyset.statement(section, conditions, wanted, keys_first=True, seek=True)
