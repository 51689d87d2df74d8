"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import ipaddress
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String, Uuid
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


class FastUuid(Uuid[uuid.UUID]):
    """``Uuid``, read faster from SQLite, which stores it as 32 hex digits.

    ``uuid.UUID(hex)`` takes ~3 us: it strips braces, dashes and prefixes, checks the
    length and range. Every page reads three ids a row (file, folder, owner), and a
    duplicate listing ~20k rows. Digits straight from the column skip to the integer;
    anything else still goes through ``uuid.UUID``. PostgreSQL's driver makes its own.
    """

    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        processor = super().result_processor(dialect, coltype)
        if processor is None or dialect.name != "sqlite" or not self.as_uuid:
            return processor
        return _uuid_from_hex


_new_object = object.__new__
_set_slot = object.__setattr__
_UNKNOWN_SAFETY = uuid.SafeUUID.unknown


def _uuid_from_hex(value: str | None) -> uuid.UUID | None:
    if value is None:
        return None
    if len(value) != 32:
        return uuid.UUID(value)
    # What uuid.UUID.__init__ itself does once the text is clean: the object's two slots.
    made = _new_object(uuid.UUID)
    _set_slot(made, "int", int(value, 16))
    _set_slot(made, "is_safe", _UNKNOWN_SAFETY)
    return made
