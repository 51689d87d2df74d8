"""The library's schema version: where it stands, and upgrading it (admins only).

On a shared server an upgrade changes the library under every teammate's client, so it
is offered to admins only; the advisory lock in ``db.migrate.run_command`` makes sure two
admins clicking "upgrade" at the same moment migrate one after the other (the second
finds nothing left to do). Clients older than the schema open read-only
(``Database.open(..., allow_newer_schema=True)``).
"""

from __future__ import annotations

from dataclasses import replace

from filemeta_gui.db import migrate
from filemeta_gui.db.engine import Database
from filemeta_gui.domain.errors import SchemaTooNewError
from filemeta_gui.domain.schema import SchemaStatus
from filemeta_gui.services.access import AccessPolicy


class SchemaService:
    def __init__(self, database: Database, policy: AccessPolicy) -> None:
        self.database = database
        self.policy = policy

    async def state(self) -> SchemaStatus:
        found = await migrate.schema_state(self.database)
        return self._status(found)

    async def upgrade_schema(self) -> SchemaStatus:
        """Migrate the library to the newest schema this FileMeta knows.

        Raises:
            PermissionDeniedError: the current user is not an admin.
            SchemaTooNewError: the library is newer than this FileMeta.
        """
        self.policy.require_admin("upgrade the library to a new version")
        found = await migrate.schema_state(self.database)
        if not found.known:
            raise SchemaTooNewError(migrate.read_only_message(found))
        if not found.up_to_date:
            await migrate.upgrade_on_open(self.database)
        return await self.state()

    def _status(self, found: migrate.SchemaState) -> SchemaStatus:
        status = SchemaStatus(
            current=found.current,
            head=found.head,
            known=found.known,
            read_only=self.database.read_only,
        )
        if not found.known:
            message = self.database.read_only_reason or migrate.read_only_message(found)
            return replace(status, message=message)
        if found.up_to_date:
            return status
        if self.policy.is_admin:
            return replace(
                status,
                can_upgrade=True,
                message=f"This library uses schema {found.current or 'none'}; this FileMeta "
                f"can upgrade it to {found.head}. Teammates with older versions will then "
                "see it read-only until they update.",
            )
        return replace(
            status,
            message=f"This library uses schema {found.current or 'none'}; this FileMeta "
            f"needs {found.head}. Ask an admin to upgrade the library.",
        )
