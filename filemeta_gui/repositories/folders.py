"""``FolderRepository``: the indexed roots and what each holds."""

from __future__ import annotations

from sqlalchemy import func, select

from filemeta_gui.db.models import File, Folder
from filemeta_gui.repositories.base import BaseRepository


class FolderRepository(BaseRepository[Folder]):
    model = Folder
    noun = "folder"

    async def get_by_path(self, path: str) -> Folder | None:
        return await self.session.scalar(select(Folder).where(Folder.path == path))

    async def list_with_counts(self) -> list[tuple[Folder, int, int]]:
        """Every folder with its number of files and their total bytes (bin excluded).

        The files are counted per folder first, reading only the index ``(folder_id,
        deleted_at, file_size)`` (migration 0005; hence the count of ``file_size``, never
        NULL, rather than of the id, which is not in it), then joined to the few folders;
        a folder without files comes back with zeros. Joining first made PostgreSQL hash
        every file to its folder: 445 ms at 1M files, against 110-140 ms counted first.
        """
        counted = (
            select(
                File.folder_id,
                func.count(File.file_size).label("files"),
                func.sum(File.file_size).label("bytes"),
            )
            .where(File.deleted_at.is_(None))
            .group_by(File.folder_id)
            .subquery("counted")
        )
        files = func.coalesce(counted.c.files, 0)
        size = func.coalesce(counted.c.bytes, 0)
        query = (
            select(Folder, files, size)
            .outerjoin(counted, counted.c.folder_id == Folder.id)
            .order_by(Folder.path)
        )
        result = await self.session.execute(query)
        return [(folder, int(count), int(total)) for folder, count, total in result]
