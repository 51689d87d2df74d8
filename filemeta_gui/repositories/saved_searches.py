"""``SavedSearchRepository``: named queries people come back to."""

from __future__ import annotations

from sqlalchemy import select

from filemeta_gui.db.models import SavedSearchRow
from filemeta_gui.repositories.base import BaseRepository, upsert_insert


class SavedSearchRepository(BaseRepository[SavedSearchRow]):
    model = SavedSearchRow
    noun = "saved search"

    async def all(self) -> list[SavedSearchRow]:
        query = select(SavedSearchRow).order_by(SavedSearchRow.name)
        return list((await self.session.scalars(query)).all())

    async def by_name(self, name: str) -> SavedSearchRow | None:
        return await self.session.scalar(select(SavedSearchRow).where(SavedSearchRow.name == name))

    async def save(self, name: str, query: str) -> SavedSearchRow:
        """Store ``query`` under ``name``, replacing the query saved under it before."""
        insert = upsert_insert(self.session, SavedSearchRow).values(name=name, query=query)
        statement = insert.on_conflict_do_update(
            index_elements=[SavedSearchRow.name], set_={"query": insert.excluded.query}
        ).returning(SavedSearchRow)
        # populate_existing: a row already in this session must show the new query.
        result = await self.session.scalars(
            statement, execution_options={"populate_existing": True}
        )
        return result.one()
