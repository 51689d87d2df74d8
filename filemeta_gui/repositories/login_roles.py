"""``LoginRoleRepository``: PostgreSQL login roles of FileMeta users, and who is connected.

Everything goes through the SECURITY DEFINER functions of migration 0004
(``filemeta_sync_login``, ``filemeta_drop_login``, ``filemeta_whoami``): an admin needs no
CREATEROLE, and the server itself decides which roles FileMeta may create, change or drop.
PostgreSQL only; callers check the backend.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from filemeta_gui.db.scram import scram_sha256_verifier
from filemeta_gui.db.types import normalize_ip


@dataclass(frozen=True, slots=True)
class Connection:
    """What the server knows about the login of this connection."""

    login: str
    registered: bool
    disabled: bool
    role: str | None
    registered_address: str | None
    client_address: str
    address_ok: bool
    library_empty: bool
    superuser: bool


class LoginRoleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def available(self) -> bool:
        """True when the database has the access-rule functions (schema 0004 or newer)."""
        found = await self.session.scalar(text("SELECT to_regproc('filemeta_whoami')"))
        return found is not None

    async def whoami(self) -> Connection:
        row = (
            await self.session.execute(
                text(
                    "SELECT w.*, (SELECT rolsuper FROM pg_roles WHERE rolname = session_user)"
                    " AS superuser FROM filemeta_whoami() AS w"
                )
            )
        ).one()
        return Connection(
            login=row.login,
            registered=row.registered,
            disabled=row.disabled,
            role=row.role,
            registered_address=_address(row.registered_address),
            client_address=_address(row.client_address) or "127.0.0.1",
            address_ok=row.address_ok,
            library_empty=row.library_empty,
            superuser=bool(row.superuser),
        )

    async def sync(self, login: str, password: str | None = None) -> str:
        """Make the login role match its users row (create it, set its group).

        Returns:
            ``created``, ``updated`` or ``superuser`` (row-level security does not apply).
        """
        verifier = None if password is None else scram_sha256_verifier(password)
        result = await self.session.scalar(
            text("SELECT filemeta_sync_login(:login, :verifier)"),
            {"login": login, "verifier": verifier},
        )
        return str(result)

    async def drop(self, login: str) -> str:
        """After the users row is gone: ``dropped``, ``kept`` (not FileMeta's) or ``absent``."""
        result = await self.session.scalar(
            text("SELECT filemeta_drop_login(:login)"), {"login": login}
        )
        return str(result)

    async def group_roles(self) -> dict[str, str]:
        """``{"owner": ..., "admin": ..., "guest": ..., "definer": ...}`` of this database."""
        query = text("SELECT kind, role_name FROM filemeta_group_roles()")
        rows = await self.session.execute(query)
        return {str(kind): str(name) for kind, name in rows}

    async def role_exists(self, login: str) -> bool:
        found = await self.session.scalar(
            text("SELECT 1 FROM pg_roles WHERE rolname = :login"), {"login": login}
        )
        return found is not None


def _address(value: object) -> str | None:
    return None if value is None else normalize_ip(str(value))
