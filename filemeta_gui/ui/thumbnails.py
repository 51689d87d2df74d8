"""Thumbnails for the grid, the table and the detail pane, made off the GUI thread.

Pillow decodes and shrinks the image in an executor thread and builds a ``QImage`` there
(QImage is safe off the GUI thread); the ``QPixmap`` is made on the GUI thread only. The
cache is keyed by path and modification time, so an edited file gets a new thumbnail.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap

from filemeta_gui.domain.records import FileRecord
from filemeta_gui.ui.tasks import TaskRegistry

log = logging.getLogger(__name__)

THUMBNAIL_SIZE = 256
MAX_SOURCE_BYTES = 80 * 1024 * 1024
_Key = tuple[str, int]


class ThumbnailCache(QObject):
    """Loads at most ``concurrency`` thumbnails at a time and keeps ``capacity`` of them."""

    ready = Signal(object)
    """Emitted with the ``FileRecord.id`` whose thumbnail just became available."""

    def __init__(
        self,
        tasks: TaskRegistry,
        capacity: int = 600,
        concurrency: int = 4,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._capacity = capacity
        self._pixmaps: OrderedDict[_Key, tuple[QPixmap, QIcon]] = OrderedDict()
        self._pending: set[_Key] = set()
        self._failed: set[_Key] = set()
        self._limit = asyncio.Semaphore(concurrency)

    def get(self, record: FileRecord) -> QPixmap | None:
        """The cached thumbnail, or None while it loads (``ready`` follows) or if none."""
        entry = self._entry(record)
        return entry[0] if entry else None

    def icon(self, record: FileRecord) -> QIcon | None:
        """The thumbnail as an icon (views scale an icon to their icon size, not a pixmap)."""
        entry = self._entry(record)
        return entry[1] if entry else None

    def _entry(self, record: FileRecord) -> tuple[QPixmap, QIcon] | None:
        source = thumbnail_source(record)
        if source is None:
            return None
        key = (source, record.mtime_ns)
        entry = self._pixmaps.get(key)
        if entry is not None:
            self._pixmaps.move_to_end(key)
            return entry
        if key not in self._pending and key not in self._failed:
            self._pending.add(key)
            self._tasks.start(self._load(key, record))
        return None

    def clear(self) -> None:
        self._pixmaps.clear()
        self._failed.clear()

    async def _load(self, key: _Key, record: FileRecord) -> None:
        try:
            async with self._limit:
                loop = asyncio.get_running_loop()
                image = await loop.run_in_executor(None, load_image, key[0], THUMBNAIL_SIZE)
        finally:
            self._pending.discard(key)
        if image is None:
            self._failed.add(key)
            return
        pixmap = QPixmap.fromImage(image)
        self._pixmaps[key] = (pixmap, QIcon(pixmap))
        while len(self._pixmaps) > self._capacity:
            self._pixmaps.popitem(last=False)
        self.ready.emit(record.id)


def thumbnail_source(record: FileRecord) -> str | None:
    """The indexer's thumbnail if there is one, else the image itself when it is small."""
    if record.thumbnail_path:
        return record.thumbnail_path
    if record.content_type.startswith("image/") and record.file_size <= MAX_SOURCE_BYTES:
        return record.os_path
    return None


def load_image(path: str, size: int) -> QImage | None:
    """Decode and shrink ``path`` to fit ``size``×``size`` (runs in a worker thread)."""
    try:
        from PIL import Image, ImageOps

        with Image.open(Path(path)) as source:
            source.draft("RGB", (size, size))  # JPEG: decode at reduced scale, ~10× faster
            picture = ImageOps.exif_transpose(source) or source
            picture.thumbnail((size, size))
            rgba = picture.convert("RGBA")
            data = rgba.tobytes("raw", "RGBA")
            image = QImage(
                data, rgba.width, rgba.height, 4 * rgba.width, QImage.Format.Format_RGBA8888
            )
            return image.copy()  # own the pixels: ``data`` dies with this frame
    except Exception as error:  # unreadable, truncated, unsupported: show the type icon
        log.debug("No thumbnail for %s: %s", path, error)
        return None
