"""First pages of several queries at once, as a window and its count ask for them.

    python benchmarks/bench_concurrent_pages.py --db URL --rounds 10

Each round reads, in every order but the name's and both ways, the first pages of a few
words whose walks on PostgreSQL race a read of every match (``repositories/race.py``),
together with a count, all at once (``asyncio.gather``). Prints how many calls failed,
with the first errors, the p50 / p95 of the pages, and the pool's state at the end: no
connection may stay checked out.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS = ("beach", "screenshot", "pdf")
ORDERS = ("size", "type", "modified", "folder")


async def run(url: str, rounds: int) -> int:
    sys.path.insert(0, str(ROOT))
    from filemeta_gui.domain.enums import SortColumn
    from filemeta_gui.domain.records import PageRequest
    from filemeta_gui.services.container import Services

    services = await Services.open(url)
    took: list[float] = []
    errors: list[BaseException] = []

    async def page(word: str, sort: str, descending: bool) -> None:
        started = time.perf_counter()
        try:
            request = PageRequest(sort=SortColumn(sort), descending=descending)
            await services.library.page(word, request)
        except Exception as error:  # counted and shown below: the run goes on
            errors.append(error)
        took.append((time.perf_counter() - started) * 1000)

    try:
        for _ in range(rounds):
            for sort in ORDERS:
                for descending in (False, True):
                    calls = [page(word, sort, descending) for word in WORDS]
                    await asyncio.gather(*calls, services.library.count(WORDS[0]))
        pool = services.database.pool_status()
    finally:
        await services.close()
    for error in errors[:3]:
        traceback.print_exception(error)
    p95 = statistics.quantiles(took, n=20)[-1]
    print(f"pages: {len(took)}, failed: {len(errors)}")
    print(f"page ms, all at once: p50 {statistics.median(took):.1f}  p95 {p95:.1f}")
    print(f"pool at the end: {pool.checked_out} checked out, {pool.checked_in} idle")
    return 1 if errors or pool.checked_out else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="library URL")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    return asyncio.run(run(args.db, args.rounds))


if __name__ == "__main__":
    sys.exit(main())
