"""`atomic(target)`: one transaction, nested levels as savepoints, callbacks after the outcome.

Outcome policy (the block's own error always wins):
- the block raised: roll back, discard staged files, run on_rollback callbacks, re-raise the
  block's error; a failing rollback or on_rollback callback is logged, not raised over it;
- commit raised: the same, and the commit's error is re-raised; no on_commit callback runs;
- commit succeeded: staged files are moved into place, then on_commit callbacks run; each one
  runs even if an earlier one (or a file move) failed, and the first such error is raised
  afterwards: the data is committed by then, so the error reports a side effect, not a rollback.

A level ends when its block does: registering a callback or a file on it afterwards (from an
on_commit callback, or on a savepoint already released) raises AtomicError instead of being
silently dropped.
"""

import functools
import inspect
import itertools
import logging
from typing import Any, Callable, List, Optional, Tuple

from txlint.runtime import _levels
from txlint.runtime._backends import AtomicError, Backend, backend_for, resolve_target, target_key
from txlint.runtime._generators import async_generator_in_transaction, generator_in_transaction

__all__ = ["AtomicError", "Transaction", "atomic", "current_transaction", "on_commit", "require_transaction"]

_log = logging.getLogger("txlint.runtime")

# Registration order across levels: a callback registered on the outer level while an inner one
# is open must still run in the order it was registered.
_registrations = itertools.count()


class Transaction:
    """One level of an `atomic` block: what to do once the outermost transaction's fate is known."""

    def __init__(self, parent: Optional["Transaction"], backend: Backend):
        self.parent = parent
        # For an Engine target: the connection the transaction runs on (write through it).
        self.connection = getattr(backend, "connection", None)
        # For a SQLAlchemy Session, scoped_session or sessionmaker target: the session to use.
        self.session = getattr(backend, "orm_session", None)
        self._on_commit: List[Tuple[int, Callable[[], Any]]] = []
        self._on_rollback: List[Tuple[int, Callable[[], Any]]] = []
        self._staged: List[Any] = []
        self._ended = ""  # why this level ended ("committed", "rolled back", ...); "" while open

    @property
    def is_open(self) -> bool:
        return not self._ended

    def on_commit(self, callback: Callable[[], Any]) -> None:
        """Run after the outermost transaction commits (in registration order); never on rollback."""
        self._accepting("on_commit")
        _require_callable("on_commit", callback)
        self._on_commit.append((next(_registrations), callback))

    def on_rollback(self, callback: Callable[[], Any]) -> None:
        """Run after this level's work is rolled back (also when an enclosing level rolls it back)."""
        self._accepting("on_rollback")
        _require_callable("on_rollback", callback)
        self._on_rollback.append((next(_registrations), callback))

    def stage_file(self, path, data) -> None:
        """Write `data` now beside `path`; move it to `path` only after the outermost commit."""
        from txlint.runtime._staging import StagedFile

        self._accepting("stage_file")
        self._staged.append(StagedFile.write(path, data))

    def _accepting(self, what: str) -> None:
        if self._ended:
            raise AtomicError(
                f"{what} on an atomic block that has already ended ({self._ended}): it would never run; "
                "inside an on_commit callback the data is committed, so do the work directly")

    # -- outcome -----------------------------------------------------------------------------
    def _end(self, how: str) -> None:
        self._ended = how

    def _hand_to_parent(self) -> None:
        parent = self.parent
        parent._on_commit.extend(self._on_commit)
        parent._on_rollback.extend(self._on_rollback)
        parent._staged.extend(self._staged)

    def _rolled_back(self) -> None:
        for staged in self._staged:
            try:
                staged.discard()
            except Exception:
                _log.exception("txlint.runtime: could not delete a staged file after a rollback")
        for _, callback in sorted(self._on_rollback, key=_registration):
            try:
                callback()
            except Exception:
                _log.exception("txlint.runtime: an on_rollback callback failed")

    def _committed(self) -> None:
        errors: List[BaseException] = []
        for staged in self._staged:
            try:
                staged.publish()
            except Exception as error:  # the other files and the callbacks still follow the commit
                errors.append(error)
                staged.discard()
        for _, callback in sorted(self._on_commit, key=_registration):
            try:
                callback()
            except Exception as error:
                errors.append(error)
        if errors:
            raise errors[0]


