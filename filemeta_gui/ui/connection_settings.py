"""What the Connect dialog remembers: connection settings, recent ones, saved passwords.

Recent connections live in QSettings *without* passwords. A password goes to the system
keyring when one is usable (``keyring`` is an optional dependency, imported lazily);
otherwise it is asked for each time.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, quote, unquote, urlsplit

from PySide6.QtCore import QSettings

logger = logging.getLogger(__name__)

Kind = Literal["sqlite", "postgresql"]
SSL_MODES = ("prefer", "disable", "require", "verify-ca", "verify-full")
DEFAULT_PORT = 5432
RECENT_KEY = "connections/recent"
MAX_RECENT = 8
KEYRING_SERVICE = "FileMeta"


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """One library: a SQLite file or a PostgreSQL database. Never holds a password."""

    kind: Kind = "sqlite"
    path: str = ""
    host: str = "localhost"
    port: int = DEFAULT_PORT
    database: str = "filemeta"
    user: str = ""
    ssl_mode: str = "prefer"

    def url(self, password: str | None = None) -> str:
        """The database URL ``Database.open`` accepts (with the password, if given)."""
        if self.kind == "sqlite":
            return f"sqlite:///{Path(self.path).expanduser()}"
        auth = quote(self.user, safe="")
        if password:
            auth += ":" + quote(password, safe="")
        if auth:
            auth += "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        url = f"postgresql://{auth}{host}:{self.port}/{quote(self.database, safe='')}"
        if self.ssl_mode != "prefer":
            url += f"?ssl={self.ssl_mode}"
        return url

    @property
    def key(self) -> str:
        """Identity of the connection: recent-list entry and keyring user name."""
        return self.url()

    @property
    def label(self) -> str:
        """A short name for menus: the file name, or ``user@host/database``."""
        if self.kind == "sqlite":
            return f"{Path(self.path).name} — {Path(self.path).parent}"
        user = f"{self.user}@" if self.user else ""
        port = "" if self.port == DEFAULT_PORT else f":{self.port}"
        return f"{user}{self.host}{port}/{self.database}"

    def missing(self) -> str | None:
        """What must still be filled in, in plain words, or None when complete."""
        if self.kind == "sqlite":
            return None if self.path.strip() else "Choose or create a library file."
        for value, what in ((self.host, "a host"), (self.database, "a database name")):
            if not value.strip():
                return f"Enter {what}."
        return None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConnectionSettings:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        settings = cls(**known)
        if settings.kind not in ("sqlite", "postgresql"):
            raise ValueError(f"unknown connection kind {settings.kind!r}")
        return replace(settings, port=int(settings.port))

    @classmethod
    def from_url(cls, url: str) -> ConnectionSettings:
        """Settings for a URL such as ``FILEMETA_DATABASE_URL`` (its password dropped)."""
        parts = urlsplit(url)
        scheme = parts.scheme.split("+", 1)[0]
        if scheme == "sqlite":
            return cls(kind="sqlite", path=url.split(":///", 1)[-1])
        if scheme not in ("postgresql", "postgres"):
            raise ValueError(f"not a FileMeta database URL: {scheme}")
        query = parse_qs(parts.query)
        ssl = (query.get("ssl") or query.get("sslmode") or ["prefer"])[0]
        return cls(
            kind="postgresql",
            host=parts.hostname or "localhost",
            port=parts.port or DEFAULT_PORT,
            database=unquote(parts.path.lstrip("/")) or "filemeta",
            user=unquote(parts.username or ""),
            ssl_mode=ssl if ssl in SSL_MODES else "prefer",
        )


class RecentConnections:
    """The most recently used connections, newest first, in QSettings (no passwords)."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self._settings = settings if settings is not None else QSettings()

    def load(self) -> list[ConnectionSettings]:
        raw = self._settings.value(RECENT_KEY, "[]")
        try:
            items = json.loads(str(raw))
            return [ConnectionSettings.from_dict(item) for item in items]
        except (ValueError, TypeError) as error:
            logger.warning("Ignoring unreadable recent connections: %s", error)
            return []

    def last(self) -> ConnectionSettings | None:
        items = self.load()
        return items[0] if items else None

    def remember(self, settings: ConnectionSettings) -> None:
        items = [settings] + [s for s in self.load() if s.key != settings.key]
        self._save(items[:MAX_RECENT])

    def forget(self, settings: ConnectionSettings) -> None:
        self._save([s for s in self.load() if s.key != settings.key])

    def _save(self, items: list[ConnectionSettings]) -> None:
        self._settings.setValue(RECENT_KEY, json.dumps([s.to_dict() for s in items]))
        self._settings.sync()


class PasswordStore:
    """Passwords in the system keyring, if there is a usable one.

    Args:
        backend: an object with keyring's ``get_password``/``set_password``/
            ``delete_password``; by default the ``keyring`` package's active backend.
        system: look for the system keyring when no ``backend`` is given (False: never
            store passwords, always ask).
    """

    def __init__(self, backend: Any | None = None, *, system: bool = True) -> None:
        self._backend = backend
        self._probed = backend is not None or not system

    @property
    def available(self) -> bool:
        return self._get_backend() is not None

    def _get_backend(self) -> Any | None:
        if not self._probed:
            self._probed = True
            self._backend = _system_keyring()
        return self._backend

    def get(self, key: str) -> str | None:
        backend = self._get_backend()
        if backend is None:
            return None
        try:
            value = backend.get_password(KEYRING_SERVICE, key)
        except Exception as error:  # a locked or broken keyring: ask for the password
            logger.warning("Keyring unavailable: %s", error)
            return None
        return str(value) if value is not None else None

    def set(self, key: str, password: str) -> bool:
        """Save ``password``; False when there is no keyring or it refused."""
        backend = self._get_backend()
        if backend is None:
            return False
        try:
            backend.set_password(KEYRING_SERVICE, key, password)
        except Exception as error:
            logger.warning("Could not save the password in the keyring: %s", error)
            return False
        return True

    def delete(self, key: str) -> None:
        backend = self._get_backend()
        if backend is None:
            return
        try:
            backend.delete_password(KEYRING_SERVICE, key)
        except Exception as error:  # nothing saved under that key is fine too
            logger.debug("Keyring delete: %s", error)


def _system_keyring() -> Any | None:
    """keyring's active backend, or None when keyring is absent or only a stand-in."""
    try:
        import keyring
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception as error:
        logger.info("No usable keyring: %s", error)
        return None
    module = type(backend).__module__
    # fail.Keyring raises on every call, null.Keyring drops what it is given.
    if module.endswith((".fail", ".null")) or getattr(backend, "priority", 1) <= 0:
        return None
    return backend
