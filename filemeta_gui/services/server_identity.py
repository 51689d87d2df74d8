"""The current user on a PostgreSQL team server, and why there may be none.

The server answers through ``filemeta_whoami()`` (migration 0004), which any login may
call and which tells only about the caller: registered or not, disabled, whether this
connection comes from the registered address. That is what lets the app say in plain
words why someone sees nothing, where the row-level security policies alone would just
return no rows.
"""

from __future__ import annotations

from sqlalchemy import func, select, text

from filemeta_gui.db.engine import Database
from filemeta_gui.db.models import User
from filemeta_gui.domain.enums import Role
from filemeta_gui.domain.errors import FileMetaError
from filemeta_gui.domain.records import UserRecord
from filemeta_gui.repositories.convert import user_record
from filemeta_gui.repositories.login_roles import Connection, LoginRoleRepository
from filemeta_gui.repositories.users import UserRepository

# (the user, or None; the login; why there is no user)
Resolved = tuple[UserRecord | None, str, str | None]
NOT_SET_UP = (
    "This library has no users yet. Its database owner sets it up once with 'filemeta server init'."
)


async def server_identity(database: Database) -> Resolved:
    async with database.session() as session:
        roles = LoginRoleRepository(session)
        if not await roles.available():
            return await _legacy_identity(database)
        me = await roles.whoami()
        user = None
        if me.registered and me.address_ok and not me.disabled:
            user = await UserRepository(session).by_login(me.login)
    if user is not None:
        return user_record(user), me.login, None
    if not me.registered and me.library_empty:
        return await _bootstrap(database, me)
    return None, me.login, _problem(me)


def _problem(me: Connection) -> str:
    if not me.registered:
        return (
            f"The login {me.login!r} is not registered in this library, so it shows no "
            "files. Ask an admin to add you."
        )
    if me.disabled:
        return f"The login {me.login!r} is disabled in this library. Ask an admin."
    if not me.address_ok:
        return (
            f"The login {me.login!r} may use this library from {me.registered_address} "
            f"only; this connection comes from {me.client_address}, so it shows no files. "
            "Ask an admin to change your address."
        )
    return f"The login {me.login!r} has no access to this library's tables. Ask an admin."


async def _bootstrap(database: Database, me: Connection) -> Resolved:
    """The first login of an empty library becomes its admin, if the server allows it.

    Row-level security allows it only to the database owner (the member of the owner
    group, who ran the migrations) and to superusers, and only for their own login.
    """
    try:
        async with database.session(write=True) as session:
            row = await UserRepository(session).create(
                login=me.login, ip_address=me.client_address, role=Role.ADMIN
            )
            await LoginRoleRepository(session).sync(me.login)
            record = user_record(row)
    except FileMetaError:
        return None, me.login, NOT_SET_UP
    return record, me.login, None


async def _legacy_identity(database: Database) -> Resolved:
    # A schema before 0004 (opened read-only): no policies, no helper functions.
    async with database.session() as session:
        login = str(await session.scalar(text("SELECT session_user")))
        user = await UserRepository(session).by_login(login)
        empty = not await session.scalar(select(func.count()).select_from(User))
    if user is not None and not user.disabled:
        return user_record(user), login, None
    problem = NOT_SET_UP if empty else f"The login {login!r} is not registered in this library."
    return None, login, problem
