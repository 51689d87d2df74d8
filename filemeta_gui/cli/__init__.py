"""The ``filemeta`` command line: the same services as the app, for scripts and terminals.

Exit codes: 0 done (per-file problems are reported, not fatal), 1 usage error,
2 failure, with a one-line message on stderr; 141 when the reader of the output went
away (``filemeta ls | head``), as for a C tool stopped by SIGPIPE.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence

from filemeta_gui.cli.parser import UsageError, build_parser
from filemeta_gui.domain.errors import FileMetaError

EXIT_OK, EXIT_USAGE, EXIT_FAILURE = 0, 1, 2
EXIT_PIPE_CLOSED = 141  # 128 + SIGPIPE, what a shell reports for `yes | head`


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
    except BrokenPipeError:
        # Python ignores SIGPIPE (so that a dead server's socket raises, not kills), so
        # a closed stdout raises here. Nothing more can be said to the reader: point
        # stdout at /dev/null so the flush at exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE_CLOSED
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
