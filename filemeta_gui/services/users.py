"""Managing the people of a library: who they are, where from, and as what (admins only).

On PostgreSQL each user is also a login role of the server, kept in step with its
``users`` row in the same transaction (``LoginRoleRepository``): a failure on either side
changes nothing. On SQLite a user is only the row (the library has one person, its local
admin; the rows document who else would have access in a team).

Rules: only admins manage users; a library always keeps at least one enabled admin
(removing, demoting or disabling the last one is refused); addresses are validated; a
login is unique.
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from filemeta_gui.db.engine import Database
from filemeta_gui.db.models import User
from filemeta_gui.db.types import normalize_ip
from filemeta_gui.domain.enums import Role
from filemeta_gui.domain.errors import ConflictError, NotFoundError, ValidationError
from filemeta_gui.domain.records import UserRecord
from filemeta_gui.repositories.convert import user_record
from filemeta_gui.repositories.login_roles import LoginRoleRepository
from filemeta_gui.repositories.users import UserRepository
from filemeta_gui.services.access import AccessPolicy

UserRef = str | uuid.UUID
"""A user named by login, or by id (the local SQLite user has no login)."""

# PostgreSQL role names may hold almost anything when quoted; we keep to names a person can
# type in psql and a shell without quoting, and leave "pg_" to PostgreSQL.
_LOGIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.@-]{0,62}")
MAX_PASSWORD = 1024


def clean_login(login: str) -> str:
    text = str(login).strip()
    if not _LOGIN.fullmatch(text):
        raise ValidationError(
            f"{text!r} is not a usable login: 1 to 63 letters, digits, '_', '.', '@' or "
            "'-', starting with a letter or '_'."
        )
    if text.lower().startswith("pg_"):
        raise ValidationError(f"{text!r} is not a usable login: 'pg_' belongs to PostgreSQL.")
    return text


def describe(user: User | UserRecord) -> str:
    return repr(user.login) if user.login else "this computer's user"


class UserService:
    def __init__(self, database: Database, policy: AccessPolicy) -> None:
        self.database = database
        self.policy = policy

    async def list(self) -> list[UserRecord]:
        """Every user, admins first, then by login."""
        self.policy.require_admin("see the users")
        async with self.database.session() as session:
            rows = await session.scalars(select(User).order_by(User.created_at, User.id))
            records = [user_record(row) for row in rows]
        return sorted(records, key=lambda u: (u.role is not Role.ADMIN, u.login or ""))

    async def get(self, user: UserRef) -> UserRecord:
        self.policy.require_admin("see the users")
        async with self.database.session() as session:
            return user_record(await find_user(session, user))

    async def add(
        self, login: str, address: str, role: Role = Role.GUEST, password: str | None = None
    ) -> UserRecord:
        """Register a person; on PostgreSQL create (or adopt) their login role too.

        Args:
            address: an address (``10.0.0.5``) or a network (``10.0.0.0/24``) they may
                connect from.
            password: sets the password of a login role FileMeta creates (None: none, the
                DBA's ``pg_hba.conf`` decides how they authenticate).
        """
        self.policy.require_admin("add users")
        login, address, role = clean_login(login), normalize_ip(address), Role(role)
        _check_password(password)
        if password is not None and self.database.is_sqlite:
            raise ValidationError("A local library has no passwords: only team servers do.")
        async with self.database.session(write=True) as session:
            users = UserRepository(session)
            if await users.by_login(login) is not None:
                raise ConflictError(f"A user with the login {login!r} already exists.")
            row = await users.create(login=login, ip_address=address, role=role)
            if not self.database.is_sqlite:
                await LoginRoleRepository(session).sync(login, password)
            return user_record(row)

    async def set_role(self, user: UserRef, role: Role) -> UserRecord:
        self.policy.require_admin("change roles")
        role = Role(role)
        async with self.database.session(write=True) as session:
            row = await self._changeable(session, user, "demote", role is not Role.ADMIN)
            row.role = role
            return await self._saved(session, row)

    async def set_address(self, user: UserRef, address: str) -> UserRecord:
        self.policy.require_admin("change addresses")
        address = normalize_ip(address)
        async with self.database.session(write=True) as session:
            row = await self._changeable(session, user, "change", reduces=False)
            row.ip_address = address
            await session.flush()
            return user_record(row)

    async def disable(self, user: UserRef) -> UserRecord:
        """Keep the user and their permissions, but let them see nothing until enabled."""
        self.policy.require_admin("disable users")
        async with self.database.session(write=True) as session:
            row = await self._changeable(session, user, "disable", reduces=True)
            row.disabled = True
            return await self._saved(session, row)

    async def enable(self, user: UserRef) -> UserRecord:
        self.policy.require_admin("enable users")
        async with self.database.session(write=True) as session:
            row = await self._changeable(session, user, "enable", reduces=False)
            row.disabled = False
            return await self._saved(session, row)

    async def set_password(self, user: UserRef, password: str) -> None:
        """PostgreSQL: set the password of a login role FileMeta created."""
        self.policy.require_admin("set passwords")
        _check_password(password)
        if self.database.is_sqlite:
            raise ValidationError("A local library has no passwords: only team servers do.")
        async with self.database.session(write=True) as session:
            row = await find_user(session, user)
            assert row.login is not None  # every server user has a login
            await LoginRoleRepository(session).sync(row.login, password)

    async def remove(self, user: UserRef) -> None:
        """Forget a user and their permissions; on PostgreSQL drop the login FileMeta made."""
        self.policy.require_admin("remove users")
        async with self.database.session(write=True) as session:
            row = await self._changeable(session, user, "remove", reduces=True)
            login = row.login
            await UserRepository(session).delete(row.id)
            if login is not None and not self.database.is_sqlite:
                await LoginRoleRepository(session).drop(login)

    async def _changeable(
        self, session: AsyncSession, user: UserRef, action: str, reduces: bool
    ) -> User:
        """The user's row, locked, once the change is known to be allowed.

        Args:
            reduces: the change takes rights away (demote, disable, remove).
        """
        row = await find_user(session, user, lock=True)
        if reduces and row.role is Role.ADMIN and not row.disabled:
            await _keep_an_admin(session, row, action)
        if reduces:
            self._not_yourself(row, action)
        if self.database.is_sqlite and row.login is None:
            # The one person of a local library: changing it could lock them out for good.
            raise ValidationError("This computer's own user cannot be changed or removed.")
        return row

    def _not_yourself(self, row: User, action: str) -> None:
        # Your own session would lose its rights halfway through; another admin does it.
        me = self.policy.identity.user
        if me is not None and me.id == row.id:
            raise ValidationError(f"You cannot {action} yourself: ask another admin to.")

    async def _saved(self, session: AsyncSession, row: User) -> UserRecord:
        await session.flush()
        if row.login is not None and not self.database.is_sqlite:
            await LoginRoleRepository(session).sync(row.login)
        return user_record(row)


def _check_password(password: str | None) -> None:
    if password is None:
        return
    if not password or len(password) > MAX_PASSWORD or "\0" in password:
        raise ValidationError(f"A password has 1 to {MAX_PASSWORD} characters (no NUL).")


async def find_user(session: AsyncSession, user: UserRef, lock: bool = False) -> User:
    query = select(User)
    if isinstance(user, uuid.UUID):
        query = query.where(User.id == user)
    else:
        query = query.where(User.login == str(user).strip())
    if lock:
        query = query.with_for_update()
    found = await session.scalar(query)
    if found is None:
        name = f"id {user}" if isinstance(user, uuid.UUID) else f"the login {user!r}"
        raise NotFoundError(f"There is no user with {name}.")
    return found


async def _keep_an_admin(session: AsyncSession, leaving: User, action: str) -> None:
    """Refuse to leave the library without an enabled admin.

    The enabled admins are locked (FOR UPDATE; SQLite's write lock is already held), so
    two admins demoting each other at the same moment cannot both succeed.
    """
    query = (
        select(User.id).where(User.role == Role.ADMIN, User.disabled.is_(False)).with_for_update()
    )
    admins = set((await session.scalars(query)).all())
    if not admins - {leaving.id}:
        raise ConflictError(
            f"Cannot {action} {describe(leaving)}: it is the last admin of this library. "
            "Make another user an admin first."
        )
