"""Icons and the stylesheet from ``resources/``, with Qt's standard icons as a fallback.

File-type icons are painted here (a page with a coloured band and a short label), so
the table looks the same on every platform and theme.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QApplication, QStyle

RESOURCES_DIR = Path(__file__).resolve().parents[2] / "resources"
ICONS_DIR = RESOURCES_DIR / "icons"
STYLESHEET = RESOURCES_DIR / "style.qss"

_FALLBACKS: dict[str, QStyle.StandardPixmap] = {
    "folder-add": QStyle.StandardPixmap.SP_FileDialogNewFolder,
    "folder": QStyle.StandardPixmap.SP_DirIcon,
    "refresh": QStyle.StandardPixmap.SP_BrowserReload,
    "remove": QStyle.StandardPixmap.SP_TrashIcon,
    "search": QStyle.StandardPixmap.SP_FileDialogContentsView,
    "tag": QStyle.StandardPixmap.SP_FileDialogInfoView,
    "view-list": QStyle.StandardPixmap.SP_FileDialogDetailedView,
    "view-grid": QStyle.StandardPixmap.SP_FileDialogListView,
    "duplicates": QStyle.StandardPixmap.SP_FileLinkIcon,
    "database": QStyle.StandardPixmap.SP_DriveHDIcon,
    "details": QStyle.StandardPixmap.SP_FileDialogInfoView,
    "library": QStyle.StandardPixmap.SP_DirHomeIcon,
    "bookmark": QStyle.StandardPixmap.SP_DialogSaveButton,
    "open": QStyle.StandardPixmap.SP_DialogOpenButton,
    "copy": QStyle.StandardPixmap.SP_FileIcon,
    "cancel": QStyle.StandardPixmap.SP_DialogCancelButton,
    "connect": QStyle.StandardPixmap.SP_DriveNetIcon,
    "app": QStyle.StandardPixmap.SP_DirIcon,
}

# (label, band colour) per family of content types
_TYPE_STYLES: dict[str, tuple[str, str]] = {
    "image": ("IMG", "#2f9e6e"),
    "video": ("VID", "#c2410c"),
    "audio": ("AUD", "#7a4cc2"),
    "text": ("TXT", "#52627a"),
    "pdf": ("PDF", "#d92d20"),
    "archive": ("ZIP", "#a16207"),
    "code": ("</>", "#2f6fde"),
    "document": ("DOC", "#2563eb"),
    "other": ("", "#8a94a6"),
}
_ARCHIVES = ("zip", "x-tar", "gzip", "x-7z", "x-rar", "x-bzip", "x-xz", "zstd")
_CODE = ("json", "xml", "javascript", "x-python", "x-sh", "x-yaml", "toml", "sql")
_DOCUMENTS = ("msword", "officedocument", "opendocument", "rtf", "epub")


@cache
def icon(name: str) -> QIcon:
    """The icon ``resources/icons/<name>.svg``, or Qt's closest standard icon."""
    path = ICONS_DIR / f"{name}.svg"
    if path.is_file():
        result = QIcon(str(path))
        if not result.isNull():
            return result
    style = QApplication.style()
    return style.standardIcon(_FALLBACKS.get(name, QStyle.StandardPixmap.SP_FileIcon))


def stylesheet() -> str:
    """The application stylesheet, or an empty one when ``resources/`` is missing."""
    try:
        return STYLESHEET.read_text(encoding="utf-8")
    except OSError:
        return ""


def type_family(content_type: str) -> str:
    """``"image/png"`` → ``"image"``; families match :data:`_TYPE_STYLES`."""
    major, _, minor = (content_type or "").partition("/")
    if major in ("image", "video", "audio"):
        return major
    if minor == "pdf":
        return "pdf"
    if any(key in minor for key in _ARCHIVES):
        return "archive"
    if any(key in minor for key in _CODE):
        return "code"
    if any(key in minor for key in _DOCUMENTS):
        return "document"
    return "text" if major == "text" else "other"


@cache
def type_icon(family: str) -> QIcon:
    """A painted file icon for a content-type family, crisp at 16 to 128 pixels."""
    label, colour = _TYPE_STYLES.get(family, _TYPE_STYLES["other"])
    result = QIcon()
    for size in (16, 24, 32, 48, 64, 128):
        result.addPixmap(_paint_page(size, label, QColor(colour)))
    return result


def _paint_page(size: int, label: str, colour: QColor) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    unit = size / 16.0
    page = QRectF(2.5 * unit, 0.75 * unit, 11 * unit, 14.5 * unit)
    fold = 3.5 * unit
    path = QPainterPath()
    path.moveTo(page.left(), page.top())
    path.lineTo(page.right() - fold, page.top())
    path.lineTo(page.right(), page.top() + fold)
    path.lineTo(page.right(), page.bottom())
    path.lineTo(page.left(), page.bottom())
    path.closeSubpath()
    painter.setPen(QPen(QColor("#9aa4b2"), max(1.0, unit * 0.7)))
    painter.setBrush(QColor("#ffffff"))
    painter.drawPath(path)
    band = QRectF(page.left(), page.bottom() - 6 * unit, page.width(), 6 * unit)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    painter.drawRect(band.adjusted(0.5, 0, -0.5, -0.5))
    if label and size >= 24:
        font = QFont()
        font.setBold(True)
        font.setPixelSize(max(6, int(4.2 * unit)))
        painter.setFont(font)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(band, Qt.AlignmentFlag.AlignCenter, label)
    painter.end()
    return pixmap
