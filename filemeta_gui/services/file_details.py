"""Editing a file's details as one record, without overwriting a teammate's edit.

The details form shows a whole record and saves it whole, so two people editing the
same file at once would silently overwrite each other (a lost update). Each save
therefore names the ``version`` it was read at: ``UPDATE ... WHERE id = :id AND version =
:expected`` bumps the version in the same statement, and zero rows updated means
someone (a teammate, or a rescan, which bumps it too) got there first: ``StaleDataError``
and the window offers to reload. Tags and permissions are not edited here: they change
by set-based inserts and deletes that cannot lose each other's work.
"""

from __future__ import annotations

import uuid
from enum import Enum

from sqlalchemy import select, update

from filemeta_gui.db.engine import Database
from filemeta_gui.db.models import File
from filemeta_gui.domain.enums import AccessType
from filemeta_gui.domain.errors import NotFoundError, StaleDataError, ValidationError
from filemeta_gui.domain.records import FileRecord
from filemeta_gui.services.access import AccessPolicy
from filemeta_gui.services.library import LibraryService

MAX_CONTENT_TYPE = 100


class Keep(Enum):
    """Marks a detail the caller leaves as it is (None means "no owner")."""

    KEEP = "keep"


KEEP = Keep.KEEP


class FileDetailsService:
    def __init__(self, database: Database, policy: AccessPolicy) -> None:
        self.database = database
        self.policy = policy

    async def edit(
        self,
        file_id: uuid.UUID,
        expected_version: int,
        *,
        content_type: str | Keep = KEEP,
        owner_id: uuid.UUID | Keep | None = KEEP,
    ) -> FileRecord:
        """Save the details of a file read at ``expected_version``; returns the new record.

        Raises:
            StaleDataError: the file changed since it was read ("reload?").
            NotFoundError: the file is gone.
            PermissionDeniedError: no write access (changing the owner: not an admin).
            ValidationError: a malformed content type.
        """
        values: dict[str, object] = {}
        if not isinstance(content_type, Keep):
            values["content_type"] = _clean_content_type(content_type)
        if not isinstance(owner_id, Keep):
            self.policy.require_admin("change who owns a file")
            values["owner_id"] = owner_id
        async with self.database.session(write=True) as session:
            await self.policy.require(session, [file_id], AccessType.WRITE, "edit")
            statement = (
                update(File)
                .where(File.id == file_id, File.version == expected_version)
                .values(**values, version=File.version + 1)
                .returning(File.id)
                # Nothing of this file is loaded in the session: no identity map to sync.
                .execution_options(synchronize_session=False)
            )
            if (await session.execute(statement)).first() is None:
                found = (
                    await session.execute(
                        select(File.filename, File.version).where(File.id == file_id)
                    )
                ).first()
                if found is None:
                    raise NotFoundError("That file is no longer in the library.")
                raise StaleDataError(
                    f"{found.filename} was changed by someone else since you opened it — "
                    "reload it to see their changes, then edit again."
                )
        return await LibraryService(self.database, self.policy).get(file_id)


def _clean_content_type(value: str) -> str:
    cleaned = value.strip().lower()
    kind, slash, sub = cleaned.partition("/")
    if not (kind and slash and sub) or len(cleaned) > MAX_CONTENT_TYPE or " " in cleaned:
        raise ValidationError(
            f"{value!r} is not a content type: write it like image/jpeg or text/plain."
        )
    return cleaned
