"""First pages of chosen queries, p50/p95 ms, optionally with another checkout's code.

    python benchmarks/bench_queries.py --db URL 'img' 'type:video -beach'
    python benchmarks/bench_queries.py --db URL --call count --call anchors 'img'
    python benchmarks/bench_queries.py --db URL --src /tmp/old 'img'   # A/B: older code

For comparing two versions of the code on one library, alternating runs (the machine is
noisy: compare figures of one session only). ``--src`` imports ``filemeta_gui`` from that
checkout; a library upgraded by newer code refuses to open with older code, so for such an
A/B set the library's ``alembic_version`` back by hand while the older code runs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CALLS = ("page", "count", "anchors")
BLOCK = 200


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="library URL")
    parser.add_argument("--src", type=Path, default=ROOT, help="checkout whose code runs")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sort", default="name", help="a SortColumn value")
    parser.add_argument("--desc", action="store_true")
    parser.add_argument(
        "--call",
        action="append",
        choices=CALLS,
        help="what is timed, repeatable (default page): the first page, the count, or"
        " the anchors of blocks of 200 rows, as the window asks for them",
    )
    parser.add_argument("queries", nargs="+")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    # Imported here, after --src is first on the path, so that checkout's code runs.
    import filemeta_gui
    from filemeta_gui.domain.enums import SortColumn
    from filemeta_gui.services.container import Services
    from filemeta_gui.startup import freeze_startup_objects

    sys.path.append(str(ROOT))  # the timers, from this checkout's benchmarks
    from benchmarks.bench_million import first_page, timed

    print(f"code: {Path(filemeta_gui.__file__).parents[1]}", flush=True)
    services = await Services.open(args.db)
    freeze_startup_objects()  # as the app does: no full collection walks them mid-run
    try:
        width = max(len(query) for query in args.queries) + 2
        sort = SortColumn(args.sort)
        for query in args.queries:
            for what in args.call or ["page"]:
                if what == "page":
                    call = first_page(services, query, sort, args.desc)
                elif what == "count":
                    call = partial(services.library.count, query)
                else:
                    library = services.library
                    call = partial(library.anchors, query, sort, args.desc, BLOCK)
                figures = await timed(call, args.runs)
                result = await call()
                size = len(result.rows) if what == "page" else result
                if what == "anchors":
                    size = len(size)
                print(
                    f"{query!r:{width}} {what:7} {size:7} p50 {figures['p50']:8.1f}"
                    f"  p95 {figures['p95']:8.1f}",
                    flush=True,
                )
    finally:
        await services.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    sys.path.insert(0, str(args.src.resolve()))
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
