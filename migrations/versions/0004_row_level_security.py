"""row-level security: group roles, grants and policies enforce who sees what (PostgreSQL)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

Issue 5: on a team server every member can open the database with psql, so the server
itself enforces the rules the services check. SQLite is a one-person library: nothing here.

Roles (cluster-wide, so named after the database: ``<db>_owner`` etc., see ``_prefix``):

* ``owner``   NOLOGIN, owns the tables. Only the login that migrates is a member: nobody
  else can ALTER a table, drop a policy or DISABLE ROW LEVEL SECURITY.
* ``admin`` / ``guest``  NOLOGIN groups giving table privileges; each person's LOGIN role
  is a member of one. A group only opens the door: every row is still filtered by the
  policies, which look the person up in ``users`` by ``session_user``.
* ``definer`` NOLOGIN (CREATEROLE), owns the SECURITY DEFINER helpers. Policies on
  ``users`` and ``permissions`` cannot query those tables themselves (infinite recursion),
  and an owner-run helper would be filtered too under FORCE ROW LEVEL SECURITY; the
  helpers run as ``definer``, whose only policies read those two tables. It also creates
  and drops the login roles of FileMeta users (``filemeta_sync_login``), so an admin needs
  no CREATEROLE — which on PostgreSQL 15 would let them grant themselves nearly anything.

Policies key on ``session_user`` (the authenticated login; SET ROLE does not change it and
SET SESSION AUTHORIZATION needs a superuser) and never on a setting, which any client may
set. A RESTRICTIVE policy on every table also requires the connection to come from the
user's registered address or network (``inet_client_addr() <<= users.ip_address``); a
Unix-socket connection has no address and counts as 127.0.0.1, i.e. local to the server.

Superusers bypass row-level security whatever we do (tests and the DBA connect as one).
Nobody gets TRUNCATE: it bypasses row-level security.
"""

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

from alembic import context, op
from sqlalchemy import text

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("users", "folders", "files", "permissions", "tags", "file_tags", "saved_searches")
KINDS = ("owner", "admin", "guest", "definer")
LOCAL = "inet '127.0.0.1'"
CLIENT = f"coalesce(inet_client_addr(), {LOCAL})"
# What a guest may change on a file: notes about it, never where or what it is on disk
# (the indexer, an admin, writes those), nor a path another client would open.
GUEST_FILE_COLUMNS = ("content_type", "deleted_at", "version")
LEVELS = {"read": "'read', 'write', 'delete'", "write": "'write', 'delete'", "delete": "'delete'"}


def _prefix(database: str) -> str:
    """Role-name prefix for a database: its name when that is a plain identifier."""
    clean = re.sub(r"[^a-z0-9_]", "_", database.lower())
    if clean != database or len(clean) > 48:
        # Keep names unique when two database names clean up to the same text.
        clean = f"{clean[:40]}_{hashlib.sha256(database.encode()).hexdigest()[:6]}"
    return clean


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class _Names:
    """Schema and role names of this database, read online or given with ``-x``."""

    def __init__(self, schema: str, roles: dict[str, str]) -> None:
        self.schema = schema
        self.roles = roles
        self.owner, self.admin, self.guest, self.definer = (_q(roles[k]) for k in KINDS)

    def t(self, table: str) -> str:
        return f"{_q(self.schema)}.{_q(table)}"

    def fn(self, name: str) -> str:
        return f"{_q(self.schema)}.{name}"


def _names_for_upgrade() -> _Names:
    if context.is_offline_mode():
        prefix = context.get_x_argument(as_dictionary=True).get("role_prefix", "filemeta")
        return _Names("public", {k: f"{prefix}_{k}" for k in KINDS})
    bind = op.get_bind()
    database, schema = bind.execute(text("SELECT current_database(), current_schema()")).one()
    prefix = _prefix(database)
    return _Names(schema, {k: f"{prefix}_{k}" for k in KINDS})


def _names_for_downgrade() -> _Names:
    if context.is_offline_mode():
        return _names_for_upgrade()
    bind = op.get_bind()
    schema = bind.execute(text("SELECT current_schema()")).scalar_one()
    # The names this database really uses: a copy made with CREATE DATABASE ... TEMPLATE
    # shares its template's roles, whatever its own name.
    rows = bind.execute(text(f"SELECT kind, role_name FROM {_q(schema)}.filemeta_group_roles()"))
    return _Names(schema, {kind: name for kind, name in rows})


