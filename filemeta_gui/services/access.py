"""The rules of who may do what, checked by every service on both backends.

Admins see and do everything. A guest sees the files they hold at least read on, tags
and edits with write, removes with delete (levels nest: delete ⊃ write ⊃ read). On
PostgreSQL the server enforces the same rules with row-level security; these checks
give the plain-words message before the server would refuse.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import ColumnElement, false
from sqlalchemy.ext.asyncio import AsyncSession

from filemeta_gui.domain.enums import AccessType
from filemeta_gui.domain.errors import PermissionDeniedError
from filemeta_gui.repositories.base import unique_ids
from filemeta_gui.repositories.permissions import PermissionRepository, granted
from filemeta_gui.services.identity import Identity


class AccessPolicy:
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    @property
    def is_admin(self) -> bool:
        return self.identity.is_admin

    @property
    def sees_nothing(self) -> bool:
        """True when there is no current user (unknown login, wrong address, disabled).

        Services then answer with empty results instead of querying: on PostgreSQL such a
        login may lack even the privilege to read the tables, and the problem is already
        said in plain words by ``identity.problem``.
        """
        return self.identity.user is None

    def visible(self) -> ColumnElement[bool] | None:
        """Extra condition on ``File`` for listings (None: no restriction)."""
        if self.is_admin:
            return None
        if self.identity.user is None:
            return false()
        return granted(self.identity.user.id, AccessType.READ)

    def require_admin(self, action: str) -> None:
        if not self.is_admin:
            reason = f" {self.identity.problem}" if self.identity.problem else ""
            raise PermissionDeniedError(f"Only an admin may {action}.{reason}")

    async def require(
        self, session: AsyncSession, file_ids: Iterable[uuid.UUID], level: AccessType, action: str
    ) -> None:
        """Raise unless the user holds ``level`` on every file in ``file_ids``."""
        if self.is_admin:
            return
        user = self.identity.user
        if user is None:
            raise PermissionDeniedError(self.identity.problem or "You have no access here.")
        wanted = unique_ids(file_ids)
        allowed = await PermissionRepository(session).allowed_files(user.id, wanted, level)
        missing = len(wanted) - len(allowed)
        if missing:
            raise PermissionDeniedError(
                f"You may not {action} {missing} of these files: that needs {level.value} "
                "access. Ask an admin for it."
            )
