"""PostgreSQL enforces the access rules itself (migration 0004): raw SQL as a guest login.

Each guest here is a real login role made by ``UserService.add`` and connects with asyncpg
under its own name, as someone with psql would: no FileMeta code runs on its side. The
test server trusts every local connection (pg_hba.conf ``trust``), so passwords play no
part; the address rule is tested by registering a guest at 10.9.9.9 and connecting from
127.0.0.1.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from filemeta_gui.db.engine import Database
from filemeta_gui.domain.enums import AccessType
from filemeta_gui.domain.records import PageRequest
from filemeta_gui.repositories.folders import FolderRepository
from filemeta_gui.repositories.login_roles import LoginRoleRepository
from filemeta_gui.services.container import Services
from filemeta_gui.services.identity import resolve_identity
from tests.repositories.factories import add_files, file_row
from tests.support.pg import PgServer

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])
NewLogin = Callable[[str], str]
DENIED = asyncpg.InsufficientPrivilegeError


@dataclass
class Library:
    url: str
    server: PgServer
    services: Services
    files: dict[str, uuid.UUID]  # file name -> id
    groups: dict[str, str]  # kind -> role name

    def dsn(self, login: str) -> str:
        name = make_url(self.url).database
        assert name is not None
        return self.server.url_for(name, user=login).replace("+asyncpg", "")

    async def connect(self, login: str) -> asyncpg.Connection:
        return await asyncpg.connect(self.dsn(login))

    async def superuser(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.url.replace("+asyncpg", ""))


@pytest.fixture
async def services(database: Database) -> Services:
    """The services as the library's admin: the test's superuser, its first login."""
    return Services(database, await resolve_identity(database))


LAYOUT = (("a", "r.txt"), ("a", "w.txt"), ("b", "d.txt"), ("c", "x.txt"))


@pytest.fixture
async def library(services: Services, db_url: str, pg_server: PgServer) -> Library:
    """Three folders, four files (two tagged), a saved search; the admin is the superuser."""
    async with services.database.session() as session:
        folders = {d: await FolderRepository(session).create(path=f"/lib/{d}") for d in "abc"}
        rows = await add_files(
            session, *(file_row(f"/lib/{d}/{n}", folder_id=folders[d].id) for d, n in LAYOUT)
        )
        groups = await LoginRoleRepository(session).group_roles()
    files = {row.filename: row.id for row in rows}
    await services.tags.attach(["secret"], [files["x.txt"]])
    await services.tags.attach(["shared"], [files["r.txt"]])
    await services.saved_searches.save("texts", "ext:txt")
    return Library(db_url, pg_server, services, files, groups)


@pytest.fixture
async def reader(library: Library, new_login: NewLogin) -> AsyncIterator[asyncpg.Connection]:
    """A guest holding read on r.txt, write on w.txt, delete on d.txt; nothing on x.txt."""
    login = new_login("reader")
    await library.services.users.add(login, "127.0.0.1")
    for name, level in (("r.txt", "read"), ("w.txt", "write"), ("d.txt", "delete")):
        await library.services.permissions.grant(login, AccessType(level), [library.files[name]])
    connection = await library.connect(login)
    yield connection
    await connection.close()


async def names(connection: asyncpg.Connection, sql: str) -> list[str]:
    return sorted(str(row[0]) for row in await connection.fetch(sql))


async def test_a_guest_sees_exactly_what_was_granted(reader: asyncpg.Connection) -> None:
    assert await names(reader, "SELECT filename FROM files") == ["d.txt", "r.txt", "w.txt"]
    assert await names(reader, "SELECT path FROM folders") == ["/lib/a", "/lib/b"]
    assert await names(reader, "SELECT access_type FROM permissions") == ["delete", "read", "write"]
    assert await names(reader, "SELECT login FROM users") == [
        await reader.fetchval("SELECT session_user")
    ]
    # Links to x.txt stay hidden; tag names are the shared vocabulary.
    assert await names(
        reader, "SELECT t.name FROM file_tags ft JOIN tags t ON t.id = ft.tag_id"
    ) == ["shared"]
    assert await names(reader, "SELECT name FROM tags") == ["secret", "shared"]
    assert await names(reader, "SELECT name FROM saved_searches") == ["texts"]


REFUSED_STATEMENTS = [
    # files: no INSERT/DELETE; only a few columns may be updated
    "INSERT INTO files (id, filename, file_path, file_size, content_type, extension, "
    "upload_time, mtime_ns, version) VALUES (gen_random_uuid(), 'n', '/n', 1, 't', '', now(), "
    "0, 1)",
    "UPDATE files SET file_path = '/evil' || file_path",
    "UPDATE files SET owner_id = NULL",
    "UPDATE files SET thumbnail_path = '/etc/passwd'",
    "DELETE FROM files",
    # users: read their own row only
    "INSERT INTO users (id, login, ip_address, role, created_at, disabled) VALUES "
    "(gen_random_uuid(), 'x', '0.0.0.0/0', 'admin', now(), false)",
    "UPDATE users SET role = 'admin'",
    "UPDATE users SET ip_address = '0.0.0.0/0'",
    "DELETE FROM users",
    # permissions: granting themselves anything
    "INSERT INTO permissions (id, user_id, file_id, access_type, granted_at) "
    "SELECT gen_random_uuid(), u.id, f.id, 'delete', now() FROM users u, files f",
    "UPDATE permissions SET access_type = 'delete'",
    "DELETE FROM permissions",
    # folders, tags, saved searches: admins' business
    "INSERT INTO folders (id, path, added_at, follow_symlinks, excludes) "
    "VALUES (gen_random_uuid(), '/mine', now(), false, '')",
    "UPDATE folders SET path = path || '2'",
    "DELETE FROM folders",
    "UPDATE tags SET name = name || '2'",
    "DELETE FROM tags",
    "INSERT INTO saved_searches (id, name, query, created_at) "
    "VALUES (gen_random_uuid(), 'x', 'x', now())",
    "UPDATE saved_searches SET query = 'x'",
    "DELETE FROM saved_searches",
    "UPDATE file_tags SET tagged_at = now()",
    # TRUNCATE would bypass row-level security: nobody has it
    *(f"TRUNCATE {t} CASCADE" for t in ("files", "users", "permissions", "tags", "file_tags")),
    # tagging or trashing a file held with read only
    "INSERT INTO file_tags (file_id, tag_id, tagged_at) SELECT f.id, t.id, now() "
    "FROM files f, tags t WHERE f.filename = 'r.txt' AND t.name = 'secret'",
    "UPDATE files SET deleted_at = now() WHERE filename IN ('r.txt', 'w.txt')",
]


async def _state(library: Library) -> list[list[tuple[object, ...]]]:
    connection = await library.superuser()
    try:
        return [
            [tuple(row) for row in await connection.fetch(f"SELECT * FROM {t} ORDER BY 1, 2")]
            for t in (
                "files",
                "users",
                "permissions",
                "folders",
                "tags",
                "file_tags",
                "saved_searches",
            )
        ]
    finally:
        await connection.close()


@pytest.mark.parametrize("statement", REFUSED_STATEMENTS)
async def test_each_forbidden_change_is_refused(
    library: Library, reader: asyncpg.Connection, statement: str
) -> None:
    before = await _state(library)
    with pytest.raises(DENIED):
        await reader.execute(statement)
    assert await _state(library) == before


async def test_changes_to_rows_a_guest_cannot_see_touch_nothing(
    library: Library, reader: asyncpg.Connection
) -> None:
    before = await _state(library)
    # x.txt is invisible, r.txt only readable: the UPDATE policy filters them out.
    assert (
        await reader.execute(
            "UPDATE files SET content_type = 'x' WHERE filename IN ('x.txt', 'r.txt')"
        )
        == "UPDATE 0"
    )
    assert await reader.execute("DELETE FROM file_tags") == "DELETE 0"
    assert await _state(library) == before


@pytest.mark.parametrize(
    "statement",
    [
        "SET ROLE {admin}",
        "SET ROLE {owner}",
        "SET ROLE {definer}",
        "SET SESSION AUTHORIZATION postgres",
        "GRANT {admin} TO CURRENT_USER",
        "ALTER TABLE files DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE files NO FORCE ROW LEVEL SECURITY",
        "ALTER TABLE users OWNER TO CURRENT_USER",
        "DROP POLICY filemeta_files_registered_address ON files",
        "CREATE POLICY mine ON files FOR SELECT USING (true)",
        "CREATE FUNCTION public.mine() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "SELECT filemeta_sync_login(session_user::text)",
        "SELECT filemeta_drop_login('postgres')",
    ],
)
async def test_a_guest_cannot_raise_their_rights(
    library: Library, reader: asyncpg.Connection, statement: str
) -> None:
    with pytest.raises(DENIED):
        await reader.execute(statement.format(**{k: f'"{v}"' for k, v in library.groups.items()}))


async def test_turning_row_security_off_refuses_instead_of_bypassing(
    reader: asyncpg.Connection,
) -> None:
    await reader.execute("SET row_security = off")
    with pytest.raises(DENIED, match="row-level security"):
        await reader.fetch("SELECT * FROM files")


async def test_settings_a_client_controls_change_nothing(
    library: Library, reader: asyncpg.Connection
) -> None:
    await reader.execute("SELECT set_config('filemeta.login', 'postgres', false)")
    await reader.execute("SELECT set_config('application_name', 'postgres', false)")
    await reader.execute(f'SET ROLE "{library.groups["guest"]}"')  # a group they hold
    assert await names(reader, "SELECT filename FROM files") == ["d.txt", "r.txt", "w.txt"]


async def test_write_tags_and_delete_trashes(library: Library, reader: asyncpg.Connection) -> None:
    await reader.execute(
        "INSERT INTO tags (id, name, created_at) VALUES (gen_random_uuid(), 'new', now())"
    )
    tagged = await reader.execute(
        "INSERT INTO file_tags (file_id, tag_id, tagged_at) SELECT f.id, t.id, now() "
        "FROM files f, tags t WHERE f.filename IN ('w.txt', 'd.txt') AND t.name = 'new'"
    )
    assert tagged == "INSERT 0 2"
    assert (
        await reader.execute(
            "UPDATE files SET content_type = 'text/markdown' WHERE filename = 'w.txt'"
        )
        == "UPDATE 1"
    )
    with pytest.raises(DENIED, match="needs delete"):
        await reader.execute("UPDATE files SET deleted_at = now() WHERE filename = 'w.txt'")
    assert (
        await reader.execute("UPDATE files SET deleted_at = now() WHERE filename = 'd.txt'")
        == "UPDATE 1"
    )
    assert (
        await reader.execute(
            "DELETE FROM file_tags WHERE tag_id = (SELECT id FROM tags WHERE name = 'new')"
        )
        == "DELETE 2"
    )


async def test_a_guest_with_read_only_cannot_create_tags(
    library: Library, new_login: NewLogin
) -> None:
    login = new_login("onlyread")
    await library.services.users.add(login, "127.0.0.1")
    await library.services.permissions.grant(login, AccessType.READ, [library.files["r.txt"]])
    connection = await library.connect(login)
    try:
        with pytest.raises(DENIED):
            await connection.execute(
                "INSERT INTO tags (id, name, created_at) VALUES (gen_random_uuid(), 'z', now())"
            )
    finally:
        await connection.close()


async def test_from_an_unregistered_address_a_guest_sees_nothing(
    library: Library, new_login: NewLogin
) -> None:
    login = new_login("faraway")
    await library.services.users.add(login, "10.9.9.9")
    await library.services.permissions.grant(login, AccessType.DELETE, list(library.files.values()))
    connection = await library.connect(login)  # from 127.0.0.1
    try:
        for table in (
            "files",
            "folders",
            "users",
            "permissions",
            "tags",
            "file_tags",
            "saved_searches",
        ):
            assert await connection.fetch(f"SELECT * FROM {table}") == [], table
        assert await connection.execute("UPDATE files SET content_type = 'x'") == "UPDATE 0"
    finally:
        await connection.close()
    services = await Services.open(library.dsn(login))
    try:
        assert services.identity.user is None
        assert "10.9.9.9" in (services.identity.problem or "")
        assert "127.0.0.1" in (services.identity.problem or "")
        assert (await services.library.page("", PageRequest())).rows == ()
    finally:
        await services.close()


async def test_an_unknown_login_sees_nothing_and_is_told(
    library: Library, new_login: NewLogin
) -> None:
    login = new_login("stranger")
    admin = await library.superuser()
    try:
        await admin.execute(f'CREATE ROLE "{login}" LOGIN')
    finally:
        await admin.close()
    connection = await library.connect(login)
    try:
        with pytest.raises(DENIED):
            await connection.fetch("SELECT * FROM files")
    finally:
        await connection.close()
    services = await Services.open(library.dsn(login))
    try:
        assert services.identity.user is None
        assert "not registered" in (services.identity.problem or "")
        assert await services.library.count() == 0
        assert await services.tags.list() == []
    finally:
        await services.close()


async def test_a_disabled_guest_loses_the_tables(library: Library, new_login: NewLogin) -> None:
    login = new_login("paused")
    await library.services.users.add(login, "127.0.0.1")
    await library.services.permissions.grant(login, AccessType.READ, [library.files["r.txt"]])
    await library.services.users.disable(login)
    connection = await library.connect(login)
    try:
        with pytest.raises(DENIED):
            await connection.fetch("SELECT * FROM files")
    finally:
        await connection.close()
    services = await Services.open(library.dsn(login))
    try:
        assert services.identity.user is None and "disabled" in (services.identity.problem or "")
    finally:
        await services.close()


async def test_the_app_as_a_guest_reaches_exactly_the_grants(
    library: Library, reader: asyncpg.Connection
) -> None:
    login = await reader.fetchval("SELECT session_user")
    services = await Services.open(library.dsn(login))
    try:
        assert services.identity.user is not None and services.identity.login == login
        page = await services.library.page("", PageRequest())
        assert sorted((r.filename, r.access) for r in page.rows) == [
            ("d.txt", AccessType.DELETE),
            ("r.txt", AccessType.READ),
            ("w.txt", AccessType.WRITE),
        ]
        assert await services.tags.attach(["fresh"], [library.files["w.txt"]]) == 1
        assert [f.path for f in await services.folders.list()] == ["/lib/a", "/lib/b"]
    finally:
        await services.close()
