"""The keep rules of the Duplicates view (pure functions over domain records)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from filemeta_gui.domain.records import DuplicateCopy, DuplicateGroup, FileRecord
from filemeta_gui.ui.dialogs.duplicate_rules import (
    KeepRule,
    copies_to_keep,
    freed_bytes,
    is_inside,
)


def copy(path: str, mtime_s: int, inode: tuple[int, int] | None = None) -> DuplicateCopy:
    record = FileRecord(
        id=uuid.uuid4(),
        filename=path.rsplit("/", 1)[-1],
        file_path=path,
        os_path=path,
        file_size=1000,
        content_type="image/png",
        upload_time=datetime(2024, 1, 1, tzinfo=UTC),
        mtime_ns=mtime_s * 1_000_000_000,
        hash_value="ab" * 32,
    )
    return DuplicateCopy(record, inode_key=inode)


A = copy("/photos/2024/summer/beach.png", 300)
B = copy("/backup/beach.png", 100)
C = copy("/photos/beach-copy.png", 200)
GROUP = DuplicateGroup("ab" * 32, 1000, (A, B, C))


def test_newest_oldest_and_shortest_path() -> None:
    assert copies_to_keep(GROUP, KeepRule.NEWEST) == {A.file.id}
    assert copies_to_keep(GROUP, KeepRule.OLDEST) == {B.file.id}
    assert copies_to_keep(GROUP, KeepRule.SHORTEST_PATH) == {B.file.id}


def test_ties_are_broken_by_path_so_rules_are_stable() -> None:
    first, second = copy("/b/x.png", 5), copy("/a/x.png", 5)
    group = DuplicateGroup("cd" * 32, 1000, (first, second))
    assert copies_to_keep(group, KeepRule.NEWEST) == {second.file.id}
    assert copies_to_keep(group, KeepRule.SHORTEST_PATH) == {second.file.id}


def test_inside_a_folder_keeps_every_copy_there_or_does_not_apply() -> None:
    assert copies_to_keep(GROUP, KeepRule.IN_FOLDER, "/photos") == {A.file.id, C.file.id}
    assert copies_to_keep(GROUP, KeepRule.IN_FOLDER, "/photos/2024/") == {A.file.id}
    assert copies_to_keep(GROUP, KeepRule.IN_FOLDER, "/elsewhere") is None
    assert copies_to_keep(GROUP, KeepRule.IN_FOLDER, None) is None
    assert not is_inside("/photos-old/x.png", "/photos")
    assert is_inside("/x.png", "/")


def test_hard_links_to_a_kept_copy_free_nothing() -> None:
    kept = copy("/a/x.png", 1, inode=(1, 10))
    link = copy("/b/x.png", 1, inode=(1, 10))
    other = copy("/c/x.png", 1, inode=(1, 11))
    group = DuplicateGroup("ef" * 32, 1000, (kept, link, other))
    assert freed_bytes(group, [link.file.id]) == 0
    assert freed_bytes(group, [other.file.id]) == 1000
    assert freed_bytes(group, [link.file.id, other.file.id]) == 1000
    assert freed_bytes(group, [kept.file.id, link.file.id, other.file.id]) == 0