def _run(statements: Sequence[str]) -> None:
    for statement in statements:
        if context.is_offline_mode():
            op.execute(statement)
        else:
            # Driver SQL: no bind-parameter parsing of the colons and dollars in bodies.
            op.get_bind().exec_driver_sql(statement)


# -- roles -----------------------------------------------------------------------------


def _create_roles(n: _Names) -> list[str]:
    statements = [
        """DO $$ BEGIN
  IF NOT (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege', MESSAGE =
      'FileMeta''s access rules need roles: run "filemeta server init" (or this '
      'migration) as the database owner with CREATEROLE, or as a superuser.';
  END IF;
END $$"""
    ]
    for kind in KINDS:
        name = n.roles[kind]
        extra = " CREATEROLE" if kind == "definer" else ""
        statements.append(
            f"""DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {_lit(name)}
             AND (rolcanlogin OR rolsuper OR rolbypassrls)) THEN
    RAISE EXCEPTION USING ERRCODE = 'duplicate_object', MESSAGE = format(
      'The role %I already exists and can log in or bypass row-level security: '
      'FileMeta will not use it as a group role. Rename or drop it first.', {_lit(name)});
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {_lit(name)}) THEN
    CREATE ROLE {_q(name)} NOLOGIN{extra};
  END IF;
END $$"""
        )
    statements.append(f"ALTER ROLE {n.definer} CREATEROLE")
    # PostgreSQL 16 narrowed CREATEROLE: granting a group needs ADMIN OPTION on it. (Not
    # exercised by the tests, which run on 15; EXECUTE keeps 15 from parsing the syntax.)
    grant = f"GRANT {n.admin}, {n.guest} TO {n.definer} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE"
    statements.append(
        f"""DO $$ BEGIN
  IF current_setting('server_version_num')::int >= 160000 THEN EXECUTE {_lit(grant)}; END IF;
END $$"""
    )
    return statements


def _installer_membership(n: _Names, grant: bool, roles: str) -> str:
    # A non-superuser may only give an object to a role it is a member of (and owner
    # membership lets it run later migrations). Superusers need no membership.
    verb = f"GRANT {roles} TO CURRENT_USER" if grant else f"REVOKE {roles} FROM CURRENT_USER"
    return f"""DO $$ BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN {verb}; END IF;
END $$"""


# -- tables and grants --------------------------------------------------------------------


def _tables_and_grants(n: _Names) -> list[str]:
    s = _q(n.schema)
    out = [
        f"GRANT USAGE, CREATE ON SCHEMA {s} TO {n.owner}",
        # CREATE only while the helpers are handed over (ALTER FUNCTION ... OWNER needs it).
        f"GRANT USAGE, CREATE ON SCHEMA {s} TO {n.definer}",
        f"GRANT USAGE ON SCHEMA {s} TO {n.admin}, {n.guest}",
        f"ALTER TABLE {n.t('alembic_version')} OWNER TO {n.owner}",
        # Anyone may learn the schema version, so an unregistered login gets a plain
        # "you are not registered" instead of a permission error while opening.
        f"GRANT SELECT ON {n.t('alembic_version')} TO PUBLIC",
    ]
    for table in TABLES:
        t = n.t(table)
        out += [
            f"ALTER TABLE {t} OWNER TO {n.owner}",
            f"REVOKE ALL ON {t} FROM PUBLIC",
            f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {t} FORCE ROW LEVEL SECURITY",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON {t} TO {n.admin}",
            f"GRANT SELECT ON {t} TO {n.guest}",
        ]
    out += [
        f"GRANT UPDATE ({', '.join(GUEST_FILE_COLUMNS)}) ON {n.t('files')} TO {n.guest}",
        f"GRANT INSERT, DELETE ON {n.t('file_tags')} TO {n.guest}",
        f"GRANT INSERT ON {n.t('tags')} TO {n.guest}",
        f"GRANT SELECT ON {n.t('users')}, {n.t('permissions')} TO {n.definer}",
    ]
    return out


# -- helper functions ----------------------------------------------------------------------

SQL_FILE = Path(__file__).with_suffix(".sql")
STATEMENT_END = "\n-- ;;\n"
# signature -> who may call it. Everything else is revoked from PUBLIC.
FUNCTIONS = {
    "filemeta_current_user_id()": "members",
    "filemeta_is_admin()": "members",
    "filemeta_library_is_empty()": "members",
    "filemeta_may(uuid, text)": "members",
    "filemeta_whoami()": "PUBLIC",
    "filemeta_group_roles()": "PUBLIC",
    "filemeta_sync_login(text, text)": "managers",
    "filemeta_drop_login(text)": "managers",
}


