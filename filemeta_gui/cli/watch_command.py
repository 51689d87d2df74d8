"""``filemeta watch [--json] [--count N]``: one line per change another client commits.

For people who script around a shared library (refresh a report, sync an export): each
change the server announces is printed on stdout as soon as it arrives, either as
``KIND OP ids... by WHO`` or as one JSON object per line. Connection trouble goes to
stderr (``reconnecting…``, ``connected again``) and never ends the command: like the
app, it waits for the server to come back. Ctrl+C stops it (exit code 130).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from filemeta_gui.cli.parser import Commands
from filemeta_gui.cli.session import open_services
from filemeta_gui.domain.changes import ChangeEvent, ConnectionState, StatusEvent


def add_parser(commands: Commands) -> None:
    watch = commands.add_parser("watch", help="print changes made by other clients as they happen")
    watch.add_argument("--json", action="store_true", help="one JSON object per line")
    watch.add_argument(
        "--count", type=int, default=0, metavar="N", help="stop after N changes (0: never)"
    )
    watch.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    # Imported here: the change feed brings asyncpg, which every other command would pay
    # for at start-up (the parser imports each command's module).
    from filemeta_gui.services.changes import ChangeFeed

    async with open_services(args) as services:
        printed = 0
        async for event in ChangeFeed(services.database, services.policy):
            if isinstance(event, StatusEvent):
                _status(event, services.database.name, sys.stderr)
                continue
            line = json.dumps(event_json(event)) if args.json else event_line(event)
            # Flushed per line: a script reading our stdout through a pipe sees each
            # change at once, not when a 4 kB buffer fills up.
            print(line, flush=True)
            printed += 1
            if args.count and printed >= args.count:
                break
    return 0


def event_json(event: ChangeEvent) -> dict[str, Any]:
    return {
        "kind": event.kind.value,
        "op": event.op.value,
        "ids": [str(i) for i in event.ids],
        "count": event.count,
        "many": event.many,
        "who": event.who,
    }


def event_line(event: ChangeEvent) -> str:
    if event.is_everything:
        return "library changed (by another program)"
    ids = f"{event.count} rows" if event.many else " ".join(str(i) for i in event.ids) or "-"
    who = f" by {event.who}" if event.who else ""
    return f"{event.kind.value} {event.op.value} {ids}{who}"


def _status(event: StatusEvent, name: str, stream: TextIO) -> None:
    if event.state is ConnectionState.CONNECTED:
        text = f"watching {name} for changes (Ctrl+C to stop)"
    elif event.state is ConnectionState.RECONNECTED:
        text = "connected again (changes made meanwhile were not seen)"
    else:
        text = event.message
    stream.write(f"filemeta: {text}\n")
    stream.flush()
