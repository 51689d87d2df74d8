"""Browsing and searching the library: keyset pages of domain records."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from filemeta_gui.db.engine import Database
from filemeta_gui.db.models import File, Folder
from filemeta_gui.db.query_context import operation
from filemeta_gui.domain.enums import AccessType, Backend, SortColumn
from filemeta_gui.domain.errors import NotFoundError
from filemeta_gui.domain.query import Node, Or, parse, top_or, with_choice
from filemeta_gui.domain.records import FileRecord, Page, PageRequest
from filemeta_gui.repositories.base import among_ids
from filemeta_gui.repositories.convert import file_record
from filemeta_gui.repositories.files import Cursor, FileRepository, live, sort_value
from filemeta_gui.repositories.permissions import PermissionRepository
from filemeta_gui.repositories.query_sql import compile_query
from filemeta_gui.repositories.search_plan import (
    PagePlan,
    alternatives_apart,
    anchors_listed_first,
    excluded_tag_rowids,
    excluded_through_index,
    hashed_exclusion,
    plan_page,
    tree_ids,
)
from filemeta_gui.services.access import AccessPolicy


@dataclass(frozen=True, slots=True)
class LibraryStats:
    files: int
    bytes: int
    folders: int


def _parsed(query: str) -> Node | None:
    """The query's tree (QuerySyntaxError if malformed); None for the empty query."""
    return parse(query) if query.strip() else None


def _counted(where: ColumnElement[bool] | None) -> Select[Any]:
    """``SELECT count(*)`` of the live files where ``where`` holds (None: all of them)."""
    statement = select(func.count()).select_from(File).where(live())
    return statement if where is None else statement.where(where)


ALTERNATIVES_MAX = 4
"""An OR of more alternatives is read as one condition: each apart costs a page."""


@dataclass(frozen=True, slots=True)
class _PlannedQuery:
    """A query's condition compiled for one page, and how to read the page."""

    where: ColumnElement[bool] | None
    plan: PagePlan
    on_rows: ColumnElement[bool] | None = None
    """For plain words tested on the rows of a walk (``PagePlan.word_window``,
    ``short_path_walk``): the same condition written to be tested on each row."""
    seekable: ColumnElement[bool] | None = None
    """For ``PagePlan.whole_read``: written so that every filter may use its index."""


