"""Queries over one ``AsyncSession``: no commits, no domain rules, no Qt.

Services open a unit of work with ``Database.session()``, hand its session to the
repositories they need and turn the ORM rows into domain records with ``convert``.
"""

from filemeta_gui.repositories.base import BaseRepository
from filemeta_gui.repositories.files import FileRepository
from filemeta_gui.repositories.folders import FolderRepository
from filemeta_gui.repositories.permissions import PermissionRepository
from filemeta_gui.repositories.saved_searches import SavedSearchRepository
from filemeta_gui.repositories.tags import TagRepository
from filemeta_gui.repositories.users import UserRepository

__all__ = [
    "BaseRepository",
    "FileRepository",
    "FolderRepository",
    "PermissionRepository",
    "SavedSearchRepository",
    "TagRepository",
    "UserRepository",
]
