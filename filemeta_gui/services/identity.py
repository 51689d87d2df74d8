"""Who is using the library: the user the services act for.

SQLite is a one-person library: a local admin (address 127.0.0.1) is created on first
open. On PostgreSQL every person logs in with their own role; the ``users`` row whose
``login`` equals ``session_user`` is the current user, if it is enabled and connects from
its registered address. The first login on a fresh library (no users at all) becomes its
admin when the server allows it: only the database owner (``filemeta server init``) or a
superuser may, row-level security refuses everyone else.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from filemeta_gui.db.engine import Database
from filemeta_gui.db.types import utcnow
from filemeta_gui.domain.enums import Role
from filemeta_gui.domain.records import UserRecord
from filemeta_gui.repositories.convert import user_record
from filemeta_gui.repositories.users import UserRepository
from filemeta_gui.services.server_identity import server_identity

LOCAL_ADDRESS = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Identity:
    """The current user, or why there is none (``user`` None: sees no files)."""

    user: UserRecord | None
    login: str | None = None
    problem: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.user is not None and self.user.role is Role.ADMIN and not self.user.disabled


async def resolve_identity(database: Database) -> Identity:
    if database.is_sqlite:
        return Identity(user=await _local_admin(database))
    return await _server_identity(database)


async def _local_admin(database: Database) -> UserRecord:
    async with database.session(write=not database.read_only) as session:
        users = UserRepository(session)
        found = await users.by_ip(LOCAL_ADDRESS)
        if found is not None:
            return user_record(found)
        if database.read_only:
            # A library from a newer FileMeta that this computer never opened: nothing may
            # be written, so the local admin exists for this session only.
            return UserRecord(
                id=uuid.uuid4(), ip_address=LOCAL_ADDRESS, role=Role.ADMIN, created_at=utcnow()
            )
        return user_record(await users.create(ip_address=LOCAL_ADDRESS, role=Role.ADMIN))


async def _server_identity(database: Database) -> Identity:
    # The server decides (migration 0004's filemeta_whoami): see server_identity.py.
    user, login, problem = await server_identity(database)
    return Identity(user=user, login=login, problem=problem)
