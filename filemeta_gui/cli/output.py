"""Formatting for terminals and for scripts (JSON)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

from filemeta_gui.domain.records import FileRecord

_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


def human_bytes(size: float) -> str:
    for unit in _UNITS:
        if abs(size) < 1024 or unit == _UNITS[-1]:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2, default=_default)
    sys.stdout.write("\n")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def file_json(record: FileRecord) -> dict[str, Any]:
    return {
        "id": str(record.id),
        "path": record.file_path,
        "name": record.filename,
        "size": record.file_size,
        "type": record.content_type,
        "modified": record.modified.isoformat(),
        "indexed": record.upload_time.isoformat(),
        "hash": record.hash_value,
        "tags": list(record.tags),
    }


def file_line(record: FileRecord) -> str:
    short = (record.hash_value or "")[:12] or "-" * 12
    modified = record.modified.astimezone().strftime("%Y-%m-%d %H:%M")
    return f"{human_bytes(record.file_size):>10}  {modified}  {short}  {record.file_path}"
