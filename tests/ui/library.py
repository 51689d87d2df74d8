"""Sample folders for the UI tests and the screenshot: real files with real content."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, ImageDraw

PICTURES = {
    "beach_sunset.jpg": ((236, 140, 64), (52, 84, 160)),
    "mountain_lake.jpg": ((60, 130, 190), (40, 110, 70)),
    "city_night.png": ((24, 28, 60), (250, 200, 70)),
    "forest_path.jpg": ((44, 110, 60), (190, 170, 110)),
}
TEXTS = {
    "notes/meeting_notes.txt": "Agenda: budget, roadmap, hiring.\n" * 40,
    "notes/todo.md": "# To do\n\n- renew passport\n- book flights\n" * 10,
    "notes/recipes/pancakes.txt": "Flour, eggs, milk, a pinch of salt.\n" * 5,
    "report_2024.pdf": "%PDF-1.4\n% FileMeta test document\n" + "x" * 5000,
    "backup/beach_sunset_copy.jpg": None,  # duplicate of beach_sunset.jpg
    "music/song.mp3": "ID3" + "\0" * 4000,
}


def make_sample_tree(root: Path) -> Path:
    """A small folder of photos, notes and one duplicate; returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for index, (name, (top, bottom)) in enumerate(PICTURES.items()):
        _picture(root / name, top, bottom, index)
    for name, content in TEXTS.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.write_bytes((root / "beach_sunset.jpg").read_bytes())
        else:
            path.write_text(content, encoding="utf-8")
    # distinct, stable modification times for sorting
    for offset, path in enumerate(sorted(p for p in root.rglob("*") if p.is_file())):
        stamp = 1_700_000_000 + offset * 86_400
        os.utime(path, (stamp, stamp))
    return root


def _picture(
    path: Path, top: tuple[int, int, int], bottom: tuple[int, int, int], seed: int
) -> None:
    width, height = 480, 320
    image = Image.new("RGB", (width, height), top)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        mix = y / height
        colour = tuple(int(a + (b - a) * mix) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (width, y)], fill=colour)
    draw.ellipse([60 + seed * 70, 40, 150 + seed * 70, 130], fill=(255, 236, 170))
    image.save(path, quality=85)
