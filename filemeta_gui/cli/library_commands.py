"""``folders``, ``ls``/``search``, ``dupes`` and ``tag``."""

from __future__ import annotations

import argparse
import os
import uuid

from filemeta_gui.cli.output import file_json, file_line, human_bytes, print_json
from filemeta_gui.cli.session import open_services
from filemeta_gui.domain.enums import SortColumn
from filemeta_gui.domain.errors import NotFoundError
from filemeta_gui.domain.paths import to_stored
from filemeta_gui.domain.records import FileRecord, PageRequest
from filemeta_gui.services.container import Services

PAGE = 500


async def folders(args: argparse.Namespace) -> int:
    async with open_services(args) as services:
        for folder in await services.folders.list():
            scanned = (
                folder.last_scan_at.astimezone().strftime("%Y-%m-%d %H:%M")
                if folder.last_scan_at
                else "never"
            )
            size = human_bytes(folder.total_bytes)
            print(f"{folder.file_count:>9} files  {size:>10}  scanned {scanned}  {folder.path}")
    return 0


async def ls(args: argparse.Namespace) -> int:
    async with open_services(args) as services:
        records = await _collect(services, args.query, SortColumn(args.sort), args.desc, args.limit)
    if args.json:
        print_json({"files": [file_json(r) for r in records]})
    else:
        for record in records:
            print(file_line(record))
    return 0


async def _collect(
    services: Services, query: str, sort: SortColumn, desc: bool, limit: int
) -> list[FileRecord]:
    records: list[FileRecord] = []
    after = None
    while len(records) < limit:
        request = PageRequest(
            sort=sort, descending=desc, limit=min(PAGE, limit - len(records)), after=after
        )
        page = await services.library.page(query, request)
        records.extend(page.rows)
        if page.next_after is None:
            break
        after = page.next_after
    return records


async def dupes(args: argparse.Namespace) -> int:
    async with open_services(args) as services:
        groups = await services.duplicates.groups(args.min_size, args.include_empty)
    if args.json:
        listed = [
            {
                "hash": g.hash_value,
                "size": g.size,
                "paths": sorted(c.file.file_path for c in g.copies),
            }
            for g in groups
        ]
        print_json({"groups": sorted(listed, key=lambda g: g["hash"])})
        return 0
    for group in groups:
        size, freed = human_bytes(group.size), human_bytes(group.reclaimable)
        print(f"{group.count} copies of {size}, {freed} reclaimable  {group.hash_value[:16]}")
        for copy in group.copies:
            mark = "  (hard link)" if copy.hard_link else ""
            print(f"    {copy.file.file_path}{mark}")
    total = sum(g.reclaimable for g in groups)
    noun = "group" if len(groups) == 1 else "groups"
    print(f"{len(groups)} {noun}, {human_bytes(total)} reclaimable")
    return 0


async def tag_add(args: argparse.Namespace) -> int:
    async with open_services(args) as services:
        ids = await _file_ids(services, args.paths)
        added = await services.tags.attach([args.tag], ids)
    print(f"Tagged {added} file(s) with {args.tag!r} ({len(ids) - added} already had it).")
    return 0


async def tag_remove(args: argparse.Namespace) -> int:
    async with open_services(args) as services:
        ids = await _file_ids(services, args.paths)
        removed = await services.tags.detach([args.tag], ids)
    print(f"Removed {args.tag!r} from {removed} file(s).")
    return 0


async def tag_list(args: argparse.Namespace) -> int:
    async with open_services(args) as services:
        for tag in await services.tags.list():
            print(f"{tag.file_count:>8}  {tag.name}")
    return 0


async def _file_ids(services: Services, paths: list[str]) -> list[uuid.UUID]:
    wanted = [to_stored(os.path.abspath(p))[0] for p in paths]
    found = await services.library.find_by_paths(wanted)
    missing = [p for p in wanted if p not in found]
    if missing:
        raise NotFoundError(f"Not in the library (scan it first): {', '.join(missing[:3])}")
    return [found[p].id for p in wanted]
