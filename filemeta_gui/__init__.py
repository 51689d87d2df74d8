"""FileMeta: a desktop file-metadata manager."""

__version__ = "0.1.0"
