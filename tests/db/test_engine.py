from __future__ import annotations

from sqlalchemy import text

from filemeta_gui.db.engine import Database


async def test_open_and_ping(database: Database) -> None:
    async with database.session() as session:
        assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
