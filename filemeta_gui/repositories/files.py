"""``FileRepository``: lookups, keyset pages, literal search, upserts and duplicate groups."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    and_,
    func,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.sql.dml import ReturningInsert

from filemeta_gui.db.models import File, FileTag, Tag
from filemeta_gui.db.types import utcnow
from filemeta_gui.domain.enums import SortColumn
from filemeta_gui.domain.errors import ValidationError
from filemeta_gui.domain.records import PageRequest
from filemeta_gui.repositories.base import (
    ID_CHUNK,
    MAX_PARAMETERS,
    BaseRepository,
    chunked,
    rowcount,
    unique_ids,
    upsert_insert,
)

Cursor = tuple[object, uuid.UUID]
DuplicateRows = tuple[str, int, list[File]]

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


def sort_value(row: File, column: SortColumn) -> object:
    """The value of ``sort_expression(column)`` for an already loaded row (a page cursor)."""
    value = getattr(row, _SORT_ATTRIBUTES[column])
    return "" if column is SortColumn.HASH and value is None else value


def live() -> ColumnElement[bool]:
    """Files not in the bin (soft-deleted rows have ``deleted_at``)."""
    return File.deleted_at.is_(None)


class FileRepository(BaseRepository[File]):
    model = File
    noun = "file"

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
    ) -> tuple[list[File], Cursor | None]:
        """One keyset page: rows after ``request.after`` in the requested order.

        Rows with equal sort values are ordered by id, so no row is skipped or repeated
        between pages however many share a value. Returns the rows and the cursor of the
        next page (None after the last page).
        """
        key = sort_expression(request.sort)
        limit = max(request.limit, 1)
        query = select(File)
        if not include_deleted:
            query = query.where(live())
        if where is not None:
            query = query.where(where)
        if request.after is not None:
            query = query.where(_after(key, request.after, request.descending))
        if request.descending:
            query = query.order_by(key.desc(), File.id.desc())
        else:
            query = query.order_by(key.asc(), File.id.asc())
        # One row more than asked tells whether another page follows, without a COUNT.
        rows = await self._all(query.limit(limit + 1))
        if len(rows) <= limit:
            return rows, None
        rows = rows[:limit]
        return rows, (sort_value(rows[-1], request.sort), rows[-1].id)

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
        self, min_size: int = 1, include_empty: bool = False
    ) -> list[DuplicateRows]:
        """Files sharing a hash, as ``(hash, size, rows)``, biggest reclaimable space first.

        Two queries whatever the number of groups: one GROUP BY for the groups, one join
        of the files against it for their rows.
        """
        groups = _duplicate_hashes(min_size, include_empty)
        wasted = groups.c.file_size * (groups.c.copies - 1)
        order = (
            await self.session.execute(
                select(groups.c.hash_value, groups.c.file_size).order_by(
                    wasted.desc(), groups.c.hash_value
                )
            )
        ).all()
        members = select(File).join(
            groups,
            and_(File.hash_value == groups.c.hash_value, File.file_size == groups.c.file_size),
        )
        rows = await self._all(members.where(live()).order_by(File.file_path, File.id))
        by_key: dict[tuple[str, int], list[File]] = {}
        for row in rows:
            by_key.setdefault((row.hash_value or "", row.file_size), []).append(row)
        # Rows can vanish between the two queries (another client); keep real groups only.
        return [
            (h, size, by_key[(h, size)]) for h, size in order if len(by_key.get((h, size), ())) > 1
        ]

    async def tag_names(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[str, ...]]:
        """Tag names of each file (sorted), one query per ``ID_CHUNK`` files."""
        wanted = unique_ids(ids)
        names: dict[uuid.UUID, list[str]] = {file_id: [] for file_id in wanted}
        for batch in chunked(wanted, ID_CHUNK):
            query = (
                select(FileTag.file_id, Tag.name)
                .join(Tag, Tag.id == FileTag.tag_id)
                .where(FileTag.file_id.in_(batch))
                .order_by(Tag.name)
            )
            for file_id, name in await self.session.execute(query):
                names[file_id].append(name)
        return {file_id: tuple(found) for file_id, found in names.items()}

    async def _all(self, query: Select[Any]) -> list[File]:
        return list((await self.session.scalars(query)).all())

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


def _after(key: ColumnElement[Any], after: Cursor, descending: bool) -> ColumnElement[bool]:
    value, after_id = after
    # A row-value comparison, (key, id) > (value, id), is one index range on both backends.
    position = tuple_(key, File.id)
    cursor = tuple_(literal(value, key.type), literal(after_id, File.id.type))
    return position < cursor if descending else position > cursor


def _uniform_columns(rows: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    columns: frozenset[str] | None = None
    for row in rows:
        keys = frozenset(row)
        if columns is not None and keys != columns:
            raise ValidationError("Every file in one upsert must give the same fields.")
        columns = keys
    return columns or frozenset()


def _duplicate_hashes(min_size: int, include_empty: bool) -> Subquery:
    copies = func.count(File.id).label("copies")
    size_ok: ColumnElement[bool] = File.file_size >= min_size
    size_ok = (
        or_(size_ok, File.file_size == 0) if include_empty else and_(size_ok, File.file_size > 0)
    )
    return (
        select(File.hash_value, File.file_size, copies)
        .where(live(), File.hash_value.is_not(None), size_ok)
        .group_by(File.hash_value, File.file_size)
        .having(func.count(File.id) > 1)
        .subquery("duplicate_hashes")
    )
