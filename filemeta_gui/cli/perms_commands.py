"""``filemeta perms grant LOGIN LEVEL PATH... | revoke LOGIN PATH... | show PATH... | show
--user LOGIN``.

A PATH is a file or a folder of the library (a folder means every file under it), given
as on disk; relative paths are taken from the current folder.
"""

from __future__ import annotations

import argparse
import os
import uuid

from filemeta_gui.cli.output import print_json
from filemeta_gui.cli.parser import Commands, UsageError
from filemeta_gui.cli.session import open_services
from filemeta_gui.domain.enums import AccessType
from filemeta_gui.domain.paths import to_stored
from filemeta_gui.services.container import Services

LEVELS = [a.value for a in AccessType]


def add_parser(commands: Commands) -> None:
    perms = commands.add_parser("perms", help="who may read, write or delete which files")
    actions = perms.add_subparsers(title="actions", metavar="ACTION", parser_class=type(perms))
    grant = actions.add_parser("grant", help="give a user a level on files (replaces theirs)")
    grant.add_argument("login")
    grant.add_argument("level", choices=LEVELS)
    grant.add_argument("paths", nargs="+", metavar="PATH")
    grant.set_defaults(handler=grant_access)

    revoke = actions.add_parser("revoke", help="take a user's access to files away")
    revoke.add_argument("login")
    revoke.add_argument("paths", nargs="+", metavar="PATH")
    revoke.set_defaults(handler=revoke_access)

    show = actions.add_parser("show", help="who holds what on files, or what a user holds")
    show.add_argument("paths", nargs="*", metavar="PATH")
    show.add_argument("--user", metavar="LOGIN")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=show_access)


def stored_paths(paths: list[str]) -> list[str]:
    return [to_stored(os.path.abspath(os.path.expanduser(p)))[0] for p in paths]


async def _file_ids(services: Services, paths: list[str]) -> list[uuid.UUID]:
    return [f.id for f in await services.permissions.files_at(stored_paths(paths))]


async def grant_access(args: argparse.Namespace) -> int:
    async with open_services(args) as services:
        ids = await _file_ids(services, args.paths)
        changed = await services.permissions.grant(args.login, AccessType(args.level), ids)
    print(f"{args.login} holds {args.level} on {len(ids)} file(s) ({changed} changed).")
    return 0


async def revoke_access(args: argparse.Namespace) -> int:
    async with open_services(args) as services:
        ids = await _file_ids(services, args.paths)
        removed = await services.permissions.revoke(args.login, ids)
    print(f"{args.login} lost access to {removed} of {len(ids)} file(s).")
    return 0


async def show_access(args: argparse.Namespace) -> int:
    if bool(args.user) == bool(args.paths):
        raise UsageError("filemeta perms show: give PATH... or --user LOGIN (not both)")
    async with open_services(args) as services:
        if args.user:
            return await _show_user(services, args.user, args.json)
        files = await services.permissions.files_at(stored_paths(args.paths))
        held = await services.permissions.for_files([f.id for f in files])
    if args.json:
        print_json(
            {
                "permissions": [
                    {"path": p.file_path, "login": p.login, "level": p.access_type.value}
                    for p in held
                ]
            }
        )
        return 0
    for p in held:
        print(f"{p.access_type.value:<7} {p.login or '-':<24} {p.file_path}")
    if not held:
        print(f"Only admins may use these {len(files)} file(s).")
    return 0


async def _show_user(services: Services, login: str, as_json: bool) -> int:
    access = await services.permissions.access_of_user(login)
    if as_json:
        print_json(
            {
                "login": access.user.login,
                "everything": access.everything,
                "files": [{"path": a.file.file_path, "level": a.level.value} for a in access.files],
            }
        )
    elif access.everything:
        print(f"{login} is an admin: every file, every level.")
    else:
        for item in access.files:
            print(f"{item.level.value:<7} {item.file.file_path}")
        if not access.files:
            print(f"{login} may not use any file yet.")
    return 0
