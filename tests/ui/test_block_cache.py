"""The block cache and planner alone (plain Python: no window, no database)."""

from __future__ import annotations

import uuid

import pytest

from filemeta_gui.ui.models.block_cache import Block, BlockCache, BlockPlanner, Fetch

SIZE = 10


def ids(count: int) -> list[uuid.UUID]:
    return [uuid.UUID(int=i + 1) for i in range(count)]


def block_of(number: int, rows: int = SIZE, last: bool = False) -> Block[int]:
    first = number * SIZE
    values = list(range(first, first + rows))
    return Block(values, None if last else (values[-1], uuid.UUID(int=values[-1] + 1)))


def cache(capacity: int = 4) -> BlockCache[int]:
    return BlockCache(key=lambda row: row, block_size=SIZE, capacity=capacity)


def test_the_cache_keeps_the_most_recently_used_blocks() -> None:
    held = cache(capacity=3)
    for number in range(3):
        held.put(number, block_of(number))
    assert held.get(5) == 5  # block 0 is now the most recent
    assert held.put(3, block_of(3)) == [1]
    assert held.blocks == [2, 0, 3]
    assert held.get(15) is None and held.peek(25) == 25
    assert held.row_of(15) is None and held.row_of(34) == 34
    assert held.recent(2) == [3, 0]
    assert held.rows_cached == 3 * SIZE


def test_the_cache_never_exceeds_its_capacity() -> None:
    held = cache(capacity=5)
    for number in range(100):
        held.put(number, block_of(number))
        assert len(held) <= 5 and held.rows_cached <= 5 * SIZE
    assert held.blocks == [95, 96, 97, 98, 99]
    assert held.rows(range(940, 960)) == list(range(950, 960))


def test_a_short_block_answers_none_past_its_rows() -> None:
    held = cache()
    held.put(2, block_of(2, rows=3, last=True))
    assert held.get(22) == 22 and held.get(23) is None and held.peek(29) is None
    with pytest.raises(ValueError):
        BlockCache(key=lambda row: row, block_size=0)


def test_the_most_recently_wanted_block_is_fetched_first() -> None:
    held, planner = cache(), BlockPlanner(SIZE, max_pending=3)
    planner.reset(rows=1000, anchors=[(i * SIZE + 9, uuid.UUID(int=i)) for i in range(99)])
    for number in (10, 20, 30, 40, 20):
        planner.want(number, held)
    # 10 was pushed out by the newer requests: stale, asked again if still on screen.
    assert planner.pending == [30, 40, 20]
    assert planner.take_stale() == [10]
    fetch = planner.next_fetch(held)
    assert fetch == Fetch(20, planner.anchors[19], SIZE)  # type: ignore[index]
    assert not planner.want(20, held), "a block in flight is not asked for twice"
    planner.done(20)
    assert [planner.next_fetch(held), planner.next_fetch(held)] == [
        Fetch(40, planner.anchors[39], SIZE),  # type: ignore[index]
        Fetch(30, planner.anchors[29], SIZE),  # type: ignore[index]
    ]


def test_without_anchors_near_blocks_are_chained_and_far_ones_wait() -> None:
    held, planner = cache(capacity=50), BlockPlanner(SIZE, chain_limit=3)
    planner.reset(rows=1000)
    held.put(0, block_of(0))
    planner.want(3, held)
    chained = []
    while (fetch := planner.next_fetch(held)) is not None:
        chained.append(fetch.block)
        held.put(fetch.block, block_of(fetch.block))
        planner.done(fetch.block)
    assert chained == [1, 2, 3]

    planner.want(50, held)
    assert planner.next_fetch(held) is None
    assert planner.needs_anchors
    assert not planner.want(50, held), "parked until the anchors come"
    planner.set_anchors([(i * SIZE + 9, uuid.UUID(int=i)) for i in range(99)])
    assert planner.take_stale() == [50] and not planner.needs_anchors
    planner.want(50, held)
    assert planner.next_fetch(held) == Fetch(50, (499, uuid.UUID(int=49)), SIZE)


def test_the_last_block_is_read_from_the_end_before_the_anchors() -> None:
    held, planner = cache(), BlockPlanner(SIZE)
    planner.reset(rows=995)
    planner.want(99, held)
    assert planner.next_fetch(held) == Fetch(99, None, 5, reverse=True)
    assert not planner.want(100, held), "no such block"


def test_nothing_is_fetched_past_the_end_of_a_short_list() -> None:
    held, planner = cache(), BlockPlanner(SIZE)
    planner.reset(rows=1000)
    held.put(4, block_of(4, rows=2, last=True))  # the rows ran out before the count said
    planner.want(5, held)
    assert planner.next_fetch(held) is None
    assert planner.in_flight is None
