"""A bounded, sparse window onto a list of any length (no Qt here, so it unit-tests alone).

The file list of a million rows is cut into blocks of ``block_size`` rows. Only the blocks
the views have looked at recently are kept (:class:`BlockCache`, least recently used out
first), and :class:`BlockPlanner` decides which block to fetch next and with which keyset
cursor, so that dragging the scrollbar to row 700,000 fetches the block under the thumb
and nothing before it.

Reaching block ``k`` without an OFFSET scan takes the cursor of the row just before it:

* block 0 starts at the top (no cursor);
* the *anchors* (one pass over the sort index, see ``LibraryService.anchors``) give the
  cursor ending every block, so any block is one keyset query once they are known;
* the end cursor of block ``k - 1``, when that block is cached;
* the last block can be read from the other end (the reverse order, reversed);
* until the anchors arrive, a block near a cached one is reached by fetching the blocks
  in between (at most ``chain_limit``); a farther one waits for the anchors.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
Cursor = tuple[object, uuid.UUID]

BLOCK_SIZE = 200
CAPACITY = 50
"""Blocks kept: 10,000 rows, a few megabytes, whatever the length of the list."""
MAX_PENDING = 8
"""Blocks waiting to be fetched; older requests (rows scrolled past) are dropped first."""
CHAIN_LIMIT = 10
"""Blocks fetched one after another to reach a wanted one before the anchors are in."""


@dataclass(frozen=True, slots=True)
class Block(Generic[T]):
    """The rows of one block and the keyset cursor just after its last row."""

    rows: Sequence[T]
    end: Cursor | None
    """Cursor to read the next block from; None when no row follows."""


@dataclass(frozen=True, slots=True)
class Fetch:
    """One keyset query for one block (``reverse``: read from the end, then reverse)."""

    block: int
    after: Cursor | None
    limit: int
    reverse: bool = False


class BlockCache(Generic[T]):
    """At most ``capacity`` blocks of rows, the least recently used dropped first.

    Args:
        key: the identity of a row (a file id), for :meth:`row_of`.
    """

    def __init__(
        self,
        key: Callable[[T], Hashable],
        block_size: int = BLOCK_SIZE,
        capacity: int = CAPACITY,
    ) -> None:
        if block_size < 1 or capacity < 1:
            raise ValueError("block_size and capacity must be positive")
        self.block_size = block_size
        self.capacity = capacity
        self._key = key
        self._blocks: OrderedDict[int, Block[T]] = OrderedDict()
        self._row_of: dict[Hashable, int] = {}

    def block_of(self, row: int) -> int:
        return row // self.block_size

    def get(self, row: int) -> T | None:
        """The row if its block is cached (and marks the block as just used)."""
        number = row // self.block_size
        block = self._blocks.get(number)
        if block is None:
            return None
        self._blocks.move_to_end(number)
        offset = row - number * self.block_size
        return block.rows[offset] if offset < len(block.rows) else None

    def peek(self, row: int) -> T | None:
        """Like :meth:`get`, without changing which blocks count as recently used."""
        number = row // self.block_size
        block = self._blocks.get(number)
        offset = row - number * self.block_size
        if block is None or row < 0 or offset >= len(block.rows):
            return None
        return block.rows[offset]

    def block(self, number: int) -> Block[T] | None:
        return self._blocks.get(number)

    def __contains__(self, number: object) -> bool:
        return number in self._blocks

    def __len__(self) -> int:
        return len(self._blocks)

    @property
    def blocks(self) -> list[int]:
        """Cached block numbers, least recently used first."""
        return list(self._blocks)

    @property
    def rows_cached(self) -> int:
        return sum(len(block.rows) for block in self._blocks.values())

    def recent(self, count: int) -> list[int]:
        """The ``count`` most recently used blocks, the most recent first."""
        return list(reversed(self._blocks))[:count]

    def put(self, number: int, block: Block[T]) -> list[int]:
        """Store a block (replacing one with the same number); returns the blocks evicted."""
        self._drop(number)
        self._blocks[number] = block
        first = number * self.block_size
        for offset, row in enumerate(block.rows):
            self._row_of[self._key(row)] = first + offset
        evicted = []
        while len(self._blocks) > self.capacity:
            oldest = next(iter(self._blocks))
            self._drop(oldest)
            evicted.append(oldest)
        return evicted

    def row_of(self, key: Hashable) -> int | None:
        """The row of a cached item by its key (None if its block is not cached)."""
        return self._row_of.get(key)

    def rows(self, numbers: Iterable[int]) -> list[T]:
        """The cached items among the rows ``numbers`` (others are skipped)."""
        found = (self.peek(row) for row in numbers)
        return [item for item in found if item is not None]

    def clear(self) -> None:
        self._blocks.clear()
        self._row_of.clear()

    def _drop(self, number: int) -> None:
        block = self._blocks.pop(number, None)
        if block is None:
            return
        first = number * self.block_size
        for offset, row in enumerate(block.rows):
            key = self._key(row)
            if self._row_of.get(key) == first + offset:
                del self._row_of[key]


class BlockPlanner:
    """Which block to fetch next, and how to reach it.

    Views ask for rows while they paint; :meth:`want` queues the blocks of rows that are
    not cached. :meth:`next_fetch` hands out the most recently wanted block first (the
    one under the scrollbar thumb now, not the ones it passed over), keeps at most
    ``max_pending`` requests (older ones become *stale*: if they are still on screen the
    view asks again after a repaint), and *parks* blocks it cannot reach until the
    anchors arrive (:attr:`needs_anchors`).
    """

    def __init__(
        self,
        block_size: int = BLOCK_SIZE,
        max_pending: int = MAX_PENDING,
        chain_limit: int = CHAIN_LIMIT,
    ) -> None:
        self.block_size = block_size
        self.max_pending = max_pending
        self.chain_limit = chain_limit
        self.rows = 0
        """Rows in the list (the count), bounds the blocks worth fetching."""
        self.anchors: list[Cursor] | None = None
        self.in_flight: int | None = None
        self._pending: OrderedDict[int, None] = OrderedDict()
        self._parked: set[int] = set()
        self._stale: set[int] = set()

    def reset(self, rows: int, anchors: list[Cursor] | None = None) -> None:
        self.rows, self.anchors = rows, anchors
        self.in_flight = None
        self._pending.clear()
        self._parked.clear()
        self._stale.clear()

    @property
    def pending(self) -> list[int]:
        return list(self._pending)

    @property
    def needs_anchors(self) -> bool:
        """A wanted block can only be reached through the anchors."""
        return bool(self._parked) and self.anchors is None

    def want(self, block: int, cache: BlockCache[T]) -> bool:
        """Queue ``block`` (a view showed one of its rows); True if a fetch should start."""
        if block in cache or block == self.in_flight or not self._in_range(block):
            return False
        if block in self._parked and self.anchors is None:
            return False
        self._parked.discard(block)
        self._pending[block] = None
        self._pending.move_to_end(block)
        while len(self._pending) > self.max_pending:
            oldest, _ = self._pending.popitem(last=False)
            self._stale.add(oldest)
        return True

    def set_anchors(self, anchors: list[Cursor]) -> None:
        """The anchors arrived: parked blocks become stale (asked again if on screen)."""
        self.anchors = anchors
        self._stale |= self._parked
        self._parked.clear()

    def take_stale(self) -> list[int]:
        """Blocks dropped from the queue or unparked since the last call."""
        stale, self._stale = sorted(self._stale), set()
        return stale

    def next_fetch(self, cache: BlockCache[T]) -> Fetch | None:
        """The next query to run (and marks its block in flight), or None when done."""
        while self._pending:
            block = next(reversed(self._pending))
            if block in cache or not self._in_range(block):
                del self._pending[block]
                continue
            fetch = self._reach(block, cache)
            if fetch is None:
                del self._pending[block]
                self._parked.add(block)
                continue
            if fetch.block == block:
                del self._pending[block]
            self.in_flight = fetch.block
            return fetch
        return None

    def done(self, block: int) -> None:
        if self.in_flight == block:
            self.in_flight = None

    def _reach(self, block: int, cache: BlockCache[T]) -> Fetch | None:
        direct = self._direct(block, cache)
        if direct is not None:
            return direct
        if self._is_last(block):
            last_rows = self.rows - block * self.block_size
            return Fetch(block, None, last_rows, reverse=True)
        # Chain: fetch the nearest reachable block below it; the wanted one stays queued.
        for step in range(block - 1, max(block - self.chain_limit, 0) - 1, -1):
            if step in cache:
                return None  # it ends the list: nothing follows to reach ``block`` by
            fetch = self._direct(step, cache)
            if fetch is not None:
                return fetch
        return None

    def _direct(self, block: int, cache: BlockCache[T]) -> Fetch | None:
        """A keyset query for exactly ``block``, if a cursor for it is known."""
        if block == 0:
            return Fetch(0, None, self.block_size)
        if self.anchors is not None and block - 1 < len(self.anchors):
            return Fetch(block, self.anchors[block - 1], self.block_size)
        previous = cache.block(block - 1)
        if previous is not None and previous.end is not None:
            return Fetch(block, previous.end, self.block_size)
        return None

    def _is_last(self, block: int) -> bool:
        return self.rows > 0 and block == (self.rows - 1) // self.block_size

    def _in_range(self, block: int) -> bool:
        return 0 <= block * self.block_size < self.rows
