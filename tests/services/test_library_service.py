from __future__ import annotations

import pytest

from filemeta_gui.domain.enums import AccessType, Role, SortColumn
from filemeta_gui.domain.errors import PermissionDeniedError, QuerySyntaxError
from filemeta_gui.domain.records import PageRequest
from filemeta_gui.repositories import PermissionRepository
from filemeta_gui.repositories.convert import user_record
from filemeta_gui.services.access import AccessPolicy
from filemeta_gui.services.container import Services
from filemeta_gui.services.identity import Identity
from filemeta_gui.services.library import LibraryService
from tests.repositories.factories import add_files, add_user, digest, file_row


async def _library(services: Services) -> list:
    async with services.database.session() as session:
        return await add_files(
            session,
            file_row(
                "/lib/holiday/beach.jpg",
                content_type="image/jpeg",
                extension="jpg",
                file_size=5_000,
            ),
            file_row("/lib/holiday/notes 100%.txt", extension="txt", file_size=10),
            file_row(
                "/lib/work/report.pdf",
                content_type="application/pdf",
                extension="pdf",
                hash_value=digest("r"),
            ),
        )


async def test_pages_walk_the_whole_library_in_order(services: Services) -> None:
    await _library(services)
    seen, after = [], None
    while True:
        page = await services.library.page(
            "", PageRequest(sort=SortColumn.SIZE, limit=2, after=after)
        )
        seen.extend(r.file_size for r in page.rows)
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == sorted(seen) and len(seen) == 3


async def test_query_filters_rows_and_counts(services: Services) -> None:
    await _library(services)
    page = await services.library.page("holiday -ext:txt", PageRequest())
    assert [r.filename for r in page.rows] == ["beach.jpg"]
    assert await services.library.count("type:image OR ext:pdf") == 2
    assert await services.library.count('"100%"') == 1


async def test_malformed_query_raises_syntax_error(services: Services) -> None:
    with pytest.raises(QuerySyntaxError):
        await services.library.page("(beach", PageRequest())


async def test_remove_and_restore_keep_the_row(services: Services) -> None:
    rows = await _library(services)
    assert await services.library.remove([rows[0].id]) == 1
    assert await services.library.count() == 2
    assert await services.library.restore([rows[0].id]) == 1
    assert (await services.library.get(rows[0].id)).deleted_at is None


async def test_find_by_paths_returns_records_with_tags(services: Services) -> None:
    rows = await _library(services)
    await services.tags.attach(["sea"], [rows[0].id])
    found = await services.library.find_by_paths(["/lib/holiday/beach.jpg", "/nowhere"])
    assert list(found) == ["/lib/holiday/beach.jpg"]
    assert found["/lib/holiday/beach.jpg"].tags == ("sea",)


async def test_guest_sees_only_granted_files_with_their_level(services: Services) -> None:
    rows = await _library(services)
    async with services.database.session() as session:
        guest = await add_user(session, ip="10.0.0.9", role=Role.GUEST, login="guest_lib")
        await PermissionRepository(session).grant(guest.id, [rows[1].id], AccessType.READ)
    library = LibraryService(services.database, AccessPolicy(Identity(user=user_record(guest))))
    page = await library.page("", PageRequest())
    assert [(r.filename, r.access) for r in page.rows] == [("notes 100%.txt", AccessType.READ)]
    assert (await library.stats()).files == 1
    with pytest.raises(PermissionDeniedError):
        await library.remove([rows[1].id])


async def test_anchors_reach_any_block_of_a_query(services: Services) -> None:
    async with services.database.session() as session:
        await add_files(
            session,
            *[
                file_row(f"/lib/{i:02}.{ext}", extension=ext, file_size=i % 3)
                for i, ext in ((i, "jpg" if i % 2 else "txt") for i in range(20))
            ],
        )
    every = 3
    anchors = await services.library.anchors("ext:jpg", SortColumn.SIZE, True, every)
    walk = await services.library.page("ext:jpg", PageRequest(SortColumn.SIZE, True, limit=100))
    assert len(walk.rows) == 10 and len(anchors) == 10 // every
    for block, anchor in enumerate(anchors, start=1):
        page = await services.library.page(
            "ext:jpg", PageRequest(SortColumn.SIZE, True, limit=every, after=anchor)
        )
        assert page.rows == walk.rows[block * every : (block + 1) * every]


async def test_anchors_see_only_what_the_user_may_see(services: Services) -> None:
    rows = await _library(services)
    async with services.database.session() as session:
        guest = await add_user(session, ip="10.0.0.8", role=Role.GUEST, login="guest_anchor")
        await PermissionRepository(session).grant(guest.id, [rows[2].id], AccessType.READ)
    library = LibraryService(services.database, AccessPolicy(Identity(user=user_record(guest))))
    assert await library.anchors("", SortColumn.NAME, False, 1) == [("report.pdf", rows[2].id)]
    assert len(await services.library.anchors("", SortColumn.NAME, False, 1)) == 3
    with pytest.raises(QuerySyntaxError):
        await services.library.anchors("(beach", SortColumn.NAME, False, 1)
