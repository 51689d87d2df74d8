"""Thumbnails of images, at most 256 px, cached by content hash.

The cache file is named after the SHA-256 of the image, so every copy of a picture shares
one thumbnail and an edited picture (new hash) gets a new one. Images without alpha are
stored as JPEG, images with alpha as WebP. Files are written under a temporary name and
renamed, so a crash or a second scanner never leaves half a thumbnail behind.

``Image.thumbnail`` asks JPEG decoders for a reduced-size draft first (8× fewer pixels to
decode at 1/8 scale). Anything larger than ``Image.MAX_IMAGE_PIXELS`` is refused before a
pixel is decoded: a small file can declare a gigapixel canvas (a decompression bomb).
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from filemeta_gui.services.indexer.walker import os_reason

THUMBNAIL_PX = 256
JPEG_QUALITY = 85
WEBP_QUALITY = 80
IMAGE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff"}
)
_SUFFIXES = (".jpg", ".webp")


class ThumbnailError(Exception):
    """This image cannot be previewed (corrupt, truncated, too large)."""


class ThumbnailCacheError(Exception):
    """The thumbnail cache folder cannot be written (read-only, full, not a folder)."""


@dataclass(frozen=True, slots=True)
class ThumbnailJob:
    key: Any
    path: str
    digest: str


@dataclass(frozen=True, slots=True)
class ThumbnailResult:
    key: Any
    path: str
    thumbnail: str | None
    error: str | None = None
    cache_failed: bool = False


def cached_thumbnail(cache_dir: Path, digest: str) -> Path | None:
    for suffix in _SUFFIXES:
        candidate = cache_dir / digest[:2] / f"{digest}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def make_thumbnail(source: str, digest: str, cache_dir: Path) -> str:
    """Path of the thumbnail of ``source`` (made now unless a copy already made it).

    Raises:
        ThumbnailError: the image cannot be read or is too large.
        ThumbnailCacheError: the cache folder cannot be written.
    """
    existing = cached_thumbnail(cache_dir, digest)
    if existing is not None:
        return str(existing)
    return str(_store(_render(source), digest, cache_dir))


def _render(source: str) -> Image.Image:
    try:
        with Image.open(source) as image:
            width, height = image.size
            limit = Image.MAX_IMAGE_PIXELS
            if limit is not None and width * height > limit:
                raise ThumbnailError(f"too large to preview ({width}×{height} pixels)")
            image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
            # Orientation from EXIF, applied to the small image: cheap, and photos from
            # phones otherwise show up sideways.
            small = ImageOps.exif_transpose(image)
            return _displayable(small)
    except ThumbnailError:
        raise
    except Image.DecompressionBombError as error:
        raise ThumbnailError(f"too large to preview ({error})") from error
    except UnidentifiedImageError as error:
        raise ThumbnailError("not an image Pillow can read") from error
    except FileNotFoundError as error:
        raise ThumbnailError("vanished before its thumbnail was made") from error
    except Exception as error:  # decoders raise OSError, ValueError, struct.error, …
        raise ThumbnailError(f"corrupt or unsupported image: {error}") from error


def _displayable(image: Image.Image) -> Image.Image:
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    return image.convert("RGBA" if has_alpha else "RGB")


def _store(image: Image.Image, digest: str, cache_dir: Path) -> Path:
    folder = cache_dir / digest[:2]
    alpha = image.mode == "RGBA"
    target = folder / f"{digest}{'.webp' if alpha else '.jpg'}"
    temporary = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".part")
        with os.fdopen(fd, "wb") as out:
            if alpha:
                image.save(out, format="WEBP", quality=WEBP_QUALITY)
            else:
                image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        os.replace(temporary, target)
    except OSError as error:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        raise ThumbnailCacheError(
            f"cannot write thumbnails to {cache_dir}: {os_reason(error)}"
        ) from error
    return target


def make_thumbnails(
    jobs: list[ThumbnailJob], cache_dir: Path, stop: threading.Event
) -> list[ThumbnailResult]:
    """One pack, in a worker thread. Stops early once the cache cannot be written."""
    results = []
    for job in jobs:
        if stop.is_set():
            break
        try:
            made = make_thumbnail(job.path, job.digest, cache_dir)
        except ThumbnailError as error:
            results.append(ThumbnailResult(job.key, job.path, None, f"no thumbnail: {error}"))
        except ThumbnailCacheError as error:
            results.append(ThumbnailResult(job.key, job.path, None, str(error), True))
            break
        else:
            results.append(ThumbnailResult(job.key, job.path, made))
    return results