class LibraryService:
    def __init__(self, database: Database, policy: AccessPolicy) -> None:
        self.database = database
        self.policy = policy

    def condition(self, query: str) -> ColumnElement[bool] | None:
        """The SQL condition for ``query`` and the viewer's rights (QuerySyntaxError if bad)."""
        node = _parsed(query)
        return self._with_rights(None if node is None else compile_query(node, self._backend))

    @operation("library.page")
    async def page(self, query: str, request: PageRequest) -> Page:
        node = _parsed(query)
        if self.policy.sees_nothing:  # identity.problem says why, in plain words
            return Page(rows=(), next_after=None)
        async with self.database.session() as session:
            choices = await self._choices(session, node) if node is not None else ()
            if choices:
                rows, next_after = await self._either_rows(session, choices, request)
            else:
                rows, next_after = await self._rows(session, node, request)
            records = await self._records(session, rows)
        return Page(rows=tuple(records), next_after=next_after)

    async def _choices(self, session: AsyncSession, node: Node) -> tuple[Node, ...]:
        """``node`` as an OR of queries to read apart, a page of each: its alternatives
        in few files apart, the others together (``search_plan.alternatives_apart``).
        Empty when it is better read as one."""
        either = top_or(node)
        if either is None or len(either.items) > ALTERNATIVES_MAX:
            return ()
        apart = await alternatives_apart(session, either.items, self.database.backend)
        if not apart:
            return ()
        rest = tuple(item for item in either.items if item not in apart)
        together = (rest[0] if len(rest) == 1 else Or(rest),) if rest else ()
        return tuple(with_choice(node, either, choice) for choice in (*apart, *together))

    async def _either_rows(
        self, session: AsyncSession, choices: Sequence[Node], request: PageRequest
    ) -> tuple[Sequence[Row[Any]], Cursor | None]:
        """A page of files matching any of ``choices``: each one's page, planned alone,
        then the first of all of them in order."""
        found: dict[uuid.UUID, Row[Any]] = {}
        more = False
        for choice in choices:
            rows, next_after = await self._rows(session, choice, request)
            found.update((row.id, row) for row in rows)
            more = more or next_after is not None
        # Sorted by the database, whose collation orders the names.
        among = among_ids(File.id, list(found), self.database.backend.value)
        rows, next_after = await FileRepository(session).page(request, where=among, seek=True)
        if next_after is None and more and rows:  # a choice has rows past these
            next_after = (sort_value(rows[-1], request.sort), rows[-1].id)
        return rows, next_after

    async def _rows(
        self, session: AsyncSession, node: Node | None, request: PageRequest
    ) -> tuple[Sequence[Row[Any]], Cursor | None]:
        """The rows of one page of ``node`` (None: every file the viewer may see)."""
        planned = _PlannedQuery(self._with_rights(None), PagePlan())
        if node is not None:
            planned = await self._planned_condition(session, node, request)
        plan = planned.plan
        # PostgreSQL: a walk under a budget races reading the matches whole (race.py).
        racer = None if self.database.is_sqlite else self.database.session
        return await FileRepository(session, racer).page(
            request,
            where=planned.where,
            bounded_walk=plan.bounded_walk,
            seek=plan.seek,
            on_rows=planned.on_rows,
            row_window=plan.word_window or (0, 0),
            short_path_walk=plan.short_path_walk,
            type_runs=plan.type_runs,
            walk_budget_ms=plan.walk_budget_ms,
            whole_runs=plan.whole_runs,
            seekable=planned.seekable,
        )

    @operation("library.anchors")
    async def anchors(
        self, query: str, sort: SortColumn, descending: bool, every: int
    ) -> list[tuple[object, uuid.UUID]]:
        """Keyset cursors of every ``every``-th row of ``query`` in this order (see page()).

        ``anchors[k]`` ends block ``k`` of ``every`` rows: block ``k + 1`` is
        ``PageRequest(sort, descending, limit=every, after=anchors[k])``, so a view can
        show rows at any depth with one keyset query. Same rights as :meth:`page`.
        """
        node = _parsed(query)
        if self.policy.sees_nothing:
            return []
        sqlite = self.database.is_sqlite
        listed = node is not None and sqlite and anchors_listed_first(node, sort)
        excluded = excluded_through_index(node) if node is not None else None
        async with self.database.session() as session:
            where = None
            if excluded is not None and not sqlite:
                where = await self._hashed_exclusion(session, excluded)
            elif excluded is not None and (outside := excluded_tag_rowids(excluded)) is not None:
                where = self._with_rights(outside)
            if where is None:
                where = await self._server_condition(session, node)
            # SQLite: the files without X are most files, each tested on the way; hopping
            # from anchor to anchor skips numbering them (-beach 1,100 → 445 ms at 1M).
            return await FileRepository(session).anchors(
                sort,
                descending,
                every,
                where=where,
                listed_first=listed,
                hop=sqlite and excluded is not None,
            )

    @operation("library.count")
    async def count(self, query: str = "") -> int:
        node = _parsed(query)
        if self.policy.sees_nothing:
            return 0
        excluded = excluded_through_index(node) if node is not None else None
        async with self.database.session() as session:
            if excluded is None:
                statement = _counted(await self._server_condition(session, node))
            else:
                # Every condition is two-valued (query_sql): the files without X are all
                # files less those with X, counted in one statement (one snapshot).
                every = _counted(await self._server_condition(session, None))
                inside = _counted(await self._server_condition(session, excluded))
                statement = select(every.scalar_subquery() - inside.scalar_subquery())
            return int(await session.scalar(statement) or 0)

    async def _hashed_exclusion(
        self, session: AsyncSession, excluded: Node
    ) -> ColumnElement[bool] | None:
        """PostgreSQL: the files without ``excluded`` the viewer may see, each tested
        against the hashed set of the excluded ids (``search_plan.hashed_exclusion``);
        None if PostgreSQL would not hash it."""
        tag_ids = await tree_ids(session, excluded)
        inside = compile_query(excluded, self._backend, tag_ids=tag_ids)
        outside = await hashed_exclusion(session, inside)
        return None if outside is None else self._with_rights(outside)

    async def _server_condition(
        self, session: AsyncSession, node: Node | None
    ) -> ColumnElement[bool] | None:
        """:meth:`condition` of ``node``; on PostgreSQL with each tag filter's tree read
        first, as ids (``search_plan.tree_ids``): inside an OR the tree was searched for
        every file."""
        if node is None:
            return self._with_rights(None)
        sqlite = self.database.is_sqlite
        tag_ids = None if sqlite else await tree_ids(session, node)
        condition = compile_query(node, self._backend, tag_ids=tag_ids, union_ors=sqlite)
        return self._with_rights(condition)

    def _with_rights(self, condition: ColumnElement[bool] | None) -> ColumnElement[bool] | None:
        """``condition`` and the viewer's rights (None: no condition at all)."""
        parts = [c for c in (condition, self.policy.visible()) if c is not None]
        return and_(*parts) if parts else None

    @property
    def _backend(self) -> Backend:
        return self.database.backend

    @operation("library.get")
    async def get(self, file_id: uuid.UUID) -> FileRecord:
        records = await self.get_many([file_id])
        if not records:
            raise NotFoundError("That file is no longer in the library.")
        return records[0]

    @operation("library.get_many")
    async def get_many(self, file_ids: Iterable[uuid.UUID]) -> list[FileRecord]:
        ids = list(dict.fromkeys(file_ids))
        if self.policy.sees_nothing:
            return []
        statement = select(File).where(File.id.in_(ids))
        visible = self.policy.visible()
        if visible is not None:
            statement = statement.where(visible)
        async with self.database.session() as session:
            rows = list((await session.scalars(statement)).all())
            records = await self._records(session, rows)
        by_id = {r.id: r for r in records}
        return [by_id[i] for i in ids if i in by_id]

    @operation("library.find_by_paths")
    async def find_by_paths(self, paths: Iterable[str]) -> dict[str, FileRecord]:
        """Live files at these stored paths (those the user may see), keyed by path."""
        wanted = list(dict.fromkeys(paths))
        found: dict[str, FileRecord] = {}
        if self.policy.sees_nothing:
            return found
        visible = self.policy.visible()
        async with self.database.session() as session:
            for start in range(0, len(wanted), 500):
                statement = select(File).where(
                    File.file_path.in_(wanted[start : start + 500]), live()
                )
                if visible is not None:
                    statement = statement.where(visible)
                rows = list((await session.scalars(statement)).all())
                found.update((r.file_path, r) for r in await self._records(session, rows))
        return found

    @operation("library.remove")
    async def remove(self, file_ids: Sequence[uuid.UUID]) -> int:
        """Soft-delete files from the library (the files on disk are untouched)."""
        async with self.database.session(write=True) as session:
            await self.policy.require(session, file_ids, AccessType.DELETE, "remove")
            return await FileRepository(session).soft_delete(file_ids)

    @operation("library.restore")
    async def restore(self, file_ids: Sequence[uuid.UUID]) -> int:
        async with self.database.session(write=True) as session:
            await self.policy.require(session, file_ids, AccessType.DELETE, "restore")
            return await FileRepository(session).restore(file_ids)

    @operation("library.stats")
    async def stats(self) -> LibraryStats:
        if self.policy.sees_nothing:
            return LibraryStats(files=0, bytes=0, folders=0)
        statement = select(func.count(), func.coalesce(func.sum(File.file_size), 0)).where(live())
        visible = self.policy.visible()
        if visible is not None:
            statement = statement.where(visible)
        async with self.database.session() as session:
            files, size = (await session.execute(statement)).one()
            folders = await session.scalar(select(func.count()).select_from(Folder))
        return LibraryStats(files=int(files), bytes=int(size), folders=int(folders or 0))

    async def _planned_condition(
        self, session: AsyncSession, node: Node, request: PageRequest
    ) -> _PlannedQuery:
        """:meth:`condition`, compiled for one page: on SQLite the filters that may use an
        index are chosen by counting (``repositories.search_plan``)."""
        continuing = request.after is not None
        plan = await plan_page(session, node, request.sort, self._backend, continuing)

        def compiled(words_per_row: bool, opened: bool = False) -> ColumnElement[bool] | None:
            condition = compile_query(
                node,
                self._backend,
                open_nodes=None if opened else plan.open_nodes,
                row_tests=plan.row_tests,
                tag_ids=plan.tag_ids,
                words_per_row=words_per_row,
                implied=plan.implied,
            )
            return self._with_rights(condition)

        per_row = plan.word_window is not None or plan.short_path_walk
        return _PlannedQuery(
            compiled(False),
            plan,
            on_rows=compiled(True) if per_row else None,
            seekable=compiled(False, opened=True) if plan.whole_read else None,
        )

    async def _records(
        self, session: AsyncSession, rows: Sequence[File | Row[Any]]
    ) -> list[FileRecord]:
        ids = [row.id for row in rows]
        tags = await FileRepository(session).tag_names(ids)
        levels: dict[uuid.UUID, AccessType] = {}
        user = self.policy.identity.user
        if user is not None and not self.policy.is_admin and ids:
            levels = await PermissionRepository(session).levels(user.id, ids)
        return [file_record(row, tags.get(row.id, ()), levels.get(row.id)) for row in rows]
