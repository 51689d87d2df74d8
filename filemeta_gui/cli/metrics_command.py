"""``filemeta metrics``: the Prometheus figures, for a one-off look or a cron scrape.

Without ``--from`` it opens the library, runs the app's usual first queries (the file
count and the first page) and prints what this process measured, which shows how the
database answers right now. ``--from URL`` prints what a running ``filemeta-gui
--metrics-port N`` exposes instead.
"""

from __future__ import annotations

import argparse
import asyncio

from filemeta_gui.cli.parser import Commands
from filemeta_gui.cli.session import open_services
from filemeta_gui.domain.errors import DatabaseUnavailableError
from filemeta_gui.domain.records import PageRequest


def add_parser(commands: Commands) -> None:
    metrics = commands.add_parser("metrics", help="print Prometheus metrics")
    metrics.add_argument(
        "--from", dest="source", metavar="URL", help="read a running app's /metrics endpoint"
    )
    metrics.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    # Imported here, not with the parser: every other command would pay for them.
    from filemeta_gui.services.metrics import render_metrics

    if args.source:
        print(await asyncio.to_thread(_fetch, args.source), end="")
        return 0
    async with open_services(args) as services:
        await services.library.count()
        await services.library.page("", PageRequest())
        print(render_metrics(services.database.monitor), end="")
    return 0


def _fetch(url: str) -> str:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return str(response.read().decode("utf-8"))
    except OSError as error:
        raise DatabaseUnavailableError(f"Cannot read metrics from {url}: {error}") from error
