"""The scan's running counts, and the frozen snapshots made from them for each event."""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from filemeta_gui.domain.scan import ScanIssue, ScanPhase, ScanProgress

MAX_ISSUES_KEPT = 500


@dataclass(slots=True)
class ScanCounters:
    """Mutable, touched by the event-loop side of the scan only."""

    folder_id: uuid.UUID
    phase: ScanPhase = ScanPhase.STARTING
    seen: int = 0
    bytes_seen: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    moved: int = 0
    removed: int = 0
    restored: int = 0
    skipped: int = 0
    hashed: int = 0
    bytes_hashed: int = 0
    bytes_to_hash: int = 0
    thumbnails: int = 0
    thumbnails_to_make: int = 0
    errors: int = 0
    expected_files: int | None = None
    issues: deque[ScanIssue] = field(default_factory=lambda: deque(maxlen=MAX_ISSUES_KEPT))
    started: float = field(default_factory=time.monotonic)
    phase_started: float = field(default_factory=time.monotonic)
    live_bytes: Callable[[], int] | None = None
    """Bytes read so far by the hashing threads, partial files included (smooth progress)."""

    def enter(self, phase: ScanPhase) -> None:
        self.phase = phase
        self.phase_started = time.monotonic()

    def report(self, issues: Iterable[ScanIssue]) -> None:
        for issue in issues:
            self.issues.append(issue)
            self.errors += 1

    def issue(self, path: str, reason: str) -> None:
        self.report([ScanIssue(path, reason)])

    def snapshot(self, *, done: bool = False, cancelled: bool = False) -> ScanProgress:
        now = time.monotonic()
        in_phase = max(now - self.phase_started, 1e-9)
        hashed_bytes = self._hashed_bytes()
        rate, byte_rate, eta = self._rates(in_phase, hashed_bytes)
        return ScanProgress(
            folder_id=self.folder_id,
            phase=ScanPhase.FINISHED if done else self.phase,
            seen=self.seen,
            bytes_seen=self.bytes_seen,
            new=self.new,
            changed=self.changed,
            unchanged=self.unchanged,
            moved=self.moved,
            removed=self.removed,
            restored=self.restored,
            skipped=self.skipped,
            hashed=self.hashed,
            bytes_hashed=hashed_bytes,
            bytes_to_hash=self.bytes_to_hash,
            thumbnails=self.thumbnails,
            errors=self.errors,
            error_samples=tuple(self.issues),
            expected_files=self.expected_files,
            rate=rate,
            byte_rate=byte_rate,
            eta_seconds=None if done else eta,
            elapsed=now - self.started,
            done=done,
            cancelled=cancelled,
        )

    def _hashed_bytes(self) -> int:
        if self.phase is ScanPhase.HASHING and self.live_bytes is not None:
            return min(max(self.live_bytes(), self.bytes_hashed), self.bytes_to_hash)
        return self.bytes_hashed

    def _rates(self, in_phase: float, hashed_bytes: int) -> tuple[float, float, float | None]:
        if self.phase is ScanPhase.WALKING:
            rate = self.seen / in_phase
            left = (self.expected_files or 0) - self.seen
            return rate, 0.0, left / rate if left > 0 and rate > 0 else None
        if self.phase is ScanPhase.HASHING:
            byte_rate = hashed_bytes / in_phase
            left_bytes = self.bytes_to_hash - hashed_bytes
            eta = left_bytes / byte_rate if byte_rate > 0 else None
            return self.hashed / in_phase, byte_rate, eta
        if self.phase is ScanPhase.THUMBNAILS:
            rate = self.thumbnails / in_phase
            left = self.thumbnails_to_make - self.thumbnails
            return rate, 0.0, left / rate if left > 0 and rate > 0 else None
        return 0.0, 0.0, None
