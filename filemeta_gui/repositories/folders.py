"""``FolderRepository``: the indexed roots and what each holds."""

from __future__ import annotations

from sqlalchemy import and_, func, select

from filemeta_gui.db.models import File, Folder
from filemeta_gui.repositories.base import BaseRepository


class FolderRepository(BaseRepository[Folder]):
    model = Folder
    noun = "folder"

    async def get_by_path(self, path: str) -> Folder | None:
        return await self.session.scalar(select(Folder).where(Folder.path == path))

    async def list_with_counts(self) -> list[tuple[Folder, int, int]]:
        """Every folder with its number of files and their total bytes (bin excluded).

        One grouped query: a folder without files comes back with zeros. It reads only the
        index ``(folder_id, deleted_at, file_size)`` (migration 0005), hence the count of
        ``file_size`` (never NULL) rather than of the id, which is not in it.
        """
        files = func.count(File.file_size)
        size = func.coalesce(func.sum(File.file_size), 0)
        query = (
            select(Folder, files, size)
            .outerjoin(File, and_(File.folder_id == Folder.id, File.deleted_at.is_(None)))
            .group_by(Folder.id)
            .order_by(Folder.path)
        )
        result = await self.session.execute(query)
        return [(folder, int(count), int(total)) for folder, count, total in result]