def _create_functions(n: _Names) -> list[str]:
    lits = {f"{kind}_lit": _lit(n.roles[kind]) for kind in KINDS}
    source = SQL_FILE.read_text(encoding="utf-8").format(s=_q(n.schema), client=CLIENT, **lits)
    out = [part.strip() for part in source.split(STATEMENT_END) if part.strip()]
    members, managers = f"{n.admin}, {n.guest}, {n.owner}", f"{n.admin}, {n.owner}"
    executors = {"members": members, "managers": managers, "PUBLIC": "PUBLIC"}
    for signature, who in FUNCTIONS.items():
        fn = n.fn(signature)
        out += [
            f"ALTER FUNCTION {fn} OWNER TO {n.definer}",
            f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC",
            f"GRANT EXECUTE ON FUNCTION {fn} TO {executors[who]}",
        ]
    # The trigger function is SECURITY INVOKER (see the SQL file): the owner group's.
    out += [
        f"ALTER FUNCTION {n.fn('filemeta_guard_soft_delete()')} OWNER TO {n.owner}",
        f"REVOKE ALL ON FUNCTION {n.fn('filemeta_guard_soft_delete()')} FROM PUBLIC",
        f"CREATE TRIGGER filemeta_guard_soft_delete BEFORE UPDATE OF deleted_at "
        f"ON {n.t('files')} FOR EACH ROW "
        f"WHEN (OLD.deleted_at IS DISTINCT FROM NEW.deleted_at) "
        f"EXECUTE FUNCTION {n.fn('filemeta_guard_soft_delete')}()",
    ]
    return out


# -- policies ----------------------------------------------------------------------------


def _holds(n: _Names, level: str, file_column: str) -> str:
    # (SELECT f()) is an InitPlan: evaluated once per statement, not once per row, so the
    # EXISTS becomes a semi-join on the permissions index.
    return (
        f"EXISTS (SELECT 1 FROM {n.t('permissions')} AS p WHERE p.file_id = {file_column} "
        f"AND p.user_id = (SELECT {n.fn('filemeta_current_user_id')}()) "
        f"AND p.access_type IN ({LEVELS[level]}))"
    )


def _policies(n: _Names) -> list[tuple[str, str, str, str, str | None, str | None]]:
    """(table, name, command, roles, USING, WITH CHECK); all permissive but the last kind."""
    admin = f"(SELECT {n.fn('filemeta_is_admin')}())"
    me = f"(SELECT {n.fn('filemeta_current_user_id')}())"
    any_write = (
        f"EXISTS (SELECT 1 FROM {n.t('permissions')} AS p WHERE p.user_id = {me} "
        f"AND p.access_type IN ({LEVELS['write']}))"
    )
    rows: list[tuple[str, str, str, str, str | None, str | None]] = [
        (t, "admin_all", "ALL", n.admin, admin, admin) for t in TABLES
    ]
    a_visible_file = f"EXISTS (SELECT 1 FROM {n.t('files')} AS f WHERE f.folder_id = folders.id)"
    file_write = _holds(n, "write", "files.id")
    tag_read = _holds(n, "read", "file_tags.file_id")
    tag_write = _holds(n, "write", "file_tags.file_id")
    rows += [
        ("users", "self_read", "SELECT", f"{n.admin}, {n.guest}", "login = session_user", None),
        ("users", "definer_read", "SELECT", n.definer, "true", None),
        # The first login of an empty library becomes its admin: only the owner group's
        # member (the one who migrated) may do this, and only for itself.
        (
            "users",
            "bootstrap",
            "INSERT",
            n.owner,
            None,
            f"login = session_user AND role = 'admin' AND NOT disabled "
            f"AND (SELECT {n.fn('filemeta_library_is_empty')}())",
        ),
        ("users", "owner_self_read", "SELECT", n.owner, "login = session_user", None),
        ("permissions", "own_read", "SELECT", n.guest, f"user_id = {me}", None),
        ("permissions", "definer_read", "SELECT", n.definer, "true", None),
        ("files", "guest_read", "SELECT", n.guest, _holds(n, "read", "files.id"), None),
        ("files", "guest_write", "UPDATE", n.guest, file_write, file_write),
        ("file_tags", "guest_read", "SELECT", n.guest, tag_read, None),
        ("file_tags", "guest_tag", "INSERT", n.guest, None, tag_write),
        ("file_tags", "guest_untag", "DELETE", n.guest, tag_write, None),
        # Tag names are the team's shared vocabulary; a guest adds one while tagging a file
        # they may write (TagService.attach creates unknown names).
        ("tags", "guest_read", "SELECT", n.guest, "true", None),
        ("tags", "guest_create", "INSERT", n.guest, None, f"parent_id IS NULL AND {any_write}"),
        ("saved_searches", "guest_read", "SELECT", n.guest, "true", None),
        # A folder shows when the guest may read a file in it (files' own policy applies
        # inside this subquery).
        ("folders", "guest_read", "SELECT", n.guest, a_visible_file, None),
    ]
    return rows


