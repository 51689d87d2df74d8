"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from filemeta_gui.domain.errors import ValidationError


def normalize_ip(value: str) -> str:
    """Validate an address or a network and return its canonical text.

    A bare address stays an address (``10.0.0.5``); a network keeps its prefix
    (``10.0.0.0/24``). Host bits set in a network (``10.0.0.5/24``) are refused, as
    PostgreSQL's ``cidr`` would.
    """
    text = str(value).strip()
    try:
        if "/" in text:
            return str(ipaddress.ip_network(text, strict=True))
        return str(ipaddress.ip_address(text))
    except ValueError as exc:
        raise ValidationError(f"{text!r} is not an IP address or network ({exc}).") from exc


class IPAddress(TypeDecorator[str]):
    """INET on PostgreSQL, validated text on SQLite; values are canonical strings."""

    impl = String(49)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.INET())
        return dialect.type_descriptor(String(49))

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else normalize_ip(str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        # asyncpg returns ipaddress objects for INET; a /32 host comes back as an address.
        return normalize_ip(str(value))


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware timestamps, stored in UTC, always returned aware.

    SQLite has no time zones: it stores the UTC wall time and we re-attach UTC on the way
    out. Naive datetimes are refused on the way in, so no local time slips in unnoticed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValidationError("Timestamps must be timezone-aware.")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
