"""What every long-lived FileMeta process does once it is up (no Qt here: the command
line and the benchmarks share it with the app)."""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Exempt what start-up made (modules, Qt wrappers, SQL caches) from the collector.

    They live as long as the process, yet every full collection walked them all: on the
    GUI thread, 100-200 ms pauses while scrolling a 1M-file library (bench_gui_million.py).
    Frozen, a full collection walks only what was made since.
    """
    gc.collect()
    gc.freeze()
