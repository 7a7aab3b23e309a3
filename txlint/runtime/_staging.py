"""Files that appear if and only if the transaction commits.

The data is written at once (so a full disk fails inside the transaction) to an unnamed file in
the target's directory (Linux O_TMPFILE; elsewhere a hidden `.txlint-staged-*` name), and given
its name with an atomic rename only after the commit. With an unnamed file, a process killed
before that leaves nothing behind: the kernel frees the file with the process.
"""

import errno
import os
import tempfile
import uuid
import weakref
from pathlib import Path
from typing import Dict, Union

from txlint.runtime._transaction import current_transaction

__all__ = ["StagedFile", "stage_file"]

_TEMPORARY_PREFIX = ".txlint-staged-"


class StagedFile:
    """Data waiting beside its target path for the transaction's outcome."""

    def __init__(self, target: Path, descriptor: int, temporary: str):
        self.target = target
        # descriptor: the open unnamed file (O_TMPFILE), or -1; temporary: a named file, or "".
        self._resources: Dict[str, Union[int, str]] = {"descriptor": descriptor, "temporary": temporary}
        # A staged file whose transaction is never finished (its owner dropped it, as Django does
        # with on_commit callbacks of a rolled-back block) is discarded when it is collected.
        weakref.finalize(self, _release, self._resources)

    @classmethod
    def write(cls, path, data) -> "StagedFile":
        target = Path(path)
        payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        descriptor, temporary = _open_unnamed(_directory_of(target))
        try:
            _write_all(descriptor, payload)
            os.fsync(descriptor)
        except BaseException:
            _release({"descriptor": descriptor, "temporary": temporary})
            raise
        if temporary:
            os.close(descriptor)
            descriptor = -1
        return cls(target, descriptor, temporary)

    def publish(self) -> None:
        """Move the data into place (after the commit)."""
        resources = self._resources
        if resources["descriptor"] >= 0:
            resources["temporary"] = _name_unnamed(resources["descriptor"], _directory_of(self.target))
            os.close(resources["descriptor"])
            resources["descriptor"] = -1
        os.replace(resources["temporary"], self.target)
        resources["temporary"] = ""
        _fsync_directory(_directory_of(self.target))

    def discard(self) -> None:
        """Forget the data (after a rollback); a file already at the target is left untouched."""
        _release(self._resources)


def _write_all(descriptor: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        view = view[os.write(descriptor, view):]


def _release(resources: Dict[str, Union[int, str]]) -> None:
    if resources["descriptor"] >= 0:
        os.close(resources["descriptor"])
        resources["descriptor"] = -1
    if resources["temporary"]:
        try:
            os.unlink(resources["temporary"])
        except FileNotFoundError:
            pass
        resources["temporary"] = ""


def _directory_of(target: Path) -> str:
    return str(target.parent) or "."


def _open_unnamed(directory: str):
    tmpfile_flag = getattr(os, "O_TMPFILE", 0)
    if tmpfile_flag and os.path.isdir("/proc/self/fd"):
        try:
            return os.open(directory, tmpfile_flag | os.O_RDWR, 0o644), ""
        except OSError as error:
            if error.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                raise  # a missing directory or no permission: report it now, inside the transaction
    descriptor, temporary = tempfile.mkstemp(prefix=_TEMPORARY_PREFIX, dir=directory)
    os.fchmod(descriptor, 0o644)
    return descriptor, temporary


_AT_FDCWD = -100
_AT_SYMLINK_FOLLOW = 0x400


def _name_unnamed(descriptor: int, directory: str) -> str:
    """Give an O_TMPFILE file a hidden temporary name in `directory` (linkat through /proc)."""
    import ctypes  # only needed on the O_TMPFILE path, after a commit

    libc = ctypes.CDLL(None, use_errno=True)
    source = f"/proc/self/fd/{descriptor}".encode()
    while True:
        name = os.path.join(directory, f"{_TEMPORARY_PREFIX}{uuid.uuid4().hex}")
        if libc.linkat(_AT_FDCWD, source, _AT_FDCWD, os.fsencode(name), _AT_SYMLINK_FOLLOW) == 0:
            return name
        if ctypes.get_errno() != errno.EEXIST:
            return _copy_to_named(descriptor, directory)  # /proc without linkat support


def _copy_to_named(descriptor: int, directory: str) -> str:
    copy, name = tempfile.mkstemp(prefix=_TEMPORARY_PREFIX, dir=directory)
    try:
        os.fchmod(copy, 0o644)
        offset = 0
        chunk = os.pread(descriptor, 1 << 20, offset)
        while chunk:
            _write_all(copy, chunk)
            offset += len(chunk)
            chunk = os.pread(descriptor, 1 << 20, offset)
        os.fsync(copy)
    except BaseException:
        _release({"descriptor": copy, "temporary": name})
        raise
    os.close(copy)
    return name


def _fsync_directory(directory: str) -> None:
    """Make the rename durable, where the platform lets a directory be opened."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the rename itself is done
    finally:
        os.close(descriptor)


def stage_file(path, data) -> None:
    """Stage a file in the innermost active `atomic` block of this thread or task."""
    transaction = current_transaction()
    if transaction is None:
        raise RuntimeError(
            "txlint.runtime.stage_file needs an active `with txlint.runtime.atomic(...)` block; "
            "outside one there is no commit to wait for")
    transaction.stage_file(path, data)
