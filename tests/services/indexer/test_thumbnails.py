"""Thumbnails made by a scan: formats, sharing between copies, bad images, bad cache."""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path
from typing import Any

from PIL import Image

from filemeta_gui import config
from filemeta_gui.db.engine import Database
from filemeta_gui.domain.scan import ScanOptions
from tests.services.indexer.conftest import register, rows, run_scan, scan_path, write


def picture(path: Path, size: tuple[int, int] = (800, 600), mode: str = "RGB", **save: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    colour = (200, 30, 30, 128) if mode == "RGBA" else (20, 120, 200)
    Image.new(mode, size, colour[: len(mode)]).save(path, **save)
    return path


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb(path: Path) -> Path:
    """A valid PNG header announcing 100,000 × 100,000 pixels, in 57 bytes."""
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IEND", b"")
    return write(path, data)


async def test_images_get_small_thumbnails_in_the_cache(database: Database, tmp_path: Path) -> None:
    root = tmp_path / "pictures"
    sources = [
        picture(root / "photo.jpg"),
        picture(root / "drawing.png", mode="RGBA"),
        picture(root / "anim.gif", mode="P"),
        picture(root / "old.bmp"),
        picture(root / "scan.tiff"),
        picture(root / "modern.webp"),
    ]

    run = await scan_path(database, root)

    found = await rows(database)
    cache = config.thumbnail_dir()
    for source in sources:
        row = found[str(source)]
        assert row.thumbnail_path is not None, source
        thumbnail = Path(row.thumbnail_path)
        assert thumbnail.parent.parent == cache
        assert thumbnail.stem == row.hash_value
        with Image.open(thumbnail) as made:
            assert max(made.size) == 256
            assert made.format == ("WEBP" if source.name == "drawing.png" else "JPEG")
    assert run.last.thumbnails == len(sources) and run.last.errors == 0


async def test_copies_share_one_thumbnail_and_rescans_make_none(
    database: Database, tmp_path: Path
) -> None:
    root = tmp_path / "copies"
    first = picture(root / "one.jpg")
    shutil.copyfile(first, root / "two.jpg")
    folder_id = await register(database, root)

    await run_scan(database, folder_id)
    again = await run_scan(database, folder_id)

    found = await rows(database)
    paths = {found[str(root / name)].thumbnail_path for name in ("one.jpg", "two.jpg")}
    assert len(paths) == 1 and None not in paths
    assert len(list(config.thumbnail_dir().rglob("*.jpg"))) == 1
    assert again.last.thumbnails == 0


async def test_exif_orientation_is_applied(database: Database, tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    source = picture(tmp_path / "phone" / "portrait.jpg", size=(600, 300), exif=exif)

    await scan_path(database, source.parent)

    row = (await rows(database))[str(source)]
    assert row.thumbnail_path is not None
    with Image.open(row.thumbnail_path) as made:
        assert made.size == (128, 256)


async def test_corrupt_and_huge_images_get_an_error_not_a_crash(
    database: Database, tmp_path: Path
) -> None:
    root = tmp_path / "broken"
    good = picture(root / "good.jpg")
    garbage = write(root / "garbage.jpg", b"\xff\xd8\xff\xe0" + b"\x13" * 500)
    truncated = write(root / "truncated.png", picture(root / "tmp.png").read_bytes()[:120])
    (root / "tmp.png").unlink()
    huge = bomb(root / "huge.png")

    run = await scan_path(database, root)

    found = await rows(database)
    assert found[str(good)].thumbnail_path is not None
    problems = {issue.path: issue.reason for issue in run.last.error_samples}
    for bad in (garbage, truncated, huge):
        assert found[str(bad)].thumbnail_path is None
        assert found[str(bad)].hash_value is not None  # still indexed and hashed
        assert problems[str(bad)].startswith("no thumbnail")
    assert "too large" in problems[str(huge)]
    assert run.last.done and run.last.errors == 3


async def test_unwritable_cache_is_reported_once(database: Database, tmp_path: Path) -> None:
    root = tmp_path / "album"
    for index in range(5):
        picture(root / f"p{index}.png", size=(300 + index, 300))
    blocked = config.thumbnail_dir()
    blocked.parent.mkdir(parents=True, exist_ok=True)
    blocked.write_text("a file where the cache folder should be")

    run = await scan_path(database, root)

    assert run.last.done and run.last.errors == 1
    assert "cannot write thumbnails" in run.last.error_samples[0].reason
    found = await rows(database)
    assert all(row.thumbnail_path is None and row.hash_value for row in found.values())


async def test_no_thumbnails_when_not_asked(database: Database, tmp_path: Path) -> None:
    source = picture(tmp_path / "quiet" / "photo.jpg")
    await scan_path(database, source.parent, ScanOptions(thumbnails=False))
    assert (await rows(database))[str(source)].thumbnail_path is None
    assert not config.thumbnail_dir().exists()
