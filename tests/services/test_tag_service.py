from __future__ import annotations

import pytest

from filemeta_gui.domain.errors import ConflictError, PermissionDeniedError
from filemeta_gui.domain.records import PageRequest
from filemeta_gui.services.access import AccessPolicy
from filemeta_gui.services.container import Services
from filemeta_gui.services.identity import Identity
from filemeta_gui.services.tags import TagService
from tests.repositories.factories import add_files, file_row


async def _files(services: Services, n: int = 3) -> list:
    async with services.database.session() as session:
        return await add_files(session, *(file_row(f"/t/file{i}.txt") for i in range(n)))


async def test_attach_creates_tags_and_counts_follow(services: Services) -> None:
    rows = await _files(services)
    assert await services.tags.attach(["red", "blue"], [r.id for r in rows[:2]]) == 4
    counts = {t.name: t.file_count for t in await services.tags.list()}
    assert counts == {"blue": 2, "red": 2}
    assert await services.tags.detach(["red"], [rows[0].id]) == 1
    counts = {t.name: t.file_count for t in await services.tags.list()}
    assert counts["red"] == 1


async def test_parent_tag_search_finds_children(services: Services) -> None:
    rows = await _files(services)
    animals = await services.tags.create("animals")
    cats = await services.tags.create("cats", parent_id=animals.id)
    await services.tags.attach([cats.name], [rows[0].id])
    page = await services.library.page("tag:animals", PageRequest())
    assert [r.id for r in page.rows] == [rows[0].id]


async def test_rename_merge_delete(services: Services) -> None:
    rows = await _files(services)
    await services.tags.attach(["kitty"], [rows[0].id])
    await services.tags.attach(["cat"], [rows[1].id])
    tags = {t.name: t for t in await services.tags.list()}
    renamed = await services.tags.rename(tags["kitty"].id, "kitten")
    assert renamed.name == "kitten"
    await services.tags.merge([renamed.id], tags["cat"].id)
    after = {t.name: t.file_count for t in await services.tags.list()}
    assert after == {"cat": 2}
    await services.tags.delete(tags["cat"].id)
    assert await services.tags.list() == []
    assert await services.tags.completions("c") == []


async def test_renaming_onto_an_existing_name_is_a_conflict(services: Services) -> None:
    one = await services.tags.create("one")
    await services.tags.create("two")
    with pytest.raises(ConflictError):
        await services.tags.rename(one.id, "two")


async def test_completions_are_prefix_matches(services: Services) -> None:
    for name in ("holiday", "home", "work"):
        await services.tags.create(name)
    assert await services.tags.completions("ho") == ["holiday", "home"]


async def test_guest_without_write_cannot_tag(services: Services) -> None:
    rows = await _files(services, 1)
    tags = TagService(services.database, AccessPolicy(Identity(user=None, problem="unknown")))
    with pytest.raises(PermissionDeniedError):
        await tags.attach(["x"], [rows[0].id])
    with pytest.raises(PermissionDeniedError):
        await tags.create("x")
