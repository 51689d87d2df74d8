"""The ``filemeta`` command line: the same services as the app, for scripts and terminals.

Exit codes: 0 done (per-file problems are reported, not fatal), 1 usage error,
2 failure, with a one-line message on stderr.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from filemeta_gui.cli.parser import UsageError, build_parser
from filemeta_gui.domain.errors import FileMetaError

EXIT_OK, EXIT_USAGE, EXIT_FAILURE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as error:
        print(f"filemeta: {error}", file=sys.stderr)
        return EXIT_USAGE
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(asyncio.run(args.handler(args)) or EXIT_OK)
    except KeyboardInterrupt:
        print("filemeta: interrupted", file=sys.stderr)
        return 130
    except FileMetaError as error:
        print(f"filemeta: {_one_line(error)}", file=sys.stderr)
        return EXIT_FAILURE
    except UsageError as error:
        print(f"filemeta: {error}", file=sys.stderr)
        return EXIT_USAGE


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def run() -> None:  # pragma: no cover - console script shim
    sys.exit(main())
