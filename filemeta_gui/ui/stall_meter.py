"""Measures how long the event loop stalls: a fast timer records how late it fires.

A Qt timer asked to fire every ``interval_ms`` fires late by exactly as long as the GUI
thread was busy with something else (a slow slot, a blocking query, a long layout). The
longest lateness while scanning is the figure DESIGN.md caps at ~50 ms.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections import Counter
from types import FrameType

from PySide6.QtCore import QObject, QTimer


class StallMeter(QObject):
    """Records timer lateness while running; read :attr:`max_stall_ms` afterwards."""

    def __init__(
        self,
        interval_ms: int = 5,
        parent: QObject | None = None,
        *,
        trace_over_ms: float | None = None,
    ) -> None:
        """
        Args:
            trace_over_ms: also watch from a thread and keep the GUI thread's stack of each
                stall longer than this (a diagnostic: :attr:`traces` says *what* blocked).
        """
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.trace_over_ms = trace_over_ms
        self.traces: list[str] = []
        self._watchdog: threading.Thread | None = None
        self._stop = threading.Event()
        self._gui_thread = threading.get_ident()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last: float | None = None
        self.samples: list[float] = []

    def start(self) -> None:
        self.samples.clear()
        self.traces.clear()
        self._last = time.perf_counter()
        self._gui_thread = threading.get_ident()
        self._timer.start()
        if self.trace_over_ms is not None:
            self._stop.clear()
            self._watchdog = threading.Thread(target=self._watch, daemon=True)
            self._watchdog.start()

    def stop(self) -> None:
        self._timer.stop()
        self._last = None
        self._stop.set()
        if self._watchdog is not None:
            self._watchdog.join()
            self._watchdog = None

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    @property
    def max_stall_ms(self) -> float:
        return max(self.samples, default=0.0)

    def percentile(self, fraction: float) -> float:
        """Lateness below which ``fraction`` (0..1) of the ticks fell, in ms."""
        if not self.samples:
            return 0.0
        ordered = sorted(self.samples)
        index = min(int(fraction * len(ordered)), len(ordered) - 1)
        return ordered[index]

    def stalls_over(self, threshold_ms: float) -> int:
        return sum(1 for sample in self.samples if sample > threshold_ms)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            lateness = (now - self._last) * 1000.0 - self.interval_ms
            self.samples.append(max(lateness, 0.0))
        self._last = now

    def _watch(self) -> None:
        """Thread: while the GUI thread has not ticked for a while, sample where it is
        every 2 ms; a stall longer than ``trace_over_ms`` keeps a summary of its samples
        (one stack says where the thread was at one moment, not what took the time).
        Sampling takes the interpreter lock, which the GUI thread may be waiting for: read
        the traces for *where*, and the figures of a run without them for *how long*."""
        assert self.trace_over_ms is not None
        samples: Counter[str] = Counter()
        stalled_since: float | None = None
        while not self._stop.wait(0.002):
            last = self._last
            if last is None:
                continue
            late = time.perf_counter() - last
            if last != stalled_since and samples:  # the stall ended with a tick
                self._keep(samples, stalled_since)
                samples = Counter()
            if late * 1000.0 < self.interval_ms * 2:
                continue
            stalled_since = last
            frame = sys._current_frames().get(self._gui_thread)
            if frame is not None:
                samples[_where(frame)] += 1

    def _keep(self, samples: Counter[str], since: float | None) -> None:
        ended = self._last or time.perf_counter()
        length_ms = (ended - (since or ended)) * 1000.0
        assert self.trace_over_ms is not None
        if length_ms < self.trace_over_ms:
            return
        lines = [f"{count * 2:>4} ms  {where}" for where, count in samples.most_common(8)]
        self.traces.append(f"stall of {length_ms:.0f} ms, sampled every 2 ms:\n" + "\n".join(lines))


def _where(frame: FrameType) -> str:
    """The innermost frames of the app and the one frame below them: what the GUI
    thread was doing, at a glance (the event loop's own frames say nothing)."""
    stack = traceback.extract_stack(frame)
    ours = [entry for entry in stack if "filemeta_gui" in entry.filename]
    chosen = (ours[-3:] if ours else []) + ([stack[-1]] if stack[-1] not in ours else [])
    return " < ".join(
        f"{entry.name} ({entry.filename.rsplit('/', 2)[-1]}:{entry.lineno})"
        for entry in reversed(chosen)
    )
