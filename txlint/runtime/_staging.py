"""Files that appear if and only if the transaction commits.

The data is written at once (so a full disk fails inside the transaction) to an unnamed file in
the target's directory (Linux O_TMPFILE; elsewhere a hidden temporary name), and given its name
with an atomic rename only after the commit. A crash before that leaves no file behind.
"""

import ctypes
import os
import tempfile
from pathlib import Path

from txlint.runtime._transaction import current_transaction

_TEMPORARY_PREFIX = ".txlint-staged-"


class StagedFile:
    def __init__(self, target: Path, descriptor: int, temporary: str):
        self.target = target
        self.descriptor = descriptor  # open unnamed file (O_TMPFILE), or -1
        self.temporary = temporary  # named temporary file, or ""

    @classmethod
    def write(cls, path, data) -> "StagedFile":
        target = Path(path)
        payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        directory = str(target.parent) or "."
        descriptor, temporary = _open_unnamed(directory)
        try:
            view = memoryview(payload)
            while view:
                written = os.write(descriptor, view)
                view = view[written:]
            os.fsync(descriptor)
        except BaseException:
            os.close(descriptor)
            if temporary:
                _unlink(temporary)
            raise
        if temporary:
            os.close(descriptor)
            descriptor = -1
        return cls(target, descriptor, temporary)

    def publish(self) -> None:
        """Move the data into place (after the commit)."""
        if self.descriptor >= 0:
            try:
                self.temporary = _name_unnamed(self.descriptor, str(self.target.parent) or ".")
            finally:
                os.close(self.descriptor)
                self.descriptor = -1
        os.replace(self.temporary, self.target)
        self.temporary = ""

    def discard(self) -> None:
        """Forget the data (after a rollback); a file already at the target is left untouched."""
        if self.descriptor >= 0:
            os.close(self.descriptor)
            self.descriptor = -1
        if self.temporary:
            _unlink(self.temporary)
            self.temporary = ""


def _open_unnamed(directory: str):
    tmpfile_flag = getattr(os, "O_TMPFILE", 0)
    if tmpfile_flag and os.path.isdir("/proc/self/fd"):
        try:
            return os.open(directory, tmpfile_flag | os.O_RDWR, 0o644), ""
        except OSError:
            pass  # a file system without O_TMPFILE support
    descriptor, temporary = tempfile.mkstemp(prefix=_TEMPORARY_PREFIX, dir=directory)
    os.fchmod(descriptor, 0o644)
    return descriptor, temporary


_AT_FDCWD = -100
_AT_SYMLINK_FOLLOW = 0x400


def _name_unnamed(descriptor: int, directory: str) -> str:
    """Give an O_TMPFILE file a (hidden, temporary) name in `directory`."""
    name = tempfile.mktemp(prefix=_TEMPORARY_PREFIX, dir=directory)
    libc = ctypes.CDLL(None, use_errno=True)
    source = f"/proc/self/fd/{descriptor}".encode()
    if libc.linkat(_AT_FDCWD, source, _AT_FDCWD, os.fsencode(name), _AT_SYMLINK_FOLLOW) == 0:
        return name
    # No linkat through /proc here: copy the staged bytes to a named file instead.
    copy, name = tempfile.mkstemp(prefix=_TEMPORARY_PREFIX, dir=directory)
    try:
        os.fchmod(copy, 0o644)
        offset = 0
        while True:
            chunk = os.pread(descriptor, 1 << 20, offset)
            if not chunk:
                break
            os.write(copy, chunk)
            offset += len(chunk)
        os.fsync(copy)
    except BaseException:
        os.close(copy)
        _unlink(name)
        raise
    os.close(copy)
    return name


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def stage_file(path, data) -> None:
    """Stage a file in the innermost active `atomic` block of this thread."""
    transaction = current_transaction()
    if transaction is None:
        raise RuntimeError("txlint.runtime.stage_file needs an active `with txlint.runtime.atomic(...)` block")
    transaction.stage_file(path, data)
