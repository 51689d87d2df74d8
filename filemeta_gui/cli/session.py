"""Opening the library for one command, and closing it on the same event loop."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from filemeta_gui.config import data_dir
from filemeta_gui.services.container import Services


@asynccontextmanager
async def open_services(args: argparse.Namespace) -> AsyncIterator[Services]:
    if not args.db:
        # The default local library lives in the user data folder: create it on first use.
        data_dir().mkdir(parents=True, exist_ok=True)
    services = await Services.open(args.db)
    try:
        yield services
    finally:
        await services.close()