def _require_callable(what: str, callback: Any) -> None:
    """Checked when registered: after the commit, a TypeError would come too late to fix anything."""
    if not callable(callback):
        raise TypeError(f"{what} needs a callable, not {type(callback).__name__}")


def _registration(entry: Tuple[int, Callable[[], Any]]) -> int:
    return entry[0]


def current_transaction() -> Optional[Transaction]:
    """The innermost open `atomic` level of this thread or task, on any target."""
    level = _levels.innermost_open()
    return level.transaction if level else None


def require_transaction(what: str) -> Transaction:
    """The innermost open level of this thread or task, or AtomicError saying why there is none."""
    transaction = current_transaction()
    if transaction is not None:
        return transaction
    if _levels.innermost_open(mine=False) is not None:
        raise AtomicError(
            f"txlint.runtime.{what} was called in an asyncio task or thread that did not open the enclosing "
            "atomic block (a task created inside a block inherits its context, not its transaction); "
            "open an atomic block in this task, or do this in the task that owns the block")
    raise AtomicError(
        f"txlint.runtime.{what} needs an active `with txlint.runtime.atomic(...)` block; outside one there "
        "is no commit to wait for (inside an on_commit callback the data is already committed)")


def on_commit(callback: Callable[[], Any]) -> None:
    """Run `callback` after the innermost active `atomic` block of this thread or task commits."""
    require_transaction("on_commit").on_commit(callback)


def _joinable_level(key) -> Optional[_levels.Level]:
    """This task's open level on `key`; AtomicError if the only open one belongs to another task."""
    mine = _levels.innermost_open(key)
    if mine is not None:
        return mine
    if _levels.innermost_open(key, mine=False) is not None:
        raise AtomicError(
            "this target is inside an atomic block opened by another asyncio task or thread (a task "
            "created inside a block inherits its context): a savepoint from here would interleave with "
            "that block's statements, and its commit is not this task's to make; give this task a "
            "session or connection of its own, or await the work in the task that opened the block")
    return None


class atomic:  # noqa: N801 - a decorator and context manager, named like the ones it stands for
    """One transaction on `target`; a context manager, a decorator, and with `async with` for asyncio.

    Commits on success and rolls back on any exception (BaseException included) before
    re-raising it. Used inside another `atomic` on the same target it opens a savepoint, so a
    caught failure rolls back only the inner block. One instance may be entered by several
    threads or tasks at once: the open levels live in a context variable, not on the instance.
    """

    def __init__(self, target: Any = None):
        self.target = target

    # -- decorator ---------------------------------------------------------------------------
    def __call__(self, function: Callable) -> Callable:
        def open_block():
            return atomic(self.target)

        if inspect.isasyncgenfunction(function):
            return async_generator_in_transaction(open_block, function)
        if inspect.isgeneratorfunction(function):
            return generator_in_transaction(open_block, function)
        if inspect.iscoroutinefunction(function):
            @functools.wraps(function)
            async def run_async(*args, **kwargs):
                async with open_block():
                    return await function(*args, **kwargs)

            return run_async

        @functools.wraps(function)
        def run(*args, **kwargs):
            with open_block():
                return function(*args, **kwargs)

        return run

    # -- synchronous ---------------------------------------------------------------------------
    def __enter__(self) -> Transaction:
        target = resolve_target(self.target)
        key = target_key(target)
        outer = _joinable_level(key)
        backend = outer.backend if outer else backend_for(target)
        if backend.async_only:
            raise AtomicError("this target is asynchronous: use `async with atomic(...)`")
        if outer:
            savepoint = backend.savepoint()
        else:
            backend.begin()
            savepoint = None
        return self._open(key, outer, backend, savepoint)

    def __exit__(self, error_type, error, traceback) -> bool:
        level = _levels.pop(self)
        if level.transaction.parent is not None:
            _finish_savepoint(level, error)
        else:
            _finish_outermost(level, error)
        return False

    # -- asynchronous --------------------------------------------------------------------------
    async def __aenter__(self) -> Transaction:
        target = resolve_target(self.target)
        key = target_key(target)
        outer = _joinable_level(key)
        backend = outer.backend if outer else backend_for(target)
        if outer:
            savepoint = await _maybe_await(backend.savepoint())
        else:
            await _maybe_await(backend.begin())
            savepoint = None
        return self._open(key, outer, backend, savepoint)

    async def __aexit__(self, error_type, error, traceback) -> bool:
        level = _levels.pop(self)
        if level.transaction.parent is not None:
            await _finish_savepoint_async(level, error)
        else:
            await _finish_outermost_async(level, error)
        return False

    def _open(self, key, outer: Optional[_levels.Level], backend: Backend, savepoint) -> Transaction:
        transaction = Transaction(outer.transaction if outer else None, backend)
        _levels.push(_levels.Level(key, transaction, backend, savepoint, _levels.current_owner(), self))
        return transaction


