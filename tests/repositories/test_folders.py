"""FolderRepository counts and SavedSearchRepository upserts."""

from __future__ import annotations

from filemeta_gui.db.engine import Database
from filemeta_gui.domain.paths import to_stored
from filemeta_gui.repositories import FileRepository, FolderRepository, SavedSearchRepository
from filemeta_gui.repositories.convert import folder_record, saved_search_record
from tests.repositories.factories import add_files, file_row


async def test_list_with_counts(database: Database) -> None:
    async with database.session() as session:
        folders = FolderRepository(session)
        music = await folders.create(path="/music")
        empty = await folders.create(path="/empty", excludes="*.tmp\n\n.cache\n")
        rows = await add_files(
            session,
            file_row("/music/a", folder_id=music.id, file_size=10),
            file_row("/music/b", folder_id=music.id, file_size=32),
            file_row("/music/c", folder_id=music.id, file_size=1000),
        )
        await FileRepository(session).soft_delete([rows[2].id])
        listed = await folders.list_with_counts()
        assert [(f.path, n, size) for f, n, size in listed] == [
            ("/empty", 0, 0),
            ("/music", 2, 42),
        ]
        record = folder_record(listed[0][0], listed[0][1], listed[0][2])
        assert record.excludes == ("*.tmp", ".cache") and record.id == empty.id


async def test_folder_record_keeps_raw_bytes(database: Database) -> None:
    text, raw = to_stored("/m\udce9dia")  # the byte 0xE9 alone: not UTF-8
    async with database.session() as session:
        folder = await FolderRepository(session).create(path=text, raw_path=raw)
        record = folder_record(folder)
        assert record.path == "/m\\xe9dia" and record.os_path == "/m\udce9dia"


async def test_saved_searches_upsert_by_name(database: Database) -> None:
    async with database.session() as session:
        searches = SavedSearchRepository(session)
        first = await searches.save("photos", "type:image")
        await searches.save("big", "size:>1G")
        again = await searches.save("photos", "type:image tag:holiday")
        assert again.id == first.id and again.query == "type:image tag:holiday"
        assert [saved_search_record(s).name for s in await searches.all()] == ["big", "photos"]
        assert (await searches.by_name("photos")) is again
        assert await searches.delete(first.id)
        assert await searches.by_name("photos") is None
