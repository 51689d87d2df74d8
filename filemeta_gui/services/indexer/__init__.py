"""Indexing folders: walk, diff against the library, hash, thumbnail (no Qt).

``scan_folder(database, folder_id, options)`` is the entry point; see ``scanner``.
"""

from filemeta_gui.services.indexer.scanner import FolderScanner, scan_folder

__all__ = ["FolderScanner", "scan_folder"]
