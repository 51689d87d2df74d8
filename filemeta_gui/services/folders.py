"""Indexed folders: add, list with counts, remove, and scan."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterable

from filemeta_gui.db.engine import Database
from filemeta_gui.db.query_context import operation
from filemeta_gui.domain.errors import NotFoundError, ReadOnlyError, ValidationError
from filemeta_gui.domain.paths import to_stored
from filemeta_gui.domain.records import FolderRecord
from filemeta_gui.domain.scan import ScanOptions, ScanProgress
from filemeta_gui.repositories.convert import folder_record
from filemeta_gui.repositories.folders import FolderRepository
from filemeta_gui.services.access import AccessPolicy
from filemeta_gui.services.indexer.hashing import processes_available
from filemeta_gui.services.indexer.isolated import scan_in_child


class FolderService:
    def __init__(self, database: Database, policy: AccessPolicy) -> None:
        self.database = database
        self.policy = policy

    @operation("folders.list")
    async def list(self) -> list[FolderRecord]:
        if self.policy.sees_nothing:
            return []
        async with self.database.session() as session:
            rows = await FolderRepository(session).list_with_counts()
        return [folder_record(folder, count, size) for folder, count, size in rows]

    @operation("folders.add")
    async def add(
        self, path: str, follow_symlinks: bool = False, excludes: Iterable[str] = ()
    ) -> FolderRecord:
        """Register a folder (idempotent: adding a known folder returns it)."""
        self.policy.require_admin("add folders")
        # A stat can block for seconds on a sleeping disk or a network mount.
        absolute, exists = await asyncio.to_thread(_resolve_folder, path)
        if not exists:
            raise ValidationError(f"{to_stored(absolute)[0]} is not a folder that exists.")
        text, raw = to_stored(absolute)
        async with self.database.session(write=True) as session:
            folders = FolderRepository(session)
            found = await folders.get_by_path(text)
            if found is None:
                found = await folders.create(
                    path=text,
                    raw_path=raw,
                    follow_symlinks=follow_symlinks,
                    excludes="\n".join(excludes),
                )
            return folder_record(found)

    @operation("folders.get")
    async def get(self, folder_id: uuid.UUID) -> FolderRecord:
        async with self.database.session() as session:
            found = await FolderRepository(session).get(folder_id)
        if found is None:
            raise NotFoundError("That folder is no longer in the library.")
        return folder_record(found)

    @operation("folders.remove")
    async def remove(self, folder_id: uuid.UUID) -> None:
        """Forget a folder and every file indexed under it (the disk is untouched)."""
        self.policy.require_admin("remove folders")
        async with self.database.session(write=True) as session:
            folders = FolderRepository(session)
            await folders.require(folder_id)
            await folders.delete(folder_id)

    def scan(
        self, folder_id: uuid.UUID, options: ScanOptions | None = None, *, isolated: bool = False
    ) -> AsyncIterator[ScanProgress]:
        """Scan one folder; iterate for progress, cancel the iterating task to stop.

        Args:
            isolated: run the scan in a child process (``indexer.isolated``) so that none
                of its work holds this process's GIL: what the GUI wants, as its event loop
                must never wait. The command line scans in process (nothing to keep
                responsive), as do frozen builds, which have no interpreter to start.
        """
        self.policy.require_admin("scan folders")
        owner = self.policy.identity.user
        owner_id = owner.id if owner else None
        options = options or ScanOptions()
        if not (isolated and processes_available()):
            # Imported here: the scanner, its planner and Pillow cost every other command
            # of ``filemeta`` ~45 ms to start, and the app scans in a child process.
            from filemeta_gui.services.indexer.scanner import scan_folder

            return scan_folder(self.database, folder_id, options, owner_id=owner_id)
        if self.database.read_only:  # the child would not know, and fail on its first write
            raise ReadOnlyError(self.database.read_only_reason or "The library is read-only.")
        url = self.database.url.render_as_string(hide_password=False)  # to the pipe only
        return scan_in_child(url, folder_id, options, owner_id)


def _resolve_folder(path: str) -> tuple[str, bool]:
    absolute = os.path.abspath(os.path.expanduser(path))
    return absolute, os.path.isdir(absolute)
