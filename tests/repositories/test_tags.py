"""TagRepository: names, hierarchy, set-based links, merge and counts."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from filemeta_gui.db.engine import Database
from filemeta_gui.db.models import FileTag, Tag
from filemeta_gui.domain.errors import ConflictError, NotFoundError, ValidationError
from filemeta_gui.repositories import FileRepository, TagRepository
from tests.repositories.factories import add_files, file_row


async def test_create_rename_and_names(database: Database) -> None:
    async with database.session() as session:
        tags = TagRepository(session)
        holiday = await tags.create("  Holiday   2024 ")
        assert holiday.name == "Holiday 2024"
        other = await tags.create("work")
        with pytest.raises(ConflictError, match="already exists"):
            await tags.create("work")
        with pytest.raises(ConflictError):
            await tags.rename(holiday.id, "work")
        with pytest.raises(ValidationError):
            await tags.create("   ")
        with pytest.raises(ValidationError):
            await tags.create("x" * 256)
        renamed = await tags.rename(holiday.id, "holiday")
        assert renamed.name == "holiday"
        assert (await tags.by_name("holiday")) is renamed
        assert [t.name for t in await tags.with_prefix("HO")] == ["holiday"]
        assert await tags.with_prefix("%") == []
        assert other.parent_id is None


async def test_get_or_create_keeps_order_and_existing_rows(database: Database) -> None:
    async with database.session() as session:
        tags = TagRepository(session)
        existing = await tags.create("b")
        got = await tags.get_or_create(["c", "b", "a", "c ", " a"])
        assert [t.name for t in got] == ["c", "b", "a"]
        assert got[1].id == existing.id
        again = await tags.get_or_create(["a", "c"])
        assert [t.id for t in again] == [got[2].id, got[0].id]
        assert await tags.count() == 3
        assert await tags.get_or_create([]) == []


async def test_attach_detach_are_set_based_and_idempotent(database: Database) -> None:
    async with database.session() as session:
        files = await add_files(session, *[file_row(f"/f/{i}") for i in range(140)])
        ids = [f.id for f in files]
        tags = TagRepository(session)
        red, blue = await tags.get_or_create(["red", "blue"])
        assert await tags.attach([red.id, blue.id], ids) == 280
        assert await tags.attach([red.id], [*ids[:10], uuid.uuid4()]) == 0  # already linked
        assert await _links(tags) == 280
        assert await tags.detach([red.id], ids[:100]) == 100
        assert await tags.detach([red.id], ids[:100]) == 0
        assert await tags.attach([], ids) == 0 and await tags.detach([], ids) == 0
        counts = {tag.name: n for tag, n in await tags.counts()}
        assert counts == {"blue": 140, "red": 40}


async def test_counts_skip_the_bin_and_show_unused_tags(database: Database) -> None:
    async with database.session() as session:
        a, b = await add_files(session, file_row("/c/a"), file_row("/c/b"))
        tags = TagRepository(session)
        used, _unused = await tags.get_or_create(["used", "unused"])
        await tags.attach([used.id], [a.id, b.id])
        await FileRepository(session).soft_delete([b.id])
        assert [(t.name, n) for t, n in await tags.counts()] == [("unused", 0), ("used", 1)]


async def _tree(tags: TagRepository) -> dict[str, Tag]:
    # animal > (cat > kitten, dog); plant
    animal = await tags.create("animal")
    cat = await tags.create("cat", parent_id=animal.id)
    kitten = await tags.create("kitten", parent_id=cat.id)
    dog = await tags.create("dog", parent_id=animal.id)
    plant = await tags.create("plant")
    return {t.name: t for t in (animal, cat, kitten, dog, plant)}


async def test_descendants_and_files_with_tag(database: Database) -> None:
    async with database.session() as session:
        tags = TagRepository(session)
        t = await _tree(tags)
        assert await tags.descendant_ids(t["animal"].id) == {
            t["cat"].id,
            t["kitten"].id,
            t["dog"].id,
        }
        assert await tags.descendant_ids(t["kitten"].id) == set()
        f1, f2, f3 = await add_files(session, file_row("/h/1"), file_row("/h/2"), file_row("/h/3"))
        await tags.attach([t["kitten"].id], [f1.id])
        await tags.attach([t["animal"].id], [f2.id])
        await tags.attach([t["plant"].id], [f3.id])
        found = await tags.files_with_tag(t["animal"].id)
        assert [f.file_path for f in found] == ["/h/1", "/h/2"]
        direct = await tags.files_with_tag(t["animal"].id, include_descendants=False)
        assert [f.file_path for f in direct] == ["/h/2"]


async def test_set_parent_refuses_cycles(database: Database) -> None:
    async with database.session() as session:
        tags = TagRepository(session)
        t = await _tree(tags)
        with pytest.raises(ValidationError, match="inside itself"):
            await tags.set_parent(t["animal"].id, t["kitten"].id)
        with pytest.raises(ValidationError):
            await tags.set_parent(t["cat"].id, t["cat"].id)
        with pytest.raises(NotFoundError):
            await tags.set_parent(t["cat"].id, uuid.uuid4())
        moved = await tags.set_parent(t["kitten"].id, t["plant"].id)
        assert moved.parent_id == t["plant"].id
        assert (await tags.set_parent(t["kitten"].id, None)).parent_id is None


async def test_merge_moves_files_and_children(database: Database) -> None:
    async with database.session() as session:
        tags = TagRepository(session)
        t = await _tree(tags)
        f1, f2 = await add_files(session, file_row("/m/1"), file_row("/m/2"))
        await tags.attach([t["cat"].id, t["dog"].id], [f1.id])
        await tags.attach([t["dog"].id], [f2.id])
        # Merge cat and dog into plant: their files and cat's kitten move over.
        assert await tags.merge([t["cat"].id, t["dog"].id, t["plant"].id], t["plant"].id) == 2
        names = await FileRepository(session).tag_names([f1.id, f2.id])
        assert names == {f1.id: ("plant",), f2.id: ("plant",)}
        assert await tags.descendant_ids(t["plant"].id) == {t["kitten"].id}
        assert {tag.name for tag, _ in await tags.counts()} == {"animal", "kitten", "plant"}
        assert await tags.merge([], t["plant"].id) == 0


async def test_merge_into_a_descendant_makes_no_cycle(database: Database) -> None:
    async with database.session() as session:
        tags = TagRepository(session)
        t = await _tree(tags)
        # kitten sits under cat; folding cat into kitten must lift kitten to animal.
        assert await tags.merge([t["cat"].id], t["kitten"].id) == 1
        kitten = await tags.require(t["kitten"].id)
        assert kitten.parent_id == t["animal"].id
        assert await tags.descendant_ids(t["animal"].id) == {t["kitten"].id, t["dog"].id}


async def test_delete_unlinks_files_and_orphans_children(database: Database) -> None:
    async with database.session() as session:
        tags = TagRepository(session)
        t = await _tree(tags)
        (f,) = await add_files(session, file_row("/d/1"))
        await tags.attach([t["cat"].id], [f.id])
        assert await tags.delete(t["cat"].id)
        assert await tags.count(Tag.parent_id.is_(None)) == 3  # animal, plant, kitten
    async with database.session() as session:
        tags = TagRepository(session)
        assert (await tags.require(t["kitten"].id)).parent_id is None
        assert await FileRepository(session).tag_names([f.id]) == {f.id: ()}
        assert await tags.exists() and await _links(tags) == 0


async def _links(tags: TagRepository) -> int:
    query = select(func.count()).select_from(FileTag)
    return int((await tags.session.execute(query)).scalar_one())
