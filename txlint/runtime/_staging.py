"""Files that appear if and only if the transaction commits.

The data is written at once (so a full disk fails inside the transaction) to a file in the
target's directory, and given its name with an atomic rename only after the commit. On Linux
the file is unnamed (O_TMPFILE) while few are staged: a process killed before the commit leaves
nothing behind, since the kernel frees the file with the process. Each unnamed file holds a file
descriptor until the commit, so past a budget (a fraction of RLIMIT_NOFILE), and where O_TMPFILE
is unavailable (macOS, NFS, FUSE), the data goes to a hidden `.txlint-staged-<32 hex digits>`
file instead, closed once written. Those are what a killed process can leave behind;
`sweep_staged_files` deletes them.

Permissions: a file that replaces one keeps that file's permission bits; a new file gets
0o666 less the umask, as `open()` would give it.
"""

import errno
import os
import stat
import threading
import uuid
import weakref
from pathlib import Path
from typing import Dict, Iterator, Union

from txlint.runtime._transaction import require_transaction

__all__ = ["StagedFile", "stage_file"]

STAGED_PREFIX = ".txlint-staged-"
_CHUNK = 1 << 20
# O_TMPFILE needs linkat through /proc to give the file a name. A module attribute so that the
# tests can take the named-file path on any machine.
_O_TMPFILE = getattr(os, "O_TMPFILE", 0) if os.path.isdir("/proc/self/fd") else 0
# At most this many unnamed staged files hold a descriptor at once, and never more than an
# eighth of the descriptor limit: the rest of the process needs descriptors too.
_MAX_UNNAMED = 64
_unnamed_lock = threading.Lock()
_unnamed_open = 0


class StagedFile:
    """Data waiting beside its target path for the transaction's outcome."""

    def __init__(self, target: Path, resources: Dict[str, Union[int, str, bool]]):
        self.target = target
        # descriptor: the open unnamed file, or -1; temporary: a named file, or "".
        self._resources = resources
        # A staged file whose transaction is never finished (its owner dropped it, as Django does
        # with on_commit callbacks of a rolled-back block) is discarded when it is collected.
        weakref.finalize(self, _release, resources)

    @classmethod
    def write(cls, path, data) -> "StagedFile":
        """Stage `data` (bytes-like, str as UTF-8, or a file object opened for reading) for `path`,
        resolved now against the current directory."""
        target = _absolute(path)
        chunks = _chunks_of(data)
        directory = _directory_of(target)
        resources = _create(directory)
        try:
            mode = _mode_of_existing(target)
            if mode is not None:
                os.fchmod(resources["descriptor"], mode)
            for chunk in chunks:
                _write_all(resources["descriptor"], chunk)
            os.fsync(resources["descriptor"])
        except BaseException:
            _release(resources)
            raise
        if resources["temporary"]:  # a named file needs no open descriptor until the commit
            os.close(resources["descriptor"])
            resources["descriptor"] = -1
        return cls(target, resources)

    def publish(self) -> None:
        """Move the data into place (after the commit)."""
        resources = self._resources
        directory = _directory_of(self.target)
        if resources["descriptor"] >= 0:
            resources["temporary"] = _name_unnamed(resources["descriptor"], directory)
            _close_unnamed(resources)
        os.replace(resources["temporary"], self.target)
        resources["temporary"] = ""
        _fsync_directory(directory)

    def discard(self) -> None:
        """Forget the data (after a rollback); a file already at the target is left untouched."""
        _release(self._resources)


def _absolute(path) -> Path:
    """Resolved when staged, so a chdir before the commit does not move the file."""
    target = Path(os.fsdecode(os.fspath(path)))
    return target if target.is_absolute() else Path(os.getcwd()) / target


def _chunks_of(data) -> Iterator[bytes]:
    """The data's bytes, checked before any file is made (an int is not a size to fill with NULs)."""
    if isinstance(data, str):
        return iter([data.encode("utf-8")])
    if isinstance(data, (bytes, bytearray, memoryview)):
        return iter([bytes(data)])
    if callable(getattr(data, "read", None)):
        return _read_chunks(data)
    raise TypeError(f"stage_file data must be bytes, str or a readable file object, not {type(data).__name__}")


