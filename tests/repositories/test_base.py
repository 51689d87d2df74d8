"""BaseRepository CRUD, exercised through the file and folder repositories."""

from __future__ import annotations

import uuid

import pytest

from filemeta_gui.db.engine import Database
from filemeta_gui.db.models import File
from filemeta_gui.domain.errors import NotFoundError, ValidationError
from filemeta_gui.repositories import FileRepository, FolderRepository
from tests.repositories.factories import add_files, file_row


async def test_create_get_update_delete(database: Database) -> None:
    async with database.session() as session:
        files = FileRepository(session)
        created = await files.create(**file_row("/a/one.txt"))
        file_id = created.id
    async with database.session() as session:
        files = FileRepository(session)
        loaded = await files.get(file_id)
        assert loaded is not None and loaded.file_path == "/a/one.txt"
        assert loaded.upload_time.tzinfo is not None
        updated = await files.update(file_id, file_size=42, content_type="image/png")
        assert (updated.file_size, updated.content_type) == (42, "image/png")
    async with database.session() as session:
        files = FileRepository(session)
        assert (await files.require(file_id)).file_size == 42
        assert await files.delete(file_id) is True
        assert await files.delete(file_id) is False
    async with database.session() as session:
        assert await FileRepository(session).get(file_id) is None


async def test_missing_rows_and_unknown_fields(database: Database) -> None:
    async with database.session() as session:
        files = FileRepository(session)
        with pytest.raises(NotFoundError, match="No file with id"):
            await files.require(uuid.uuid4())
        with pytest.raises(NotFoundError):
            await files.update(uuid.uuid4(), file_size=1)
        with pytest.raises(ValidationError, match="no field colour"):
            await files.create(**file_row("/x"), colour="red")
        with pytest.raises(ValidationError):
            await files.find_by(colour="red")


async def test_count_exists_find_by(database: Database) -> None:
    async with database.session() as session:
        await add_files(
            session,
            file_row("/a/1.txt"),
            file_row("/a/2.png", content_type="image/png"),
            file_row("/a/3.png", content_type="image/png"),
        )
        files = FileRepository(session)
        assert await files.count() == 3
        assert await files.count(File.content_type == "image/png") == 2
        assert await files.exists(File.file_path == "/a/2.png")
        assert not await files.exists(File.file_path == "/nowhere")
        found = await files.find_by(content_type="image/png")
        assert sorted(f.file_path for f in found) == ["/a/2.png", "/a/3.png"]


async def test_bulk_create_update_delete(database: Database) -> None:
    rows = [file_row(f"/bulk/{i:04}.txt", file_size=i) for i in range(1500)]
    async with database.session() as session:
        created = await FileRepository(session).bulk_create(rows)
        # RETURNING keeps the order of the parameters, and Python defaults ran per row.
        assert [f.file_path for f in created] == [r["file_path"] for r in rows]
        assert len({f.id for f in created}) == 1500
        ids = [f.id for f in created]
    async with database.session() as session:
        files = FileRepository(session)
        changed = await files.bulk_update([{"id": i, "file_size": 7} for i in ids[:10]])
        assert changed == 10
        assert await files.count(File.file_size == 7) == 10
        assert await files.bulk_delete([*ids[:1200], ids[0]]) == 1200
        assert await files.count() == 300
        assert await files.bulk_create([]) == []
        assert await files.bulk_update([]) == 0


async def test_folder_crud(database: Database) -> None:
    async with database.session() as session:
        folders = FolderRepository(session)
        folder = await folders.create(path="/photos", excludes="*.tmp\n.cache")
    async with database.session() as session:
        folders = FolderRepository(session)
        again = await folders.get_by_path("/photos")
        assert again is not None and again.id == folder.id
        assert again.follow_symlinks is False
        assert await folders.get_by_path("/elsewhere") is None
