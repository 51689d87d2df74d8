"""Rows for repository tests: plain dicts and helpers that insert them."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from filemeta_gui.db.models import File, User
from filemeta_gui.domain.enums import Role
from filemeta_gui.repositories import FileRepository, UserRepository

BASE_TIME = datetime(2024, 1, 1, tzinfo=UTC)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def file_row(path: str, **values: Any) -> dict[str, Any]:
    """A complete ``files`` row for ``path``; ``values`` override any column."""
    row: dict[str, Any] = {
        "filename": path.rsplit("/", 1)[-1],
        "file_path": path,
        "file_size": 100,
        "content_type": "text/plain",
        "mtime_ns": 1_000,
        "upload_time": BASE_TIME,
        "hash_value": None,
    }
    row.update(values)
    return row


async def add_files(session: AsyncSession, *rows: dict[str, Any]) -> list[File]:
    return await FileRepository(session).bulk_create(list(rows))


async def add_user(
    session: AsyncSession, ip: str = "127.0.0.1", role: Role = Role.GUEST, login: str | None = None
) -> User:
    return await UserRepository(session).create(ip_address=ip, role=role, login=login)


def at(minutes: int) -> datetime:
    return BASE_TIME + timedelta(minutes=minutes)
