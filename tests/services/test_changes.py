"""Two clients on one library: live updates, no lost updates, one tag per name.

Every "client" is its own ``Database`` (its own pool and listener), as two desktops would
be; one test runs the writer in another process, through the real command line.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from filemeta_gui.db.engine import Database
from filemeta_gui.domain.changes import ChangeEvent, ChangeKind, ChangeOp
from filemeta_gui.domain.enums import AccessType
from filemeta_gui.domain.errors import StaleDataError
from filemeta_gui.repositories import FileRepository, PermissionRepository, TagRepository
from filemeta_gui.services.changes import ChangeFeed
from filemeta_gui.services.file_details import FileDetailsService
from filemeta_gui.services.library import LibraryService
from filemeta_gui.services.tags import TagService
from tests.support.live import (
    WAIT_S,
    FeedRecorder,
    add_file,
    admin_policy,
    count,
    guest_policy,
)

only_postgresql = pytest.mark.parametrize("backend", ["postgresql"])
only_sqlite = pytest.mark.parametrize("backend", ["sqlite"])
CLI = "from filemeta_gui.cli import main; raise SystemExit(main())"


@pytest.fixture
async def second(db_url: str) -> object:
    """A second client on the test's library."""
    database = await Database.open(db_url)
    try:
        yield database
    finally:
        await database.dispose()


def _touches(file_id: uuid.UUID, kind: ChangeKind = ChangeKind.FILE_TAGS) -> object:
    return lambda e: e.kind is kind and file_id in e.ids


@only_postgresql
async def test_a_tag_added_in_one_client_reaches_the_other_within_a_second(
    database: Database, second: Database
) -> None:
    file_id = await add_file(database, "/team/report.pdf")
    policy = await admin_policy(database)
    async with FeedRecorder(ChangeFeed(second, policy)) as feed:
        await feed.connected()
        await TagService(database, policy).attach(["reviewed"], [file_id])
        seen = await feed.change(_touches(file_id), within=1.0)  # the target
        assert (seen.op, seen.who) == (ChangeOp.INSERT, "postgres")
    # The other client refetches through its services and sees the tag.
    record = await LibraryService(second, policy).get(file_id)
    assert record.tags == ("reviewed",)


