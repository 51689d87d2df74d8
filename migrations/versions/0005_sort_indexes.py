"""sort indexes: one index per sort order of the file list, carrying the common filters

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Issue 8: at 1M files every page of the file list, in every order and with the common
filters, comes from walking one index. Each sort order gets

    (sort column, id, content_type, extension, deleted_at)

* ``id`` is the keyset tie-break, so a page is one range of the index, never a sort.
* ``content_type``, ``extension`` and ``deleted_at`` ride along so ``type:`` and ``ext:``
  filters and the "not in the bin" condition (``live()``) are checked *inside the index*
  while walking it: only the entries that match cost a table read. Measured at 1M rows,
  ``type:image`` by name first skips ~100k non-images (track numbers sort before
  ``IMG_``): 6 ms walking this index on SQLite against 240 ms when SQLite read the
  content_type range and sorted it; on PostgreSQL an index-only scan of it
  (``FileRepository.page`` selects keys first, rows after) against 300 ms of table reads.
  Not partial (``WHERE deleted_at IS NULL``): the bin and lookups that include it use
  them too, and ``deleted_at`` in the index is as cheap to test.

Hash order (``SortColumn.HASH``) pages on ``hash_value`` itself, unhashed (NULL) files
first, read as two ranges (``repositories/keyset.py``): the unhashed files in id order
from the partial ``ix_files_unhashed`` (PostgreSQL does not take ``IS NULL`` as fixing the
first column of ``ix_files_sort_hash_value``, so could not read id order from it), then
the hashed ones from ``ix_files_sort_hash_value``. An
index on ``coalesce(hash_value, '')`` would match the old sort expression, but SQLite
cannot reflect expression indexes and the indexer checks its indexes by reflection.
``upload_time`` (Indexed) gets its own; the specification's (upload_time, content_type)
and hash_value indexes stay.

The plain (column, id) indexes of 0001 are replaced: these serve every query that used
them. Two more for the sidebar, which counts files per folder and per tag when a library
opens (0.7 s and 1-1.7 s at 1M files, read from the table): ``(folder_id, deleted_at,
file_size)`` replaces ``(folder_id)`` and answers the per-folder count and size from the
index; ``ix_files_in_bin``, on the ids of the few files in the bin, lets tag counts be
read from ``file_tags`` alone, less the links of binned files. And duplicate groups:
``(file_size, hash_value)`` gains ``deleted_at``, so grouping live files by size and hash
reads that index alone, in order (2.7 s at 1M files reading the table).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CARRIED = ("content_type", "extension", "deleted_at")
# Written out, not imported: this revision keeps doing what it did when the models change.
SORT_COLUMNS = (
    "filename", "file_path", "file_size", "content_type", "mtime_ns", "upload_time", "hash_value",
)  # fmt: skip
OLD_INDEXES = {
    "ix_files_filename_id": ["filename", "id"],
    "ix_files_file_size_id": ["file_size", "id"],
    "ix_files_mtime_ns_id": ["mtime_ns", "id"],
    "ix_files_content_type_id": ["content_type", "id"],
    "ix_files_folder_id": ["folder_id"],
    "ix_files_size_hash": ["file_size", "hash_value"],
}
NEW_INDEXES = {
    "ix_files_folder_id_live": ["folder_id", "deleted_at", "file_size"],
    "ix_files_size_hash": ["file_size", "hash_value", "deleted_at"],
}
PARTIAL_INDEXES = {
    "ix_files_in_bin": (["id"], "deleted_at IS NOT NULL"),
    "ix_files_unhashed": (["id", "deleted_at"], "hash_value IS NULL"),
}


def sort_index_columns(column: str) -> list[str]:
    return [column, "id", *(name for name in CARRIED if name != column)]


def upgrade() -> None:
    for name in OLD_INDEXES:
        op.drop_index(name, table_name="files")
    for column in SORT_COLUMNS:
        op.create_index(f"ix_files_sort_{column}", "files", sort_index_columns(column))
    for name, columns in NEW_INDEXES.items():
        op.create_index(name, "files", columns)
    for name, (columns, predicate) in PARTIAL_INDEXES.items():
        where = sa.text(predicate)
        op.create_index(name, "files", columns, sqlite_where=where, postgresql_where=where)
    if op.get_context().dialect.name == "postgresql":
        op.execute("ANALYZE files")  # the planner costs the new indexes from statistics


def downgrade() -> None:
    for name in [*PARTIAL_INDEXES, *NEW_INDEXES]:
        op.drop_index(name, table_name="files")
    for column in SORT_COLUMNS:
        op.drop_index(f"ix_files_sort_{column}", table_name="files")
    for name, columns in OLD_INDEXES.items():
        op.create_index(name, "files", columns)
