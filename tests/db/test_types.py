"""Column types: what goes in comes back the same, on both backends."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import sqlite

from filemeta_gui.db.engine import Database
from filemeta_gui.db.models import File
from filemeta_gui.db.types import FastUuid
from tests.repositories.factories import add_files, file_row


async def test_ids_read_back_as_equal_uuids(database: Database) -> None:
    async with database.session(write=True) as session:
        (row,) = await add_files(session, file_row("/ids/a.txt"))
        written = row.id
    async with database.session() as session:
        read = (await session.execute(select(File.id, File.folder_id))).one()
    assert isinstance(read.id, uuid.UUID)
    assert read.id == written and hash(read.id) == hash(written) and str(read.id) == str(written)
    assert {written: "found"}[read.id] == "found" and read.id.version == written.version
    assert read.folder_id is None


@pytest.mark.parametrize("spell", [lambda u: u.hex, str, lambda u: u.hex.upper(), repr])
def test_sqlite_ids_read_in_any_spelling(spell: object) -> None:
    """SQLite stores 32 hex digits, which take the fast path; a value written some other
    way (dashes, capitals, braces) still reads as the same UUID, or fails as uuid.UUID."""
    read = FastUuid().result_processor(sqlite.dialect(), None)
    wanted = uuid.uuid4()
    if spell is repr:  # not a UUID at all
        with pytest.raises(ValueError):
            read(repr(wanted))
        return
    assert callable(spell)
    assert read(spell(wanted)) == wanted
    assert read(None) is None
