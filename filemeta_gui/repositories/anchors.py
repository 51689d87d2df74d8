"""The statements behind ``FileRepository.anchors``: the cursor of every n-th row.

A view over a million rows jumps to row 700,000 with one keyset page if it knows the
cursor ``(sort value, id)`` of the row just before it. The anchors are those cursors, for
rows ``n-1, 2n-1, …`` of the list. Two ways to find them, each best somewhere (measured at
1M files on 2 shared cores):

* :func:`hop_statement`, the whole library: a recursive query hops through the sort
  index, each anchor the row ``n`` entries after the previous one (``ORDER BY … LIMIT 1
  OFFSET n-1`` from that cursor). The index is read once, in order, only its key columns:
  0.15–0.35 s on both backends, where numbering took 0.5–1.3 s on SQLite.
* :func:`numbered_statement`, a search: number the matching rows with ``row_number()``
  and keep every n-th. A hop would re-test the search condition entry by entry from each
  cursor (``beach``: 1.2 s on SQLite, 3 s on PostgreSQL) where the search index hands
  over the few matches at once (40–60 ms). But no index hands over the files *without*
  a word or tag: on SQLite such a query hops too, testing the entries it passes
  (``-beach`` 1.1 → 0.45 s); on PostgreSQL the hop was slower than numbering.

The order is the one ``FileRepository.page`` walks, section by section
(``keyset.sections``): one index range for most sorts, two for the hash order (unhashed
files, whose cursor value is ``''``, then the hashed ones). A later section counts on from
the rows of the sections before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, select, true, tuple_
from sqlalchemy.orm import aliased

from filemeta_gui.db.models import File
from filemeta_gui.repositories.keyset import Section


def numbered_statement(
    section: Section, where: Sequence[ColumnElement[bool]], every: int, before: int
) -> Select[Any]:
    """``(value, id)`` of the rows of ``section`` at positions k * ``every`` of the list."""
    columns = [ordered.element for ordered in section.order]
    key = columns[0] if len(columns) > 1 else None
    position = func.row_number().over(order_by=section.order)
    numbered = (
        select(_value(key).label("key"), File.id.label("id"), position.label("position"))
        .where(*where, *section.conditions)
        .subquery("numbered")
    )
    return (
        select(numbered.c.key, numbered.c.id)
        .where((numbered.c.position + before) % max(every, 1) == 0)
        .order_by(numbered.c.position)
    )


def hop_statement(
    section: Section,
    where: Sequence[ColumnElement[bool]],
    every: int,
    before: int,
    descending: bool,
    lateral: bool = False,
) -> Select[Any]:
    """``(value, id)`` of the rows of ``section`` at positions k * ``every`` of the list.

    Args:
        before: rows of the list ahead of this section (the sections before it).
        lateral: each hop reads the next anchor's key and id in one ``LATERAL``
            subquery, from the index alone (PostgreSQL). Otherwise the hop finds the id,
            then joins the table for the key (SQLite has no ``LATERAL``). At 1M files on
            PostgreSQL: 196-225 ms against 249-261 ms warm, and the join read a table
            page per anchor when cold (959 ms).
    """
    every = max(every, 1)
    columns = [ordered.element for ordered in section.order]
    # The order ends with the id; a section ordered by the id alone is the unhashed files.
    key = columns[0] if len(columns) > 1 else None
    conditions = [*where, *section.conditions]
    start = (
        select(literal(1).label("n"), _value(key).label("key"), File.id.label("id"))
        .where(*conditions)
        .order_by(*section.order)
        .limit(1)
        .offset(every - 1 - before % every)
        .subquery("first_anchor")
    )
    anchors = select(start.c.n, start.c.key, start.c.id).cte("anchors", recursive=True)
    position = File.id if key is None else tuple_(key, File.id)
    previous = anchors.c.id if key is None else tuple_(anchors.c.key, anchors.c.id)
    beyond = position < previous if descending else position > previous
    following = (
        select(_value(key).label("key"), File.id.label("id"))
        .where(*conditions, beyond)
        .order_by(*section.order)
        .limit(1)
        .offset(every - 1)
    )
    if lateral:
        next_anchor = following.lateral("found")
        step = select(anchors.c.n + 1, next_anchor.c.key, next_anchor.c.id)
        anchors = anchors.union_all(step.select_from(anchors.join(next_anchor, true())))
        return select(anchors.c.key, anchors.c.id).order_by(anchors.c.n)
    found = aliased(File, name="found")
    found_key = literal("") if key is None else getattr(found, str(key.key))
    found_id = following.with_only_columns(File.id).scalar_subquery()
    hop = select(anchors.c.n + 1, found_key, found.id).select_from(
        anchors.join(found, found.id == found_id)
    )
    anchors = anchors.union_all(hop)
    return select(anchors.c.key, anchors.c.id).order_by(anchors.c.n)


def section_count(section: Section, where: Sequence[ColumnElement[bool]]) -> Select[Any]:
    """How many rows ``section`` has (the next section's anchors start after them)."""
    return select(func.count()).select_from(File).where(*where, *section.conditions)


def _value(key: ColumnElement[Any] | None) -> ColumnElement[Any]:
    return literal("") if key is None else key
