"""What a folder scan is asked to do, and the snapshots it reports while it runs."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

from filemeta_gui.domain.errors import FileMetaError, ValidationError

DEFAULT_BATCH_SIZE = 5_000


class ScanError(FileMetaError):
    """The folder as a whole cannot be scanned (missing, not a folder, unreadable).

    Problems with single files never raise: they are counted and listed in the progress
    snapshots (``ScanProgress.error_samples``) and the scan goes on.
    """


class ScanPhase(enum.StrEnum):
    """Phases in the order a scan goes through them."""

    STARTING = "starting"
    WALKING = "walking"
    """Listing the folder, writing new and changed rows batch by batch."""
    RESOLVING = "resolving"
    """Matching vanished paths to new ones (moves), soft-deleting the rest."""
    HASHING = "hashing"
    THUMBNAILS = "thumbnails"
    FINISHED = "finished"


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """How to scan a folder.

    ``follow_symlinks`` and ``excludes`` add to what the folder itself was registered with.
    ``batch_size`` is the number of rows written per transaction.
    """

    follow_symlinks: bool = False
    hash_files: bool = True
    excludes: tuple[str, ...] = ()
    batch_size: int = DEFAULT_BATCH_SIZE
    thumbnails: bool = True

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValidationError(f"The batch size must be at least 1, not {self.batch_size}.")
        if isinstance(self.excludes, str):
            # A lone glob passed as a string would otherwise become one glob per character.
            object.__setattr__(self, "excludes", (self.excludes,))


@dataclass(frozen=True, slots=True)
class ScanIssue:
    """One file or folder the scan could not handle, and why, in plain words."""

    path: str
    """Display path (undecodable bytes written ``\\xHH``, see ``domain.paths``)."""
    reason: str


@dataclass(frozen=True, slots=True)
class ScanProgress:
    """A snapshot of a running (or finished) scan; each event is a new object.

    Counts are cumulative since the scan started. ``rate`` is files per second in the
    walking phase and files hashed per second afterwards; ``byte_rate`` is bytes hashed per
    second. ``eta_seconds`` is None while there is nothing to base a guess on.
    """

    folder_id: uuid.UUID
    phase: ScanPhase
    seen: int = 0
    bytes_seen: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    moved: int = 0
    removed: int = 0
    restored: int = 0
    skipped: int = 0
    """Entries deliberately left out: excluded, special files, symlinks not followed."""
    hashed: int = 0
    bytes_hashed: int = 0
    bytes_to_hash: int = 0
    thumbnails: int = 0
    errors: int = 0
    error_samples: tuple[ScanIssue, ...] = ()
    """The most recent problems (at most a few hundred; ``errors`` counts them all)."""
    expected_files: int | None = None
    """Files the folder held at the previous scan, as a guess at the total while walking."""
    rate: float = 0.0
    byte_rate: float = 0.0
    eta_seconds: float | None = None
    elapsed: float = 0.0
    done: bool = False
    cancelled: bool = False

    @property
    def recent_errors(self) -> tuple[ScanIssue, ...]:
        return self.error_samples

    @property
    def files_seen(self) -> int:
        return self.seen

    @property
    def files_total(self) -> int | None:
        return self.expected_files
