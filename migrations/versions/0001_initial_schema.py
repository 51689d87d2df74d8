"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# Addresses and networks: INET on PostgreSQL, validated text elsewhere (db.types.IPAddress).
INET_OR_TEXT = sa.String(49).with_variant(postgresql.INET(), "postgresql")

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "folders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("raw_path", sa.LargeBinary(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_scan_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("follow_symlinks", sa.Boolean(), nullable=False),
        sa.Column("excludes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_folders")),
        sa.UniqueConstraint("path", name=op.f("uq_folders_path")),
    )
    op.create_table(
        "saved_searches",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_searches")),
        sa.UniqueConstraint("name", name=op.f("uq_saved_searches_name")),
    )
    op.create_table(
        "tags",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["tags.id"], name=op.f("fk_tags_parent_id_tags"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("name", name=op.f("uq_tags_name")),
    )
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tags_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("login", sa.String(length=63), nullable=True),
        sa.Column("ip_address", INET_OR_TEXT, nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "guest",
                "admin",
                name="user_role",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("login", name=op.f("uq_users_login")),
    )
    op.create_table(
        "files",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("file_path", sa.Text(), nullable=False),
        sa.Column("raw_path", sa.LargeBinary(), nullable=True),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("extension", sa.String(length=32), nullable=False),
        sa.Column("upload_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("hash_value", sa.String(length=64), nullable=True),
        sa.Column("thumbnail_path", sa.Text(), nullable=True),
        sa.Column("inode", sa.BigInteger(), nullable=True),
        sa.Column("device", sa.BigInteger(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("folder_id", sa.Uuid(), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("file_size >= 0", name=op.f("ck_files_file_size_non_negative")),
        sa.ForeignKeyConstraint(
            ["folder_id"],
            ["folders.id"],
            name=op.f("fk_files_folder_id_folders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_files_owner_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_files")),
        sa.UniqueConstraint("file_path", name=op.f("uq_files_file_path")),
    )
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.create_index("ix_files_content_type_id", ["content_type", "id"], unique=False)
        batch_op.create_index("ix_files_extension", ["extension"], unique=False)
        batch_op.create_index("ix_files_file_size_id", ["file_size", "id"], unique=False)
        batch_op.create_index("ix_files_filename_id", ["filename", "id"], unique=False)
        batch_op.create_index("ix_files_folder_id", ["folder_id"], unique=False)
        batch_op.create_index("ix_files_hash_value", ["hash_value"], unique=False)
        batch_op.create_index("ix_files_mtime_ns_id", ["mtime_ns", "id"], unique=False)
        batch_op.create_index("ix_files_owner_id", ["owner_id"], unique=False)
        batch_op.create_index("ix_files_size_hash", ["file_size", "hash_value"], unique=False)
        batch_op.create_index(
            "ix_files_upload_time_content_type", ["upload_time", "content_type"], unique=False
        )

    op.create_table(
        "file_tags",
        sa.Column("file_id", sa.Uuid(), nullable=False),
        sa.Column("tag_id", sa.Uuid(), nullable=False),
        sa.Column("tagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.id"], name=op.f("fk_file_tags_file_id_files"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_file_tags_tag_id_tags"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("file_id", "tag_id", name=op.f("pk_file_tags")),
    )
    with op.batch_alter_table("file_tags", schema=None) as batch_op:
        batch_op.create_index("ix_file_tags_tag_id_file_id", ["tag_id", "file_id"], unique=False)

    op.create_table(
        "permissions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("file_id", sa.Uuid(), nullable=False),
        sa.Column(
            "access_type",
            sa.Enum(
                "read",
                "write",
                "delete",
                name="access_type",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.id"], name=op.f("fk_permissions_file_id_files"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_permissions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permissions")),
        sa.UniqueConstraint("user_id", "file_id", name=op.f("uq_permissions_user_id_file_id")),
    )
    with op.batch_alter_table("permissions", schema=None) as batch_op:
        batch_op.create_index("ix_permissions_file_id", ["file_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("permissions", schema=None) as batch_op:
        batch_op.drop_index("ix_permissions_file_id")

    op.drop_table("permissions")
    with op.batch_alter_table("file_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_file_tags_tag_id_file_id")

    op.drop_table("file_tags")
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.drop_index("ix_files_upload_time_content_type")
        batch_op.drop_index("ix_files_size_hash")
        batch_op.drop_index("ix_files_owner_id")
        batch_op.drop_index("ix_files_mtime_ns_id")
        batch_op.drop_index("ix_files_hash_value")
        batch_op.drop_index("ix_files_folder_id")
        batch_op.drop_index("ix_files_filename_id")
        batch_op.drop_index("ix_files_file_size_id")
        batch_op.drop_index("ix_files_extension")
        batch_op.drop_index("ix_files_content_type_id")

    op.drop_table("files")
    op.drop_table("users")
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tags_parent_id"))

    op.drop_table("tags")
    op.drop_table("saved_searches")
    op.drop_table("folders")
