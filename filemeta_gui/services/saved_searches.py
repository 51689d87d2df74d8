"""Saved searches shown in the sidebar.

They are shared by everyone using the library; only admins save or delete them (on a
team server the database refuses guests too), everyone else reads them.
"""

from __future__ import annotations

import uuid

from filemeta_gui.db.engine import Database
from filemeta_gui.db.query_context import operation
from filemeta_gui.domain.query import parse
from filemeta_gui.domain.records import SavedSearch
from filemeta_gui.repositories.convert import saved_search_record
from filemeta_gui.repositories.saved_searches import SavedSearchRepository
from filemeta_gui.services.access import AccessPolicy


class SavedSearchService:
    def __init__(self, database: Database, policy: AccessPolicy | None = None) -> None:
        self.database = database
        self.policy = policy

    @operation("saved_searches.list")
    async def list(self) -> list[SavedSearch]:
        if self.policy is not None and self.policy.sees_nothing:
            return []
        async with self.database.session() as session:
            rows = await SavedSearchRepository(session).all()
            return [saved_search_record(row) for row in rows]

    @operation("saved_searches.save")
    async def save(self, name: str, query: str) -> SavedSearch:
        """Save (or overwrite) a search; a malformed query is refused before it is kept."""
        if self.policy is not None:
            self.policy.require_admin("save searches for everyone")
        parse(query)
        async with self.database.session(write=True) as session:
            return saved_search_record(await SavedSearchRepository(session).save(name, query))

    @operation("saved_searches.delete")
    async def delete(self, search_id: uuid.UUID) -> None:
        if self.policy is not None:
            self.policy.require_admin("delete saved searches")
        async with self.database.session(write=True) as session:
            await SavedSearchRepository(session).delete(search_id)