def _read_chunks(stream) -> Iterator[bytes]:
    while True:
        chunk = stream.read(_CHUNK)
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8")
        elif not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise TypeError(f"stage_file: the file object's read() returned {type(chunk).__name__}")
        if not chunk:
            return
        yield bytes(chunk)


def _mode_of_existing(target: Path):
    """The permission bits of the regular file being replaced, if there is one."""
    try:
        status = os.stat(target)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return stat.S_IMODE(status.st_mode) if stat.S_ISREG(status.st_mode) else None


def _write_all(descriptor: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        view = view[os.write(descriptor, view):]


def _create(directory: str) -> Dict[str, Union[int, str, bool]]:
    """An unnamed file while the descriptor budget allows it and the file system supports it,
    else a named hidden one. Either way created with 0o666 less the umask."""
    global _unnamed_open
    if _O_TMPFILE:
        with _unnamed_lock:
            within_budget = _unnamed_open < _unnamed_budget()
            if within_budget:
                _unnamed_open += 1
        if within_budget:
            try:
                descriptor = os.open(directory, _O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o666)
                return {"descriptor": descriptor, "temporary": "", "unnamed": True}
            except OSError as error:
                with _unnamed_lock:
                    _unnamed_open -= 1
                if error.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.EMFILE):
                    raise  # a missing directory or no permission: report it now, inside the transaction
    descriptor, name = _create_named(directory)
    return {"descriptor": descriptor, "temporary": name, "unnamed": False}


def _unnamed_budget() -> int:
    try:
        import resource
    except ImportError:
        return _MAX_UNNAMED
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return _MAX_UNNAMED if soft == resource.RLIM_INFINITY else min(_MAX_UNNAMED, soft // 8)


def _create_named(directory: str):
    while True:
        name = os.path.join(directory, f"{STAGED_PREFIX}{uuid.uuid4().hex}")
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666), name
        except FileExistsError:
            continue


def _close_unnamed(resources: Dict[str, Union[int, str, bool]]) -> None:
    global _unnamed_open
    os.close(resources["descriptor"])
    resources["descriptor"] = -1
    if resources["unnamed"]:
        resources["unnamed"] = False
        with _unnamed_lock:
            _unnamed_open -= 1


def _release(resources: Dict[str, Union[int, str, bool]]) -> None:
    if resources["descriptor"] >= 0:
        _close_unnamed(resources)
    if resources["temporary"]:
        try:
            os.unlink(resources["temporary"])
        except FileNotFoundError:
            pass
        resources["temporary"] = ""


def _directory_of(target: Path) -> str:
    return str(target.parent)


_AT_FDCWD = -100
_AT_SYMLINK_FOLLOW = 0x400


def _name_unnamed(descriptor: int, directory: str) -> str:
    """Give an O_TMPFILE file a hidden staged name in `directory` (linkat through /proc)."""
    import ctypes  # only needed on the O_TMPFILE path, after a commit

    libc = ctypes.CDLL(None, use_errno=True)
    source = f"/proc/self/fd/{descriptor}".encode()
    while True:
        name = os.path.join(directory, f"{STAGED_PREFIX}{uuid.uuid4().hex}")
        if libc.linkat(_AT_FDCWD, source, _AT_FDCWD, os.fsencode(name), _AT_SYMLINK_FOLLOW) == 0:
            return name
        if ctypes.get_errno() != errno.EEXIST:
            return _copy_to_named(descriptor, directory)  # /proc without linkat support


def _copy_to_named(descriptor: int, directory: str) -> str:
    copy, name = _create_named(directory)
    try:
        os.fchmod(copy, stat.S_IMODE(os.fstat(descriptor).st_mode))
        offset = 0
        chunk = os.pread(descriptor, _CHUNK, offset)
        while chunk:
            _write_all(copy, chunk)
            offset += len(chunk)
            chunk = os.pread(descriptor, _CHUNK, offset)
        os.fsync(copy)
    except BaseException:
        _release({"descriptor": copy, "temporary": name, "unnamed": False})
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
    require_transaction("stage_file").stage_file(path, data)