@only_postgresql
async def test_a_change_made_by_another_process_arrives(
    database: Database, db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "shared.txt"
    file_id = await add_file(database, str(path))
    policy = await admin_policy(database)
    async with FeedRecorder(ChangeFeed(database, policy)) as feed:
        await feed.connected()
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", CLI, "--db", db_url, "tag", "add", "from elsewhere", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        await feed.change(_touches(file_id))


async def test_twenty_concurrent_taggers_on_two_clients_lose_nothing(
    database: Database, second: Database
) -> None:
    file_id = await add_file(database, "/team/photo.jpg")
    policy = await admin_policy(database)
    clients = [TagService(database, policy), TagService(second, policy)]
    await asyncio.gather(*(clients[n % 2].attach([f"tag {n:02}"], [file_id]) for n in range(20)))
    record = await LibraryService(database, policy).get(file_id)
    assert record.tags == tuple(f"tag {n:02}" for n in range(20))


async def test_two_clients_creating_the_same_tag_end_with_one(
    database: Database, second: Database
) -> None:
    policy = await admin_policy(database)
    files = [await add_file(database, f"/team/{n}.txt") for n in range(10)]
    clients = [TagService(database, policy), TagService(second, policy)]
    await asyncio.gather(*(clients[n % 2].attach(["Holiday"], [f]) for n, f in enumerate(files)))
    assert await count(database, "SELECT count(*) FROM tags WHERE name = 'Holiday'") == 1
    assert await count(database, "SELECT count(DISTINCT file_id) FROM file_tags") == 10


@only_postgresql
async def test_the_second_creator_gets_the_first_ones_row(
    database: Database, second: Database
) -> None:
    """The exact race: B inserts while A's insert of the same name is not yet committed.
    B waits on the unique index, A commits, B's ON CONFLICT DO NOTHING + SELECT returns
    A's row instead of failing."""
    a_inserted, a_may_commit = asyncio.Event(), asyncio.Event()

    async def first() -> uuid.UUID:
        async with database.session(write=True) as session:
            (tag,) = await TagRepository(session).get_or_create(["Contested"])
            a_inserted.set()
            await a_may_commit.wait()
            return tag.id

    async def then_second() -> uuid.UUID:
        await a_inserted.wait()
        async with second.session(write=True) as session:
            (tag,) = await TagRepository(session).get_or_create(["Contested"])
            return tag.id

    a_task, b_task = asyncio.create_task(first()), asyncio.create_task(then_second())
    await _until_blocked_on_a_lock(database)
    a_may_commit.set()
    a_id, b_id = await asyncio.wait_for(asyncio.gather(a_task, b_task), WAIT_S)
    assert a_id == b_id
    assert await count(database, "SELECT count(*) FROM tags WHERE name = 'Contested'") == 1


async def _until_blocked_on_a_lock(database: Database) -> None:
    """Poll pg_stat_activity (a query per look, no sleep) until a backend waits on a lock."""

    async def _look() -> None:
        while not await count(
            database,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'",
        ):
            pass

    await asyncio.wait_for(_look(), WAIT_S)


async def test_editing_a_record_someone_else_changed_is_refused(
    database: Database, second: Database
) -> None:
    file_id = await add_file(database, "/team/scan.tiff")
    policy = await admin_policy(database)
    mine, theirs = FileDetailsService(database, policy), FileDetailsService(second, policy)
    read = await LibraryService(database, policy).get(file_id)

    saved = await theirs.edit(file_id, read.version, content_type="image/tiff")
    assert saved.version == read.version + 1
    with pytest.raises(StaleDataError, match="changed by someone else") as caught:
        await mine.edit(file_id, read.version, content_type="application/octet-stream")
    assert "reload" in str(caught.value)
    # Reloading gives the current version; the edit then goes through.
    current = await LibraryService(database, policy).get(file_id)
    assert current.content_type == "image/tiff"
    assert (await mine.edit(file_id, current.version, content_type="image/x-tiff")).version == (
        current.version + 1
    )
    # Two saves from the same version at the same moment: exactly one wins.
    base = (await LibraryService(database, policy).get(file_id)).version
    outcomes = await asyncio.gather(
        mine.edit(file_id, base, content_type="text/a"),
        theirs.edit(file_id, base, content_type="text/b"),
        return_exceptions=True,
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["FileRecord", "StaleDataError"]


@only_postgresql
async def test_a_guest_hears_only_about_files_they_may_read(
    database: Database, second: Database
) -> None:
    admin = await admin_policy(database)
    hidden = await add_file(database, "/team/salaries.xlsx")
    shared = await add_file(database, "/team/menu.pdf")
    guest, user = await guest_policy(database)
    async with database.session(write=True) as session:
        await PermissionRepository(session).grant(user.id, [shared], AccessType.READ)
    async with FeedRecorder(ChangeFeed(second, guest)) as feed:
        await feed.connected()
        tags = TagService(database, admin)
        await tags.attach(["confidential"], [hidden])  # first: the guest must not hear it
        await tags.attach(["lunch"], [shared])
        link = await feed.change(lambda e: e.kind is ChangeKind.FILE_TAGS)
        assert link.ids == (shared,)
        async with database.session(write=True) as session:
            await PermissionRepository(session).grant(user.id, [hidden], AccessType.WRITE)
        grant = await feed.change(lambda e: e.kind is ChangeKind.PERMISSIONS)
        assert grant.ids == () and grant.who is None  # "your access may have changed"
    assert all(hidden not in e.ids for e in feed.events if isinstance(e, ChangeEvent)), (
        "the feed told a guest about a file they could not read"
    )


@only_sqlite
async def test_sqlite_feed_notices_another_client_writing_the_file(
    database: Database, second: Database
) -> None:
    policy = await admin_policy(database)
    file_id = await add_file(database, "/home/notes.txt")
    async with FeedRecorder(ChangeFeed(database, policy, poll_s=0.05)) as feed:
        await feed.connected()
        await TagService(second, policy).attach(["seen"], [file_id])
        change = await feed.change()
        assert change.is_everything
    async with database.session() as session:
        assert (await FileRepository(session).tag_names([file_id]))[file_id] == ("seen",)
