"""Argument parsing for ``filemeta``; each sub-command names its handler."""

from __future__ import annotations

import argparse
from typing import NoReturn, TypeAlias

from filemeta_gui.domain.enums import SortColumn


class UsageError(Exception):
    """A command line that does not parse (exit code 1, not argparse's 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (try '{self.prog} --help')")


# A string: argparse._SubParsersAction is not subscriptable at run time on 3.11.
Commands: TypeAlias = "argparse._SubParsersAction[_Parser]"


def build_parser() -> argparse.ArgumentParser:
    from filemeta_gui.cli import (
        db_commands,
        library_commands,
        metrics_command,
        perms_commands,
        scan_command,
        server_commands,
        users_commands,
        watch_command,
    )

    parser = _Parser(prog="filemeta", description="Index, search, tag and de-duplicate files.")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="library to use (default: $FILEMETA_DATABASE_URL, else the local library)",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)

    scan = commands.add_parser("scan", help="index folders (add them if new)")
    scan.add_argument("paths", nargs="+", metavar="PATH")
    scan.add_argument("--no-hash", action="store_true", help="record metadata only")
    scan.add_argument("--follow-symlinks", action="store_true")
    scan.add_argument("--exclude", action="append", default=[], metavar="GLOB")
    scan.set_defaults(handler=scan_command.run)

    commands.add_parser("folders", help="list indexed folders").set_defaults(
        handler=library_commands.folders
    )

    ls = commands.add_parser("ls", help="list files")
    ls.add_argument("--sort", choices=[c.value for c in SortColumn], default="name")
    ls.add_argument("--desc", action="store_true")
    ls.add_argument("--limit", type=int, default=100)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=library_commands.ls, query="")

    search = commands.add_parser("search", help="search with the query language")
    search.add_argument("query")
    search.add_argument("--sort", choices=[c.value for c in SortColumn], default="name")
    search.add_argument("--desc", action="store_true")
    search.add_argument("--limit", type=int, default=200)
    search.add_argument("--json", action="store_true")
    search.set_defaults(handler=library_commands.ls)

    dupes = commands.add_parser("dupes", help="list groups of identical files")
    dupes.add_argument("--min-size", type=int, default=1, metavar="BYTES")
    dupes.add_argument("--include-empty", action="store_true")
    dupes.add_argument("--json", action="store_true")
    dupes.set_defaults(handler=library_commands.dupes)

    _add_tag_commands(commands)
    db_commands.add_parser(commands)
    metrics_command.add_parser(commands)
    watch_command.add_parser(commands)
    for admin_commands in (server_commands, users_commands, perms_commands):
        admin_commands.add_parser(commands)
    return parser


def _add_tag_commands(commands: Commands) -> None:
    from filemeta_gui.cli import library_commands

    tag = commands.add_parser("tag", help="tag files")
    actions = tag.add_subparsers(title="actions", metavar="ACTION", parser_class=_Parser)
    for name, handler in (
        ("add", library_commands.tag_add),
        ("remove", library_commands.tag_remove),
    ):
        action = actions.add_parser(name, help=f"{name} a tag on files")
        action.add_argument("tag")
        action.add_argument("paths", nargs="+", metavar="PATH")
        action.set_defaults(handler=handler)
    actions.add_parser("list", help="list tags with counts").set_defaults(
        handler=library_commands.tag_list
    )
