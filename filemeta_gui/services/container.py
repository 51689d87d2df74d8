"""``Services``: everything the UI and the command line use, built around one Database."""

from __future__ import annotations

from typing import Any

from filemeta_gui.db import migrate
from filemeta_gui.db.engine import Database
from filemeta_gui.services.access import AccessPolicy
from filemeta_gui.services.duplicates import DuplicateService
from filemeta_gui.services.file_details import FileDetailsService
from filemeta_gui.services.folders import FolderService
from filemeta_gui.services.identity import Identity, resolve_identity
from filemeta_gui.services.library import LibraryService
from filemeta_gui.services.monitoring_service import MonitoringService
from filemeta_gui.services.permissions import PermissionService
from filemeta_gui.services.saved_searches import SavedSearchService
from filemeta_gui.services.schema import SchemaService
from filemeta_gui.services.tags import TagService
from filemeta_gui.services.users import UserService


class Services:
    """The composition of every service over one library.

    Build with :meth:`open` (connect, migrate, know the current user); ``await close()``
    when done so the engine is disposed while the event loop still runs.
    """

    def __init__(self, database: Database, identity: Identity) -> None:
        self.database = database
        self.identity = identity
        self.policy = AccessPolicy(identity)
        self.library = LibraryService(database, self.policy)
        self.folders = FolderService(database, self.policy)
        self.tags = TagService(database, self.policy)
        self.duplicates = DuplicateService(database, self.policy)
        self.saved_searches = SavedSearchService(database, self.policy)
        self.users = UserService(database, self.policy)
        self.permissions = PermissionService(database, self.policy)
        self.schema = SchemaService(database, self.policy)
        self.file_details = FileDetailsService(database, self.policy)
        self.monitoring = MonitoringService(database)

    @classmethod
    async def open(cls, url: str | None = None, **database_options: Any) -> Services:
        database = await Database.open(url, **database_options)
        try:
            identity = await resolve_identity(database)
        except BaseException:
            await database.dispose()
            raise
        return cls(database, identity)

    @classmethod
    async def open_for_app(cls, url: str) -> Services:
        """Open a library the way the desktop app does.

        An empty database becomes a new library, and a local SQLite library upgrades
        itself (after a backup beside it). An existing shared library is never migrated
        behind its users' backs: the app offers the upgrade to admins (``schema``). A
        library made by a newer FileMeta opens read-only.
        """
        database = await Database.open(url, upgrade=False, allow_newer_schema=True)
        try:
            state = await migrate.schema_state(database)
            # Unknown (newer) schemas enter read-only mode inside upgrade_on_open.
            if not state.known or state.current is None or database.is_sqlite:
                await migrate.upgrade_on_open(database, allow_newer_schema=True)
            identity = await resolve_identity(database)
        except BaseException:
            await database.dispose()
            raise
        return cls(database, identity)

    async def close(self) -> None:
        await self.database.dispose()
