"""One run of a backfill at a time: a session-level advisory lock on PostgreSQL, a lock file
beside the database file on SQLite. Both go away with the process that holds them, SIGKILL
included, so a crashed run never leaves a lock to clear by hand."""

import hashlib
import os
import re
import threading
from typing import Any, Optional

from txlint.runtime._transaction import atomic
from txlint.runtime.backfill._sql import BackfillError, sql_for, sqlalchemy_engine

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

_process_locks = {}  # lock name -> threading.Lock, for SQLite databases without a file
_process_locks_guard = threading.Lock()


def _refused(name: str, holder: str) -> BackfillError:
    return BackfillError(f"another run of backfill {name!r} is in progress ({holder}); wait for it to end, "
                         "or pass wait=True (--wait) to queue behind it")


class AdvisoryLock:
    """pg_advisory_lock on a key derived from the backfill's name, held by the session it was taken on."""

    def __init__(self, target: Any, name: str):
        self.target = target
        self.name = name
        digest = hashlib.sha256(f"txlint.runtime.backfill:{name}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)
        self.engine = sqlalchemy_engine(target)
        self.connection = None

    def _select(self, function: str) -> Any:
        if self.engine is not None:  # pooled connections: keep one for the lock, for the whole run
            if self.connection is None:
                self.connection = self.engine.connect()
            with atomic(self.connection):
                return sql_for(self.connection).query(f"SELECT {function}(?)", (self.key,))[1][0][0]
        with atomic(self.target) as transaction:
            return sql_for(self.target, transaction).query(f"SELECT {function}(?)", (self.key,))[1][0][0]

    def acquire(self, wait: bool) -> None:
        if wait:
            self._select("pg_advisory_lock")
        elif not self._select("pg_try_advisory_lock"):
            self._close()
            raise _refused(self.name, f"PostgreSQL advisory lock {self.key} is held")

    def release(self) -> None:
        try:
            self._select("pg_advisory_unlock")
        finally:
            self._close()

    def _close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class FileLock:
    """flock on `<database file>.backfill-<name>.lock`; the file stays (deleting a lock file races)."""

    def __init__(self, database_file: str, name: str):
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        self.path = f"{database_file}.backfill-{safe}.lock"
        self.name = name
        self.handle = None

    def acquire(self, wait: bool) -> None:
        if fcntl is None:
            raise BackfillError("locking a SQLite backfill needs fcntl (POSIX); run it on Linux or macOS")
        try:
            handle = open(self.path, "a+")
        except OSError as error:
            raise BackfillError(f"cannot create the lock file {self.path}: {error.strerror}") from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown process"
            handle.close()
            raise _refused(self.name, f"{holder} holds {self.path}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self.handle = handle

    def release(self) -> None:
        if self.handle is not None:
            self.handle.close()  # closing the file releases the flock
            self.handle = None


class ProcessLock:
    """For a SQLite database with no file (":memory:"): only this process can reach it."""

    def __init__(self, name: str):
        self.name = name
        with _process_locks_guard:
            self.lock = _process_locks.setdefault(name, threading.Lock())

    def acquire(self, wait: bool) -> None:
        if not self.lock.acquire(blocking=wait):
            raise _refused(self.name, "in this process")

    def release(self) -> None:
        self.lock.release()


def _sqlite_file(target: Any) -> Optional[str]:
    with atomic(target) as transaction:
        rows = sql_for(target, transaction).query("PRAGMA database_list")[1]
    return next((row[2] for row in rows if row[1] == "main"), "") or None


def run_lock(target: Any, dialect: str, name: str):
    if dialect == "postgresql":
        return AdvisoryLock(target, name)
    if dialect == "sqlite":
        database_file = _sqlite_file(target)
        return FileLock(database_file, name) if database_file else ProcessLock(name)
    raise BackfillError(f"the backfill runner can keep runs apart on PostgreSQL and SQLite, not on {dialect}")
