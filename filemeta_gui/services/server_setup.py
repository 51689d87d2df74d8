"""What ``filemeta server init`` reports about a team server once it is set up.

The set-up itself is the migrations (migration 0004 creates the group roles, grants and
policies) plus the first admin (``identity``: the database owner's first login on an empty
library). This service only looks: who is the admin, which roles enforce the rules, and
what in the server's configuration would make those rules worthless.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from filemeta_gui.db.engine import Database
from filemeta_gui.domain.records import UserRecord
from filemeta_gui.repositories.login_roles import LoginRoleRepository
from filemeta_gui.services.access import AccessPolicy


@dataclass(frozen=True, slots=True)
class ServerReport:
    database: str
    admin: UserRecord
    superuser: bool
    """The admin logs in as a superuser: row-level security never applies to it."""
    group_roles: dict[str, str]
    password_encryption: str
    trust_rules: tuple[str, ...] | None
    """pg_hba.conf lines that trust connections without a password; None: unknown (only
    a superuser may read the server's pg_hba.conf rules)."""


class ServerSetupService:
    def __init__(self, database: Database, policy: AccessPolicy) -> None:
        self.database = database
        self.policy = policy

    async def report(self) -> ServerReport:
        self.policy.require_admin("inspect the server set-up")
        admin = self.policy.identity.user
        assert admin is not None  # require_admin
        async with self.database.session() as session:
            roles = LoginRoleRepository(session)
            me = await roles.whoami()
            groups = await roles.group_roles()
            encryption = str(await session.scalar(text("SHOW password_encryption")))
            trust = await _trust_rules(session) if me.superuser else None
        return ServerReport(
            database=self.database.name,
            admin=admin,
            superuser=me.superuser,
            group_roles=groups,
            password_encryption=encryption,
            trust_rules=trust,
        )


async def _trust_rules(session: AsyncSession) -> tuple[str, ...]:
    rows = await session.execute(
        text(
            "SELECT line_number, type, array_to_string(database, ','), "
            "array_to_string(user_name, ','), coalesce(address, '') FROM pg_hba_file_rules "
            "WHERE auth_method = 'trust' ORDER BY line_number"
        )
    )
    return tuple(
        f"line {line}: {kind} {dbs} {users} {address}".rstrip()
        for line, kind, dbs, users, address in rows
    )
