"""ORM models: the schema of DESIGN.md plus what indexing needs.

Every relationship is ``lazy="raise"``: code that needs related rows loads them eagerly
(``selectinload``) so nothing can do hidden I/O, least of all on the GUI side.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from filemeta_gui.db.schema_filter import ONLY_ON
from filemeta_gui.db.types import FastUuid, IPAddress, UTCDateTime, utcnow
from filemeta_gui.domain.enums import AccessType, Role

# Stable constraint names: Alembic can then drop and alter them by name on both backends.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {uuid.UUID: FastUuid()}  # foreign keys too


def _enum(cls: type[Role] | type[AccessType], name: str) -> Enum:
    # A CHECK-constrained VARCHAR rather than a native PostgreSQL ENUM: the same on both
    # backends, and adding a value later is a plain constraint change.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Folder(Base):
    """A root the user asked FileMeta to index."""

    __tablename__ = "folders"

    id: Mapped[uuid.UUID] = mapped_column(FastUuid, primary_key=True, default=uuid.uuid4)
    path: Mapped[str] = mapped_column(Text, unique=True)
    raw_path: Mapped[bytes | None] = mapped_column(LargeBinary)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_scan_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    follow_symlinks: Mapped[bool] = mapped_column(Boolean, default=False)
    excludes: Mapped[str] = mapped_column(Text, default="")
    """Exclusion globs, one per line."""

    files: Mapped[list[File]] = relationship(back_populates="folder", lazy="raise")


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(FastUuid, primary_key=True, default=uuid.uuid4)
    login: Mapped[str | None] = mapped_column(String(63), unique=True)
    """PostgreSQL login role of this user (NULL for the local SQLite user)."""
    ip_address: Mapped[str] = mapped_column(IPAddress)
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role"), default=Role.GUEST)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)

    permissions: Mapped[list[Permission]] = relationship(back_populates="user", lazy="raise")


SORT_INDEX_COLUMNS = (
    "filename", "file_path", "file_size", "content_type", "mtime_ns", "upload_time", "hash_value",
)  # fmt: skip
_SORT_INDEX_CARRIES = ("content_type", "extension", "deleted_at")
_IN_BIN = text("deleted_at IS NOT NULL")
_LIVE = text("deleted_at IS NULL")
_UNHASHED = text("hash_value IS NULL")


def _sort_index(column: str, with_path: bool = False) -> Index:
    """``(column, id, content_type, extension, deleted_at)``: see migration 0005."""
    carried = [name for name in _SORT_INDEX_CARRIES if name != column]
    if with_path:
        return Index(f"ix_files_sort_{column}_path", column, "id", *carried, "file_path")
    return Index(f"ix_files_sort_{column}", column, "id", *carried)


def _only_on(dialect: str, index: Index) -> Index:
    index.info[ONLY_ON] = dialect  # so neither backend reports the other's as missing
    return index.ddl_if(dialect=dialect)


SHORT_PATH_BYTES = 1_000
"""PostgreSQL: paths up to this many bytes are in the name index that carries the path
(migrations 0008, 0009). With a name of at most 255 characters (1,020 bytes), a type of
100 and an extension of 32 beside it, an entry stays under the ~2.7 kB a B-tree entry may
take (a test stores the longest)."""
_SHORT_PATH = text(f"octet_length(file_path) <= {SHORT_PATH_BYTES}")
_LONG_PATH = text(f"octet_length(file_path) > {SHORT_PATH_BYTES}")


def _name_indexes() -> tuple[Index, ...]:
    """The name order's indexes, per backend (migrations 0007 to 0009).

    On SQLite the index ends with the path, so a walk in name order tests a word on the
    path inside the index, with no table read per entry. PostgreSQL keeps the plain one,
    since its B-tree entries may not pass ~2.7 kB and a path of up to 2,600 bytes (the
    indexer's limit) beside a 255-character name could. Words walk two partial indexes
    there instead: one carrying every path of up to ``SHORT_PATH_BYTES`` (with the type
    and extension, so those filters are tested beside the words), one of the (rare)
    longer paths, which the walk reads from the table (``keyset.short_path_statement``).
    """
    return (
        _only_on("postgresql", _sort_index("filename")),
        _only_on("sqlite", _sort_index("filename", with_path=True)),
        _only_on(
            "postgresql",
            Index(
                "ix_files_name_short_paths",
                "filename",
                "id",
                "deleted_at",
                postgresql_include=["file_path", "content_type", "extension"],
                postgresql_where=_SHORT_PATH,
            ),
        ),
        _only_on(
            "postgresql",
            Index("ix_files_name_long_paths", "filename", "id", postgresql_where=_LONG_PATH),
        ),
    )


class File(Base):
    __tablename__ = "files"
    __table_args__ = (
        CheckConstraint("file_size >= 0", name="file_size_non_negative"),
        Index("ix_files_upload_time_content_type", "upload_time", "content_type"),
        Index("ix_files_hash_value", "hash_value"),
        # Keyset pages (migration 0005): every sort column with the id tie-break, carrying
        # the columns of the common filters so they are checked while the index is walked.
        *(_sort_index(column) for column in SORT_INDEX_COLUMNS if column != "filename"),
        *_name_indexes(),
        # Per-folder counts and sizes of the sidebar, from the index alone (migration 0005).
        Index("ix_files_folder_id_live", "folder_id", "deleted_at", "file_size"),
        # The bin: few rows, found without reading the table (tag counts subtract them).
        Index("ix_files_in_bin", "id", sqlite_where=_IN_BIN, postgresql_where=_IN_BIN),
        # Unhashed files in id order: the first part of the hash sort (repositories/keyset).
        Index(
            "ix_files_unhashed",
            "id",
            "deleted_at",
            sqlite_where=_UNHASHED,
            postgresql_where=_UNHASHED,
        ),
        Index("ix_files_extension", "extension"),
        # A type filter in name order: one ordered range per type, merged (migration 0010).
        # With deleted_at, which its condition names, SQLite reads it as a covering index.
        Index(
            "ix_files_type_name",
            "content_type",
            "filename",
            "id",
            "deleted_at",
            sqlite_where=_LIVE,
            postgresql_where=_LIVE,
        ),
        # Duplicate groups (GROUP BY size, hash over live files) from the index alone.
        Index("ix_files_size_hash", "file_size", "hash_value", "deleted_at"),
        Index("ix_files_owner_id", "owner_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(FastUuid, primary_key=True, default=uuid.uuid4)
    filename: Mapped[str] = mapped_column(String(255))
    """The last part of ``file_path`` (its first 255 characters): always a part of the path,
    which is why a word search looks in the path alone (``repositories.query_sql``)."""
    file_path: Mapped[str] = mapped_column(Text, unique=True)
    raw_path: Mapped[bytes | None] = mapped_column(LargeBinary)
    """Exact bytes of a path that is not valid UTF-8 (see ``domain.paths``)."""
    file_size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    extension: Mapped[str] = mapped_column(String(32), default="")
    upload_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    mtime_ns: Mapped[int] = mapped_column(BigInteger, default=0)
    hash_value: Mapped[str | None] = mapped_column(String(64))
    thumbnail_path: Mapped[str | None] = mapped_column(Text)
    inode: Mapped[int | None] = mapped_column(BigInteger)
    device: Mapped[int | None] = mapped_column(BigInteger)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    folder_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("folders.id", ondelete="CASCADE")
    )
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    folder: Mapped[Folder | None] = relationship(back_populates="files", lazy="raise")
    owner: Mapped[User | None] = relationship(lazy="raise")
    tags: Mapped[list[Tag]] = relationship(secondary="file_tags", lazy="raise", viewonly=True)
    permissions: Mapped[list[Permission]] = relationship(back_populates="file", lazy="raise")


class Permission(Base):
    __tablename__ = "permissions"
    __table_args__ = (
        UniqueConstraint("user_id", "file_id"),
        Index("ix_permissions_file_id", "file_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(FastUuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    file_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"))
    access_type: Mapped[AccessType] = mapped_column(_enum(AccessType, "access_type"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="permissions", lazy="raise")
    file: Mapped[File] = relationship(back_populates="permissions", lazy="raise")


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[uuid.UUID] = mapped_column(FastUuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tags.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Tag | None] = relationship(remote_side=[id], lazy="raise")


class FileTag(Base):
    __tablename__ = "file_tags"
    __table_args__ = (Index("ix_file_tags_tag_id_file_id", "tag_id", "file_id"),)

    file_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("files.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True
    )
    tagged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SavedSearchRow(Base):
    __tablename__ = "saved_searches"

    id: Mapped[uuid.UUID] = mapped_column(FastUuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    query: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
