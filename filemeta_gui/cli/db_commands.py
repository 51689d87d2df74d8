"""``filemeta db upgrade | downgrade REV | current | history``."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from filemeta_gui.cli.parser import Commands
from filemeta_gui.config import data_dir
from filemeta_gui.db.engine import Database
from filemeta_gui.db.migrate import history, run_command, schema_state, upgrade_on_open
from filemeta_gui.domain.errors import SchemaTooNewError


def add_parser(commands: Commands) -> None:
    db = commands.add_parser("db", help="schema migrations")
    actions = db.add_subparsers(title="actions", metavar="ACTION", parser_class=type(db))
    actions.add_parser("upgrade", help="migrate to the newest schema").set_defaults(handler=upgrade)
    down = actions.add_parser("downgrade", help="migrate back to REV ('base' removes all)")
    down.add_argument("revision", metavar="REV")
    down.set_defaults(handler=downgrade)
    actions.add_parser("current", help="show the schema revision").set_defaults(handler=current)
    actions.add_parser("history", help="list the known revisions").set_defaults(
        handler=show_history
    )


@asynccontextmanager
async def _database(args: argparse.Namespace) -> AsyncIterator[Database]:
    """The library without migrating it: these commands decide what happens to the schema."""
    if not args.db:
        data_dir().mkdir(parents=True, exist_ok=True)
    database = await Database.open(args.db, upgrade=False)
    try:
        yield database
    finally:
        await database.dispose()


async def upgrade(args: argparse.Namespace) -> int:

    async with _database(args) as database:
        state = await upgrade_on_open(database)
    print(f"{database.name} is at schema {state.current} (head).")
    return 0


async def downgrade(args: argparse.Namespace) -> int:
    async with _database(args) as database:
        state = await schema_state(database)
        if not state.known:
            raise SchemaTooNewError(f"Schema {state.current} is newer than this FileMeta knows.")
        await run_command(database, "downgrade", args.revision)
        state = await schema_state(database)
    print(f"{database.name} is at schema {state.current or 'base (empty)'}.")
    return 0


async def current(args: argparse.Namespace) -> int:
    async with _database(args) as database:
        state = await schema_state(database)
    note = (
        "up to date"
        if state.up_to_date
        else ("unknown to this FileMeta" if not state.known else f"head is {state.head}")
    )
    print(f"{state.current or 'none'} ({note})")
    return 0


async def show_history(args: argparse.Namespace) -> int:
    for revision, down, message in history():
        print(f"{down or 'base'} -> {revision}  {message.strip()}")
    return 0
