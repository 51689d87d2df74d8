"""Where FileMeta keeps its files, and which database it opens by default."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "FileMeta"
ENV_DATABASE_URL = "FILEMETA_DATABASE_URL"
ENV_DATA_DIR = "FILEMETA_DATA_DIR"
ENV_CACHE_DIR = "FILEMETA_CACHE_DIR"


def data_dir() -> Path:
    """Per-user data folder (``FILEMETA_DATA_DIR`` overrides it, e.g. in tests)."""
    override = os.environ.get(ENV_DATA_DIR)
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, False))


def cache_dir() -> Path:
    """Per-user cache folder: thumbnails live here."""
    override = os.environ.get(ENV_CACHE_DIR)
    return Path(override) if override else Path(platformdirs.user_cache_dir(APP_NAME, False))


def default_sqlite_path() -> Path:
    return data_dir() / "library.sqlite3"


def default_database_url() -> str:
    """``FILEMETA_DATABASE_URL`` if set, else the local SQLite library."""
    return os.environ.get(ENV_DATABASE_URL) or f"sqlite:///{default_sqlite_path()}"


def thumbnail_dir() -> Path:
    return cache_dir() / "thumbnails"
