"""Bad input: each case finishes or stops cleanly, says why, and loses nothing indexed.

The tests run as root here, and root reads anything whatever its mode bits say, so
``chmod 000`` cannot make a file unreadable. Unreadable files and folders are made the
ways that do happen to root: the file vanishes or turns into a folder between the walk
and the read, the folder is replaced or removed while the walk reaches it, or (for a
refusal that is not "gone") the listing hook raises the ``PermissionError`` the OS would.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest

from filemeta_gui.db.engine import Database
from filemeta_gui.domain.paths import display
from filemeta_gui.domain.scan import ScanError, ScanOptions
from filemeta_gui.services.indexer.hooks import ScanHooks
from tests.services.indexer.conftest import (
    register,
    rows,
    run_scan,
    scan_path,
    sha256,
    write,
    write_raw,
)


def reasons(run_errors: object) -> dict[str, str]:
    return {issue.path: issue.reason for issue in run_errors}  # type: ignore[attr-defined]


async def test_file_deleted_between_walk_and_hash(database: Database, tree: Path) -> None:
    victim = tree / "sub" / "b.txt"

    def delete_it(path: str) -> None:
        if path == str(victim):
            victim.unlink()

    run = await scan_path(database, tree, hooks=ScanHooks(before_hash=delete_it))

    found = await rows(database)
    assert found[str(victim)].deleted_at is not None
    assert found[str(tree / "a.txt")].hash_value == sha256(tree / "a.txt")
    assert "vanished" in reasons(run.last.error_samples)[str(victim)]
    assert run.last.done and run.last.errors == 1 and run.last.removed == 1


async def test_file_replaced_by_a_folder_before_it_is_read(database: Database, tree: Path) -> None:
    victim = tree / "a.txt"

    def replace_it(path: str) -> None:
        if path == str(victim):
            victim.unlink()
            victim.mkdir()

    run = await scan_path(database, tree, hooks=ScanHooks(before_hash=replace_it))

    assert "no longer a regular file" in reasons(run.last.error_samples)[str(victim)]
    assert (await rows(database))[str(victim)].hash_value is None
    assert run.last.done and run.last.hashed == 2


async def test_folder_replaced_by_a_file_while_walking(database: Database, tree: Path) -> None:
    folder_id = await register(database, tree)
    await run_scan(database, folder_id)
    sub = tree / "sub"

    def replace_folder(path: str) -> None:
        if path == str(sub):
            shutil.rmtree(sub)
            sub.write_text("now a file")

    run = await run_scan(database, folder_id, hooks=ScanHooks(before_listing=replace_folder))

    assert "cannot list this folder" in reasons(run.last.error_samples)[str(sub)]
    found = await rows(database)
    assert found[str(sub / "b.txt")].deleted_at is not None  # it really is gone
    assert found[str(tree / "a.txt")].deleted_at is None
    assert run.last.done


async def test_folder_that_refuses_listing_keeps_its_rows(database: Database, tree: Path) -> None:
    folder_id = await register(database, tree)
    await run_scan(database, folder_id)
    sub = tree / "sub"

    def refuse(path: str) -> None:
        if path == str(sub):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)

    run = await run_scan(database, folder_id, hooks=ScanHooks(before_listing=refuse))

    assert "permission denied" in reasons(run.last.error_samples)[str(sub)]
    found = await rows(database)
    # Not known to be gone: neither its files nor those of its subfolders are removed.
    assert found[str(sub / "b.txt")].deleted_at is None
    assert found[str(sub / "deeper" / "copy-of-a.txt")].deleted_at is None
    assert run.last.removed == 0 and run.last.done


@pytest.mark.parametrize("follow", [False, True])
async def test_broken_symlinks(database: Database, tree: Path, follow: bool) -> None:
    link = tree / "dangling"
    link.symlink_to(tree / "nowhere")

    run = await scan_path(database, tree, ScanOptions(follow_symlinks=follow))

    assert str(link) not in await rows(database)
    assert run.last.done and run.last.new == 3
    if follow:
        assert "broken symbolic link" in reasons(run.last.error_samples)[str(link)]
    else:
        assert run.last.errors == 0 and run.last.skipped == 1


async def test_symlink_loops_are_entered_once(database: Database, tree: Path) -> None:
    (tree / "sub" / "back-to-root").symlink_to(tree)
    (tree / "sub" / "deeper" / "self").symlink_to(".")
    (tree / "knot").symlink_to(tree / "knot")  # resolving it is itself a loop (ELOOP)
    outside = write(tree.parent / "outside" / "o.txt", "outside")
    (tree / "linked-folder").symlink_to(outside.parent)

    run = await scan_path(database, tree, ScanOptions(follow_symlinks=True))

    paths = set(await rows(database))
    assert paths == {
        str(tree / "a.txt"),
        str(tree / "sub" / "b.txt"),
        str(tree / "sub" / "deeper" / "copy-of-a.txt"),
        str(tree / "linked-folder" / "o.txt"),
    }
    found = reasons(run.last.error_samples)
    assert "loop" in found[str(tree / "sub" / "back-to-root")]
    assert "loop" in found[str(tree / "sub" / "deeper" / "self")]
    assert "loop" in found[str(tree / "knot")]
    assert run.last.done


async def test_fifos_are_never_opened(database: Database, tree: Path) -> None:
    os.mkfifo(tree / "pipe")
    (tree / "pipe-link").symlink_to(tree / "pipe")
    # Opening a FIFO for reading blocks until a writer comes: finishing proves we did not.
    for follow in (False, True):
        run = await scan_path(database, tree, ScanOptions(follow_symlinks=follow))
        assert run.last.done
        assert not {str(tree / "pipe"), str(tree / "pipe-link")} & set(await rows(database))


async def test_names_that_are_not_utf8_are_found_again(database: Database, tmp_path: Path) -> None:
    root = tmp_path / "latin1"
    root.mkdir()
    raw_folder = os.fsencode(root) + b"/r\xe9sum\xe9s"
    os.mkdir(raw_folder)
    raw_file = raw_folder + b"/caf\xe9\xff.txt"
    write_raw(raw_file, b"menu")
    folder_id = await register(database, root)

    first = await run_scan(database, folder_id)
    again = await run_scan(database, folder_id)

    path = os.fsdecode(raw_file)
    row = (await rows(database))[path]
    assert row.raw_path == raw_file
    assert row.file_path == display(path) and "\\xe9" in row.file_path
    assert row.filename == "caf\\xe9\\xff.txt"
    assert row.file_path.endswith("/" + row.filename)
    assert row.hash_value == sha256(raw_file)
    assert (first.last.new, again.last.new, again.last.unchanged) == (1, 0, 1)
    os.rename(raw_file, raw_folder + b"/\xe9t\xe9.txt")
    moved = await run_scan(database, folder_id)
    assert moved.last.moved == 1
    assert (await rows(database))[os.fsdecode(raw_folder + b"/\xe9t\xe9.txt")].id == row.id


async def test_longest_names(database: Database, tmp_path: Path) -> None:
    root = tmp_path / "long"
    root.mkdir()
    names = [
        b"n" * 251 + b".txt",  # 255 bytes, ASCII
        "é".encode() * 125 + b".txt",  # 254 bytes, 129 characters
        b"\xff" * 251 + b".txt",  # 255 bytes shown as 1,008 characters of \xHH
    ]
    for name in names:
        write_raw(os.fsencode(root) + b"/" + name, name)

    run = await scan_path(database, root)

    found = await rows(database)
    assert run.last.new == 3 and run.last.errors == 0
    for name in names:
        row = found[os.fsdecode(os.fsencode(root) + b"/" + name)]
        assert len(row.filename) <= 255
        # Word search looks in the path alone: the (cut) name must be a part of it.
        assert row.filename in row.file_path.rsplit("/", 1)[1]
        assert row.hash_value is not None


def _deep_folder(base: Path, total_bytes: int) -> bytes:
    """Create nested folders until the path is ``total_bytes`` long, past PATH_MAX if asked.

    Uses ``dir_fd`` so each ``mkdir`` sees only one short name: the OS refuses whole paths
    over PATH_MAX (4096) but not folders that deep.
    """
    part = b"d" * 200
    path = os.fsencode(base)
    fd = os.open(path, os.O_RDONLY)
    try:
        while len(path) + len(part) + 1 <= total_bytes:
            os.mkdir(part, dir_fd=fd)
            child = os.open(part, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = child
            path += b"/" + part
        with open(os.open(b"leaf.txt", os.O_WRONLY | os.O_CREAT, dir_fd=fd), "wb") as handle:
            handle.write(b"deep")
    finally:
        os.close(fd)
    return path


async def test_deep_paths(database: Database, tmp_path: Path) -> None:
    root = tmp_path / "deep"
    for branch in "abc":
        (root / branch).mkdir(parents=True)
    indexed = _deep_folder(root / "a", 2_000)
    too_long_for_index = _deep_folder(root / "b", 3_000)
    too_long_for_os = _deep_folder(root / "c", 4_400)

    run = await scan_path(database, root)

    found = await rows(database)
    assert os.fsdecode(indexed + b"/leaf.txt") in found
    assert found[os.fsdecode(indexed + b"/leaf.txt")].hash_value == sha256(indexed + b"/leaf.txt")
    problems = reasons(run.last.error_samples)
    assert "not indexed" in problems[os.fsdecode(too_long_for_index + b"/leaf.txt")]
    assert any("longer than the operating system allows" in why for why in problems.values())
    assert not any(path.startswith(os.fsdecode(too_long_for_os)) for path in found)
    assert run.last.done and run.last.new == 1


async def test_file_growing_while_read_is_read_again(database: Database, tree: Path) -> None:
    target = tree / "a.txt"

    def grow_once(path: str, attempt: int) -> None:
        if path == str(target) and attempt == 1:
            with open(target, "ab") as handle:
                handle.write(b" and more")

    run = await scan_path(database, tree, hooks=ScanHooks(after_chunk=grow_once))

    row = (await rows(database))[str(target)]
    assert row.hash_value == sha256(target)
    assert row.file_size == len("alpha and more") == target.stat().st_size
    assert run.last.errors == 0


async def test_file_that_keeps_growing_is_reported(database: Database, tree: Path) -> None:
    target = tree / "a.txt"

    def grow_always(path: str, attempt: int) -> None:
        if path == str(target):
            with open(target, "ab") as handle:
                handle.write(b"+")

    run = await scan_path(database, tree, hooks=ScanHooks(after_chunk=grow_always))

    assert "kept changing" in reasons(run.last.error_samples)[str(target)]
    assert (await rows(database))[str(target)].hash_value is None
    assert run.last.done and run.last.hashed == 2


async def test_missing_folder_is_a_clear_error_and_removes_nothing(
    database: Database, tree: Path
) -> None:
    folder_id = await register(database, tree)
    await run_scan(database, folder_id)
    shutil.rmtree(tree)

    with pytest.raises(ScanError, match="does not exist"):
        await run_scan(database, folder_id)

    assert all(row.deleted_at is None for row in (await rows(database)).values())


async def test_a_file_as_folder_is_a_clear_error(database: Database, tmp_path: Path) -> None:
    plain = write(tmp_path / "plain.txt", "x")
    with pytest.raises(ScanError, match="is not a folder"):
        await scan_path(database, plain)
