"""Frames between the app and a scan running in a child process (``isolated``, ``child``).

A frame is a little-endian u32 length and a pickle. Pickle, because ``ScanProgress`` and
``ScanOptions`` go over as they are; read with an unpickler that only rebuilds the
domain's records and UUIDs, so a frame can never make either process import or call
anything else. Standard library and ``domain`` only: the child imports this before
anything heavy.

Messages:

* app → child: a :class:`ScanRequest` first, then ``CANCEL`` (closing the pipe means the
  same: the app went away);
* child → app: ``("progress", ScanProgress)`` for each snapshot, then ``("done", None)``,
  or ``("error", ErrorReport)`` when the scan failed.
"""

from __future__ import annotations

import importlib
import io
import pickle
import struct
import uuid
from dataclasses import dataclass
from typing import IO, Any

from filemeta_gui.domain.errors import FileMetaError
from filemeta_gui.domain.scan import ScanError, ScanOptions

_LENGTH = struct.Struct("<I")
MAX_FRAME = 64 << 20
CANCEL = "cancel"
PROGRESS, DONE, ERROR = "progress", "done", "error"
_ALLOWED_MODULES = ("filemeta_gui.domain.", __name__)
_ALLOWED_GLOBALS = {("uuid", "UUID"), ("uuid", "SafeUUID")}


@dataclass(frozen=True, slots=True)
class ScanRequest:
    database_url: str
    """With its password: this travels through the pipe, never the command line."""
    folder_id: uuid.UUID
    options: ScanOptions
    owner_id: uuid.UUID | None

    def __repr__(self) -> str:  # never print the password
        return f"ScanRequest(folder_id={self.folder_id}, options={self.options})"


@dataclass(frozen=True, slots=True)
class ErrorReport:
    """A failure in the child, enough to raise the same domain error in the app."""

    module: str
    name: str
    message: str
    details: str = ""
    """The child's traceback, for errors that are not ``FileMetaError`` (bugs)."""

    @classmethod
    def of(cls, error: BaseException, details: str = "") -> ErrorReport:
        kind = type(error)
        return cls(kind.__module__, kind.__qualname__, str(error), details)

    def rebuild(self) -> FileMetaError:
        """The same ``FileMetaError`` subclass with the same message; ``ScanError`` for
        anything else (a bug in the child), with its traceback as a note."""
        kind = _domain_error_class(self.module, self.name)
        if kind is None:
            error: FileMetaError = ScanError(
                f"The scan stopped on an unexpected error: {self.name}: {self.message}"
            )
        else:
            try:
                error = kind(self.message)
            except TypeError:  # a constructor wanting more than the message
                error = FileMetaError(self.message)
        if self.details:
            error.add_note(f"In the scanning process:\n{self.details}")
        return error


def _domain_error_class(module: str, name: str) -> type[FileMetaError] | None:
    if not module.startswith("filemeta_gui."):
        return None
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    if isinstance(found, type) and issubclass(found, FileMetaError):
        return found
    return None


class _DomainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS or module.startswith(_ALLOWED_MODULES):
            # (``__name__`` is this module: ScanRequest and ErrorReport)
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a scan frame")


def write_frame(stream: IO[bytes], message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> Any:
    """The next message; raises ``EOFError`` when the other side closed the pipe."""
    (length,) = _LENGTH.unpack(_read_exactly(stream, _LENGTH.size))
    if length > MAX_FRAME:
        raise EOFError(f"frame of {length} bytes: the stream is out of step")
    return _DomainUnpickler(io.BytesIO(_read_exactly(stream, length))).load()


def _read_exactly(stream: IO[bytes], count: int) -> bytes:
    """Unbuffered streams may return less than asked: read on until ``count`` or EOF."""
    data = stream.read(count)
    while data is not None and 0 < len(data) < count:
        more = stream.read(count - len(data))
        if not more:
            break
        data += more
    if data is None or len(data) != count:
        raise EOFError
    return data
