"""Throw-away PostgreSQL databases and roles for tests (synchronous, via asyncpg)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url


class PgServer:
    """The test server: creates databases with unique names and drops them all at the end."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url).set(drivername="postgresql")
        self.created: list[str] = []
        self.roles: list[str] = []

    def _dsn(self, database: str | None = None) -> str:
        url = self.url.set(database=database or self.url.database)
        return url.render_as_string(hide_password=False)

    def run(self, sql: str, *args: Any, database: str | None = None) -> Any:
        async def _go() -> Any:
            conn = await asyncpg.connect(self._dsn(database))
            try:
                return await conn.fetch(sql, *args)
            finally:
                await conn.close()

        return asyncio.run(_go())

    def check(self) -> None:
        self.run("SELECT 1")

    def create_database(self, template: str | None = None) -> str:
        name = f"filemeta_test_{uuid.uuid4().hex[:12]}"
        suffix = f' TEMPLATE "{template}"' if template else ""
        self.run(f'CREATE DATABASE "{name}"{suffix}')
        self.created.append(name)
        return name

    def mark_template(self, name: str) -> None:
        # Templates must have no other connections while being copied; ours are closed.
        self.run(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')

    def drop_database(self, name: str) -> None:
        self.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.created:
            self.created.remove(name)
        self.drop_group_roles(name)

    def drop_group_roles(self, database: str) -> None:
        """Drop the group roles migration 0004 made for ``database`` (``<name>_owner``...).

        Roles outlive databases; a copy of a template shares the template's roles, so a
        role still in use elsewhere is kept (it goes when its last database does).
        """
        names = ", ".join(
            "'" + f"{database}_{kind}".replace("'", "''") + "'"
            for kind in ("owner", "admin", "guest", "definer")
        )
        self.run(
            f"""DO $$ DECLARE r text; BEGIN
              FOR r IN SELECT rolname FROM pg_roles WHERE rolname IN ({names}) LOOP
                BEGIN EXECUTE format('DROP ROLE %I', r);
                EXCEPTION WHEN dependent_objects_still_exist THEN NULL; END;
              END LOOP;
            END $$"""
        )

    def drop_all(self) -> None:
        for name in reversed(list(self.created)):
            self.drop_database(name)
        for role in reversed(list(self.roles)):
            self.run(f'DROP ROLE IF EXISTS "{role}"')

    def url_for(self, database: str, user: str | None = None, password: str | None = None) -> str:
        url = self.url.set(database=database)
        if user is not None:
            url = url.set(username=user, password=password)
        return url.render_as_string(hide_password=False)