def _refuse_orphaned_savepoint(level: _levels.Level) -> None:
    """A savepoint that outlived its enclosing block (a generator resumed after the block that
    started it ended): there is nothing left to release it into."""
    if level.transaction.parent.is_open:
        return
    level.transaction._end("its enclosing block ended first")
    level.transaction._rolled_back()
    raise AtomicError(
        "an atomic block nested in another one ended after the enclosing block did (a generator "
        "decorated with atomic, resumed after the block it started in had ended?): its work went "
        "with the enclosing block's outcome, and its files and callbacks are discarded")


def _finish_savepoint(level: _levels.Level, error: Optional[BaseException]) -> None:
    _refuse_orphaned_savepoint(level)
    if error is None:
        level.transaction._end("released into the enclosing block")
        try:
            level.backend.release(level.savepoint)
        except BaseException:
            _quietly(level.backend.rollback_to, level.savepoint)
            level.transaction._rolled_back()
            raise
        level.transaction._hand_to_parent()
        return
    level.transaction._end("rolled back")
    _quietly(level.backend.rollback_to, level.savepoint)
    level.transaction._rolled_back()


def _finish_outermost(level: _levels.Level, error: Optional[BaseException]) -> None:
    backend, transaction = level.backend, level.transaction
    try:
        if error is not None:
            transaction._end("rolled back")
            _quietly(backend.rollback)
            transaction._rolled_back()
            return
        transaction._end("committed")
        try:
            backend.commit()
        except BaseException:
            transaction._end("rolled back")
            _quietly(backend.rollback)
            transaction._rolled_back()
            raise
    finally:
        _quietly(backend.close)
    if not backend.after_commit(transaction._committed):
        transaction._committed()


async def _finish_savepoint_async(level: _levels.Level, error: Optional[BaseException]) -> None:
    _refuse_orphaned_savepoint(level)
    if error is None:
        level.transaction._end("released into the enclosing block")
        try:
            await _maybe_await(level.backend.release(level.savepoint))
        except BaseException:
            await _quietly_async(level.backend.rollback_to, level.savepoint)
            level.transaction._rolled_back()
            raise
        level.transaction._hand_to_parent()
        return
    level.transaction._end("rolled back")
    await _quietly_async(level.backend.rollback_to, level.savepoint)
    level.transaction._rolled_back()


async def _finish_outermost_async(level: _levels.Level, error: Optional[BaseException]) -> None:
    backend, transaction = level.backend, level.transaction
    try:
        if error is not None:
            transaction._end("rolled back")
            await _quietly_async(backend.rollback)
            transaction._rolled_back()
            return
        transaction._end("committed")
        try:
            await _maybe_await(backend.commit())
        except BaseException:
            transaction._end("rolled back")
            await _quietly_async(backend.rollback)
            transaction._rolled_back()
            raise
    finally:
        await _quietly_async(backend.close)
    transaction._committed()


def _quietly(action: Callable[..., Any], *arguments) -> None:
    """Clean-up while another error is already on its way out: that error is the one to report."""
    try:
        action(*arguments)
    except Exception:
        _log.exception("txlint.runtime: clean-up after a failed transaction failed")


async def _quietly_async(action: Callable[..., Any], *arguments) -> None:
    try:
        await _maybe_await(action(*arguments))
    except Exception:
        _log.exception("txlint.runtime: clean-up after a failed transaction failed")


async def _maybe_await(value):
    if inspect.isawaitable(value):
        return await value
    return value
