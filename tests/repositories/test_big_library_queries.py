"""Queries added for 1M-file libraries: the first duplicate groups, their count, and
``ext:`` over extensions as the indexer stores them (with the dot)."""

from __future__ import annotations

from filemeta_gui.db.engine import Database
from filemeta_gui.domain.records import PageRequest
from filemeta_gui.repositories import FileRepository
from filemeta_gui.repositories.query_sql import search_condition
from tests.repositories.factories import add_files, digest, file_row


async def test_first_duplicate_groups_and_their_count(database: Database) -> None:
    async with database.session() as session:
        rows = [
            file_row(f"/d/{size}/{copy}", file_size=size, hash_value=digest(str(size)))
            for size in (10, 20, 30, 40)
            for copy in range(size // 10 + 1)
        ]
        created = await add_files(session, *rows, file_row("/d/alone", hash_value=digest("x")))
        files = FileRepository(session)
        everything = await files.duplicate_groups()
        assert [size for _, size, _ in everything] == [40, 30, 20, 10]  # most bytes wasted
        first = await files.duplicate_groups(limit=2)
        assert first == everything[:2]
        assert [len(members) for _, _, members in first] == [5, 4]
        assert await files.duplicate_group_count() == 4
        assert await files.duplicate_groups_counted(limit=2) == (first, 4), "one GROUP BY"
        # A group whose second copy is in the bin is no group.
        await files.soft_delete([c.id for c in created if c.file_path.startswith("/d/10/")][:1])
        assert await files.duplicate_group_count() == 3
        assert await files.duplicate_group_count(min_size=35) == 1


async def test_ext_matches_extensions_stored_with_or_without_the_dot(database: Database) -> None:
    async with database.session() as session:
        await add_files(
            session,
            file_row("/e/a.JPG", extension=".jpg"),  # what the indexer writes
            file_row("/e/b.jpg", extension="jpg"),
            file_row("/e/c.png", extension=".png"),
        )
        files = FileRepository(session)
        cases = {
            "ext:jpg": {"a.JPG", "b.jpg"},
            "ext:png,jpg": {"a.JPG", "b.jpg", "c.png"},
            "-ext:jpg": {"c.png"},
        }
        for query, expected in cases.items():
            where = search_condition(query, database.backend)
            rows, _ = await files.page(PageRequest(limit=50), where=where)
            assert {row.filename for row in rows} == expected, query
