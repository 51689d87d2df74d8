"""Where the window keeps its settings: an INI file in FileMeta's data folder.

``configure()`` points every default-constructed ``QSettings`` at that file, so the window
state, recent connections and anything else stay beside the library, and tests (which
set ``FILEMETA_DATA_DIR``) never touch the real user's settings.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QSettings

from filemeta_gui import config

ORGANIZATION = "FileMeta"
APPLICATION = "FileMeta"

GEOMETRY = "window/geometry"
STATE = "window/state"
SPLITTER = "window/splitter"
HEADER = "window/header"
VIEW_MODE = "window/view"
DETAILS_VISIBLE = "window/details"


def configure() -> None:
    """Application identity and the INI location for every ``QSettings()``."""
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(config.data_dir() / "settings")
    )


def app_settings() -> QSettings:
    configure()
    return QSettings()
