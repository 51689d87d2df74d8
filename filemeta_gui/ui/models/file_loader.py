"""The database side of the file model: opening a query, refreshing it, fetching blocks.

Every call runs in a task of the window's :class:`TaskRegistry`, under one of three keys
so that a new query cancels what belonged to the old one:

* ``open``/``refresh``: the first block, then the count, of the query asked for; or a
  refresh of the one shown. A refresh asked for while one runs is coalesced (run once
  more afterwards), so a scan that refreshes every second never starves it.
* ``blocks``: fetches the blocks the views asked for, most recent first, one at a time.
* ``anchors``: the keyset cursor of every block-th row, computed once per query shown
  (after the first block is on screen) so that any depth is one keyset query.

Results are applied only if they still belong to what is shown: an *epoch* counts the
windows installed, a *generation* the queries asked for.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from filemeta_gui.domain.enums import SortColumn
from filemeta_gui.domain.records import FileRecord, PageRequest
from filemeta_gui.ui.models.block_cache import CHAIN_LIMIT, Block, BlockCache, BlockPlanner, Fetch
from filemeta_gui.ui.tasks import TaskRegistry

if TYPE_CHECKING:
    from filemeta_gui.services.library import LibraryService
    from filemeta_gui.ui.models.file_table_model import FileTableModel

Cursor = tuple[object, uuid.UUID]
REFRESH_BLOCKS = 4
"""Blocks a refresh re-reads before it swaps the window: those painted most recently."""
REFRESH_CHAIN = 3
"""A refresh deeper than this many blocks recomputes the anchors instead of chaining."""


@dataclass(frozen=True, slots=True)
class QuerySpec:
    query: str
    sort: SortColumn
    descending: bool


class FileLoader:
    """Runs the queries of one :class:`FileTableModel` (see the module docstring).

    ``block_queries`` and ``anchor_queries`` count the queries run, for tests and
    benchmarks.
    """

    def __init__(self, model: FileTableModel, tasks: TaskRegistry) -> None:
        self._model = model
        self._tasks = tasks
        base = f"file-model-{id(model)}"
        self._key, self._blocks_key, self._anchors_key = base, f"{base}-blocks", f"{base}-anchors"
        self._generation = 0
        self._epoch = 0
        self._refresh_again = False
        self._opening = False
        self.block_queries = 0
        self.anchor_queries = 0

    @property
    def loading(self) -> bool:
        """A query or a refresh is running (block fetches do not count)."""
        return self._tasks.running(self._key)

    @property
    def anchors_running(self) -> bool:
        return self._tasks.running(self._anchors_key)

    def reload(self, keep_rows: bool) -> None:
        if keep_rows and self.loading:
            self._refresh_again = True
            return
        self._generation += 1
        self._refresh_again = False
        if not keep_rows:  # the rows shown are about to go: stop fetching more of them
            self.new_epoch()
            self._opening = True
        self._model.loading_changed.emit(True)
        self._tasks.start(self._run(self._generation, keep_rows), key=self._key)

    def cancel(self) -> None:
        self._generation += 1
        self._refresh_again = False
        self._opening = False
        self._tasks.cancel(self._key)
        self.new_epoch()

    def new_epoch(self) -> None:
        """A new window is being installed: what was fetched for the old one is void."""
        self._epoch += 1
        self._tasks.cancel(self._blocks_key)
        self._tasks.cancel(self._anchors_key)

    def want(self, block: int) -> None:
        """A view painted a row of ``block`` and it is not here: fetch it soon."""
        model = self._model
        if self._opening:
            return  # another query or sort replaces these rows in a moment
        planner, cache = model.planner, model.cache
        if planner.want(block, cache):
            if not self._tasks.running(self._blocks_key) and self._model.library is not None:
                self._tasks.start(self._load_blocks(self._epoch), key=self._blocks_key)
        elif planner.needs_anchors:
            self._ensure_anchors()

    # --- tasks ------------------------------------------------------------------------

    async def _run(self, generation: int, keep_rows: bool) -> None:
        while True:
            if keep_rows and self._model.requested() == self._model.shown:
                await self._refresh(generation)
            else:
                await self._open(generation)
            if generation != self._generation or not self._refresh_again:
                break
            self._refresh_again, keep_rows = False, True
        if generation == self._generation:
            self._opening = False  # failed or done: the rows shown stay browsable
            self._model.loading_changed.emit(False)

    async def _open(self, generation: int) -> None:
        model, spec = self._model, self._model.requested()
        # Another order of the same rows: the count stands (a refresh would correct it).
        known = model.total if spec.query == model.shown.query else None
        try:
            first = await self._fetch(spec, Fetch(0, None, model.block_size))
        except Exception as error:
            self._failed(generation, error)
            return
        if generation != self._generation:
            return
        rows = len(first.rows)
        if first.end is None:
            known = rows
        elif known is not None and known <= rows:
            known = None
        model.install(spec, known or rows, {0: first}, None, known)
        self._opening = False
        model.query_applied.emit(spec.query)
        if known is None:
            if first.end is not None:
                # More than one block: the anchors do not need the count, so they run
                # beside it (a jump right after opening waited for one, then the other).
                self._ensure_anchors(more_than_a_block=True)
            try:
                known = await self._library().count(spec.query)
            except Exception as error:
                self._failed(generation, error)
                return
            if generation != self._generation:
                return
            model.resize(max(known, rows + 1))
        self._ensure_anchors()

    async def _refresh(self, generation: int) -> None:
        """Re-count and re-read the blocks on screen, then swap them in at once."""
        model, spec, library = self._model, self._model.shown, self._library()
        size = model.block_size
        recent = sorted(model.cache.recent(REFRESH_BLOCKS)) or [0]
        try:
            total = await library.count(spec.query)
            anchors = None
            if total > size and max(recent) > REFRESH_CHAIN:
                anchors = await self._anchors(spec)
            blocks = await self._read(spec, recent, total, anchors)
        except Exception as error:
            self._failed(generation, error)
            return
        if generation != self._generation:
            return
        first = blocks.get(0)
        if first is not None and first.end is None:
            total = len(first.rows)
        model.install(spec, total, blocks, anchors, total)
        model.refreshed.emit()
        if anchors is None:
            self._ensure_anchors()

    async def _read(
        self, spec: QuerySpec, wanted: Iterable[int], total: int, anchors: list[Cursor] | None
    ) -> dict[int, Block[FileRecord]]:
        """Fetch ``wanted`` blocks of a fresh window (and any block chained through)."""
        size = self._model.block_size
        planner = BlockPlanner(size)
        planner.reset(total, anchors)
        wanted = list(wanted)
        cache: BlockCache[FileRecord] = BlockCache(
            _record_id, size, capacity=len(wanted) + CHAIN_LIMIT
        )
        for number in wanted:
            planner.want(number, cache)
        while (fetch := planner.next_fetch(cache)) is not None:
            cache.put(fetch.block, await self._fetch(spec, fetch))
            planner.done(fetch.block)
        return {
            number: block for number in cache.blocks if (block := cache.block(number)) is not None
        }

    async def _load_blocks(self, epoch: int) -> None:
        model = self._model
        planner, spec = model.planner, model.shown
        while (fetch := planner.next_fetch(model.cache)) is not None:
            try:
                block = await self._fetch(spec, fetch)
            finally:
                if epoch == self._epoch:
                    planner.done(fetch.block)
            if epoch != self._epoch:
                return
            model.store(fetch.block, block)
        if planner.needs_anchors:
            self._ensure_anchors()
        # Requests dropped while scrolling fast: views ask again for those still on screen.
        model.repaint_blocks(planner.take_stale())

    def _ensure_anchors(self, more_than_a_block: bool = False) -> None:
        model = self._model
        if (
            model.planner.anchors is None
            and (more_than_a_block or model.rowCount() > model.block_size)
            and not self.anchors_running
            and model.library is not None
        ):
            self._tasks.start(self._load_anchors(self._epoch), key=self._anchors_key)

    async def _load_anchors(self, epoch: int) -> None:
        anchors = await self._anchors(self._model.shown)
        if epoch != self._epoch:
            return
        planner = self._model.planner
        planner.set_anchors(anchors)
        self._model.repaint_blocks(planner.take_stale())

    # --- queries ----------------------------------------------------------------------

    async def _fetch(self, spec: QuerySpec, fetch: Fetch) -> Block[FileRecord]:
        request = PageRequest(
            sort=spec.sort,
            descending=spec.descending != fetch.reverse,
            limit=fetch.limit,
            after=fetch.after,
        )
        page = await self._library().page(spec.query, request)
        self.block_queries += 1
        if fetch.reverse:  # the last block, read from the end: nothing follows it
            return Block(tuple(reversed(page.rows)), None)
        return Block(page.rows, page.next_after)

    async def _anchors(self, spec: QuerySpec) -> list[Cursor]:
        every = self._model.block_size
        anchors = await self._library().anchors(spec.query, spec.sort, spec.descending, every)
        self.anchor_queries += 1
        return anchors

    def _library(self) -> LibraryService:
        library = self._model.library
        assert library is not None
        return library

    def _failed(self, generation: int, error: Exception) -> None:
        if generation == self._generation:
            self._model.query_failed.emit(error)


def _record_id(record: FileRecord) -> uuid.UUID:
    return record.id
