"""Where a library's schema stands relative to this FileMeta, for the window and the CLI."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """The library's schema revision against the newest this code knows.

    Attributes:
        current: the library's revision (None: an empty database).
        head: the newest revision this FileMeta knows.
        known: False when ``current`` comes from a newer FileMeta.
        read_only: the library is open read-only (it is newer than this code).
        can_upgrade: an upgrade is due *and* the current user may run it (admins only).
        message: one sentence for a banner; empty when all is well.
    """

    current: str | None
    head: str
    known: bool
    read_only: bool = False
    can_upgrade: bool = False
    message: str = ""

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def needs_upgrade(self) -> bool:
        return self.known and not self.up_to_date
