"""Tagging: what people do most. Every change is one set-based transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from filemeta_gui.db.engine import Database
from filemeta_gui.db.query_context import operation
from filemeta_gui.domain.enums import AccessType
from filemeta_gui.domain.records import TagRecord
from filemeta_gui.repositories.convert import tag_record
from filemeta_gui.repositories.tags import TagRepository
from filemeta_gui.services.access import AccessPolicy

# ``TagService.list`` shadows the builtin inside the class body (for type checkers too).
Names = list[str]


class TagService:
    def __init__(self, database: Database, policy: AccessPolicy) -> None:
        self.database = database
        self.policy = policy

    @operation("tags.list")
    async def list(self) -> list[TagRecord]:
        """Every tag with the number of (live) files carrying it, sorted by name."""
        if self.policy.sees_nothing:
            return []
        async with self.database.session() as session:
            return [tag_record(tag, count) for tag, count in await TagRepository(session).counts()]

    @operation("tags.completions")
    async def completions(self, prefix: str, limit: int = 20) -> Names:
        if self.policy.sees_nothing:
            return []
        async with self.database.session() as session:
            return [tag.name for tag in await TagRepository(session).with_prefix(prefix, limit)]

    @operation("tags.create")
    async def create(self, name: str, parent_id: uuid.UUID | None = None) -> TagRecord:
        self.policy.require_admin("create tags")
        async with self.database.session(write=True) as session:
            return tag_record(await TagRepository(session).create(name, parent_id))

    @operation("tags.rename")
    async def rename(self, tag_id: uuid.UUID, name: str) -> TagRecord:
        self.policy.require_admin("rename tags")
        async with self.database.session(write=True) as session:
            return tag_record(await TagRepository(session).rename(tag_id, name))

    @operation("tags.set_parent")
    async def set_parent(self, tag_id: uuid.UUID, parent_id: uuid.UUID | None) -> TagRecord:
        self.policy.require_admin("reorganise tags")
        async with self.database.session(write=True) as session:
            return tag_record(await TagRepository(session).set_parent(tag_id, parent_id))

    @operation("tags.merge")
    async def merge(self, source_ids: Sequence[uuid.UUID], target_id: uuid.UUID) -> int:
        """Move every file of the source tags onto the target, then delete the sources."""
        self.policy.require_admin("merge tags")
        async with self.database.session(write=True) as session:
            return await TagRepository(session).merge(source_ids, target_id)

    @operation("tags.delete")
    async def delete(self, tag_id: uuid.UUID) -> None:
        self.policy.require_admin("delete tags")
        async with self.database.session(write=True) as session:
            await TagRepository(session).require(tag_id)
            await TagRepository(session).delete(tag_id)

    @operation("tags.attach")
    async def attach(self, names: Iterable[str], file_ids: Sequence[uuid.UUID]) -> int:
        """Tag many files at once; unknown tag names are created. Returns new links."""
        async with self.database.session(write=True) as session:
            await self.policy.require(session, file_ids, AccessType.WRITE, "tag")
            repository = TagRepository(session)
            tags = await repository.get_or_create(names)
            return await repository.attach([t.id for t in tags], file_ids)

    @operation("tags.detach")
    async def detach(self, names: Iterable[str], file_ids: Sequence[uuid.UUID]) -> int:
        async with self.database.session(write=True) as session:
            await self.policy.require(session, file_ids, AccessType.WRITE, "untag")
            repository = TagRepository(session)
            tags = [t for t in [await repository.by_name(n) for n in names] if t is not None]
            return await repository.detach([t.id for t in tags], file_ids)