def _restrictive(n: _Names, table: str) -> str:
    # Whatever the permissive policies allow, a member of the groups must be a registered,
    # enabled user connecting from their address or network.
    ok = f"((SELECT {n.fn('filemeta_current_user_id')}()) IS NOT NULL)"
    return (
        f"CREATE POLICY filemeta_{table}_registered_address ON {n.t(table)} AS RESTRICTIVE "
        f"FOR ALL TO {n.admin}, {n.guest} USING {ok} WITH CHECK {ok}"
    )


def _create_policies(n: _Names) -> list[str]:
    out = []
    for table, name, command, roles, using, check in _policies(n):
        sql = f"CREATE POLICY filemeta_{table}_{name} ON {n.t(table)} FOR {command} TO {roles}"
        if using is not None:
            sql += f" USING ({using})"
        if check is not None:
            sql += f" WITH CHECK ({check})"
        out.append(sql)
    out += [_restrictive(n, table) for table in TABLES]
    return out


def _policy_names(n: _Names) -> list[tuple[str, str]]:
    named = [(table, f"filemeta_{table}_{name}") for table, name, *_ in _policies(n)]
    return named + [(table, f"filemeta_{table}_registered_address") for table in TABLES]


# -- upgrade / downgrade --------------------------------------------------------------------


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    n = _names_for_upgrade()
    both = f"{n.owner}, {n.definer}"
    _run(
        [
            *_create_roles(n),
            _installer_membership(n, True, both),
            *_tables_and_grants(n),
            *_create_functions(n),
            *_create_policies(n),
            f"REVOKE CREATE ON SCHEMA {_q(n.schema)} FROM {n.definer}",
            # Owner membership stays: the installer runs the next migrations.
            _installer_membership(n, False, n.definer),
        ]
    )


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    n = _names_for_downgrade()
    s = _q(n.schema)
    statements = [_installer_membership(n, True, f"{n.owner}, {n.definer}")]
    statements += [f"DROP POLICY IF EXISTS {name} ON {n.t(t)}" for t, name in _policy_names(n)]
    statements += [
        f"DROP TRIGGER IF EXISTS filemeta_guard_soft_delete ON {n.t('files')}",
        f"DROP FUNCTION IF EXISTS {n.fn('filemeta_guard_soft_delete()')}",
    ]
    statements += [f"DROP FUNCTION IF EXISTS {n.fn(sig)}" for sig in FUNCTIONS]
    for table in TABLES:
        t = n.t(table)
        statements += [
            f"ALTER TABLE {t} NO FORCE ROW LEVEL SECURITY",
            f"ALTER TABLE {t} DISABLE ROW LEVEL SECURITY",
            f"REVOKE ALL ON {t} FROM {n.admin}, {n.guest}, {n.definer}",
            f"ALTER TABLE {t} OWNER TO CURRENT_USER",
        ]
    statements += [
        f"REVOKE SELECT ON {n.t('alembic_version')} FROM PUBLIC",
        f"ALTER TABLE {n.t('alembic_version')} OWNER TO CURRENT_USER",
        f"REVOKE ALL ON SCHEMA {s} FROM {n.owner}, {n.admin}, {n.guest}, {n.definer}",
    ]
    statements.append(_installer_membership(n, False, f"{n.owner}, {n.definer}"))
    statements += [_drop_role_if_unused(n.roles[kind]) for kind in KINDS]
    _run(statements)


def _drop_role_if_unused(name: str) -> str:
    # Roles are cluster-wide: a copy of this database (CREATE DATABASE ... TEMPLATE) may
    # still use them, and then PostgreSQL refuses; keep them and say so.
    return f"""DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {_lit(name)}) THEN
    EXECUTE format('DROP ROLE %I', {_lit(name)});
  END IF;
EXCEPTION WHEN dependent_objects_still_exist THEN
  RAISE NOTICE 'role % kept: another database still uses it', {_lit(name)};
END $$"""
