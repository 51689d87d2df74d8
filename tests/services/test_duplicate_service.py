from __future__ import annotations

import os
from pathlib import Path

import pytest
import send2trash.plat_other as trash_impl

from filemeta_gui.domain.errors import ConflictError
from filemeta_gui.domain.removal import RemovalMode
from filemeta_gui.services.container import Services
from tests.repositories.factories import add_files, digest, file_row


def _on_disk(folder: Path, name: str, content: bytes) -> dict:
    path = folder / name
    path.write_bytes(content)
    return _row(path, content)


def _row(path: Path, content: bytes) -> dict:
    st = path.stat()
    return file_row(
        str(path),
        file_size=len(content),
        hash_value=digest(content.decode()),
        inode=st.st_ino,
        device=st.st_dev,
    )


async def test_groups_sorted_by_reclaimable_and_hard_links_count_once(
    services: Services, tmp_path: Path
) -> None:
    big, small = b"B" * 3000, b"s" * 10
    rows = [_on_disk(tmp_path, "big1", big), _on_disk(tmp_path, "big2", big)]
    os.link(tmp_path / "big1", tmp_path / "big1-link")
    rows += [
        _row(tmp_path / "big1-link", big),
        _on_disk(tmp_path, "s1", small),
        _on_disk(tmp_path, "s2", small),
    ]
    rows.append(file_row(str(tmp_path / "empty1"), file_size=0, hash_value=digest("")))
    rows.append(file_row(str(tmp_path / "empty2"), file_size=0, hash_value=digest("")))
    async with services.database.session() as session:
        await add_files(session, *rows)
    groups = await services.duplicates.groups()
    assert [(g.size, g.count) for g in groups] == [(3000, 3), (10, 2)]
    assert groups[0].reclaimable == 3000  # three paths, two inodes
    assert sum(c.hard_link for c in groups[0].copies) == 2
    with_empty = await services.duplicates.groups(include_empty=True)
    assert [g.size for g in with_empty][-1] == 0
    assert await services.duplicates.groups(min_size=100) == groups[:1]


async def test_last_copy_is_never_removed(services: Services, tmp_path: Path) -> None:
    rows = [_on_disk(tmp_path, "a", b"same"), _on_disk(tmp_path, "b", b"same")]
    async with services.database.session() as session:
        created = await add_files(session, *rows)
    with pytest.raises(ConflictError):
        await services.duplicates.remove([r.id for r in created], RemovalMode.DISK)
    assert (tmp_path / "a").exists() and (tmp_path / "b").exists()
    assert await services.library.count() == 2


async def test_remove_from_disk_and_library(services: Services, tmp_path: Path) -> None:
    rows = [_on_disk(tmp_path, n, b"dup") for n in ("a", "b", "c")]
    async with services.database.session() as session:
        created = await add_files(session, *rows)
    result = await services.duplicates.remove([created[0].id], RemovalMode.DISK)
    assert result.removed == (created[0].id,) and result.bytes_freed == 3
    assert not (tmp_path / "a").exists()
    result = await services.duplicates.remove([created[1].id], RemovalMode.LIBRARY)
    assert (tmp_path / "b").exists() and result.bytes_freed == 0
    assert await services.duplicates.groups() == []


async def test_move_to_trash(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_home = tmp_path / "xdg"
    monkeypatch.setattr(trash_impl, "XDG_DATA_HOME", os.fsencode(data_home))
    monkeypatch.setattr(trash_impl, "HOMETRASH_B", os.fsencode(data_home / "Trash"))
    monkeypatch.setattr(trash_impl, "HOMETRASH", str(data_home / "Trash"))
    folder = tmp_path / "files"
    folder.mkdir()
    rows = [_on_disk(folder, n, b"dup") for n in ("a", "b")]
    async with services.database.session() as session:
        created = await add_files(session, *rows)
    result = await services.duplicates.remove([created[0].id], RemovalMode.TRASH)
    assert result.removed == (created[0].id,) and not result.failures
    assert not (folder / "a").exists()
    assert (data_home / "Trash" / "files" / "a").exists()
