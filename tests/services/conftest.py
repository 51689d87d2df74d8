from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from filemeta_gui.db.engine import Database
from filemeta_gui.services.container import Services
from filemeta_gui.services.identity import resolve_identity


@pytest.fixture
async def services(database: Database) -> AsyncIterator[Services]:
    """Services over the test's database, acting as its admin (first user / local admin)."""
    yield Services(database, await resolve_identity(database))
