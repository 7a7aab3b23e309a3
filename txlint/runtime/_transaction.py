"""`atomic(target)`: one transaction, nested levels as savepoints, callbacks after the outcome.

Outcome policy (the block's own error always wins):
- the block raised: roll back, discard staged files, run on_rollback callbacks, re-raise the
  block's error; a failing rollback or on_rollback callback is logged, not raised over it;
- commit raised: the same, and the commit's error is re-raised; no on_commit callback runs;
- commit succeeded: staged files are moved into place, then on_commit callbacks run; each one
  runs even if an earlier one (or a file move) failed, and the first such error is raised
  afterwards: the data is committed by then, so the error reports a side effect, not a rollback.
"""

import contextvars
import functools
import inspect
import itertools
import logging
from typing import Any, Callable, List, NamedTuple, Optional, Tuple

from txlint.runtime._backends import AtomicError, Backend, backend_for, target_key

__all__ = ["AtomicError", "Transaction", "atomic", "current_transaction"]

_log = logging.getLogger("txlint.runtime")

# Registration order across levels: a callback registered on the outer level while an inner one
# is open must still run in the order it was registered.
_registrations = itertools.count()


class Transaction:
    """One level of an `atomic` block: what to do once the outermost transaction's fate is known."""

    def __init__(self, parent: Optional["Transaction"], connection: Any = None):
        self.parent = parent
        # For an Engine target: the connection the transaction runs on (write through it).
        self.connection = connection
        self._on_commit: List[Tuple[int, Callable[[], Any]]] = []
        self._on_rollback: List[Tuple[int, Callable[[], Any]]] = []
        self._staged: List[Any] = []

    def on_commit(self, callback: Callable[[], Any]) -> None:
        """Run after the outermost transaction commits (in registration order); never on rollback."""
        self._on_commit.append((next(_registrations), callback))

    def on_rollback(self, callback: Callable[[], Any]) -> None:
        """Run after this level's work is rolled back (also when an enclosing level rolls it back)."""
        self._on_rollback.append((next(_registrations), callback))

    def stage_file(self, path, data) -> None:
        """Write `data` now beside `path`; move it to `path` only after the outermost commit."""
        from txlint.runtime._staging import StagedFile

        self._staged.append(StagedFile.write(path, data))

    # -- outcome -----------------------------------------------------------------------------
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


def _registration(entry: Tuple[int, Callable[[], Any]]) -> int:
    return entry[0]


class _Level(NamedTuple):
    key: Any
    transaction: Transaction
    backend: Backend
    savepoint: Any  # what the backend needs to release or roll back this level; None outermost


# Open levels of this thread or asyncio task, innermost last. A tuple, replaced rather than
# mutated, so tasks started inside a block never change their parent's view.
_open_levels: "contextvars.ContextVar[Tuple[_Level, ...]]" = contextvars.ContextVar(
    "txlint_runtime_open_levels", default=())


def current_transaction() -> Optional[Transaction]:
    """The innermost open `atomic` level of this thread or task, on any target."""
    levels = _open_levels.get()
    return levels[-1].transaction if levels else None


def _innermost_on(key) -> Optional[_Level]:
    for level in reversed(_open_levels.get()):
        if level.key == key:
            return level
    return None


def _push(level: _Level) -> None:
    _open_levels.set(_open_levels.get() + (level,))


def _pop(key) -> _Level:
    level = _innermost_on(key)
    _open_levels.set(tuple(open_level for open_level in _open_levels.get() if open_level is not level))
    return level


class atomic:  # noqa: N801 - a decorator and context manager, named like the ones it stands for
    """One transaction on `target`; a context manager, a decorator, and with `async with` for asyncio.

    Commits on success and rolls back on any exception (BaseException included) before
    re-raising it. Used inside another `atomic` on the same target it opens a savepoint, so a
    caught failure rolls back only the inner block. One instance may be entered by several
    threads or tasks at once: the open levels live in a context variable, not on the instance.
    """

    def __init__(self, target: Any = None):
        self.target = target
        self.key = target_key(target)

    # -- decorator ---------------------------------------------------------------------------
    def __call__(self, function: Callable) -> Callable:
        if inspect.iscoroutinefunction(function):
            @functools.wraps(function)
            async def run_async(*args, **kwargs):
                async with atomic(self.target):
                    return await function(*args, **kwargs)

            return run_async

        @functools.wraps(function)
        def run(*args, **kwargs):
            with atomic(self.target):
                return function(*args, **kwargs)

        return run

    # -- synchronous ---------------------------------------------------------------------------
    def __enter__(self) -> Transaction:
        outer = _innermost_on(self.key)
        backend = outer.backend if outer else backend_for(self.target)
        if backend.async_only:
            raise AtomicError("this target is asynchronous: use `async with atomic(...)`")
        if outer:
            savepoint = backend.savepoint()
        else:
            backend.begin()
            savepoint = None
        return self._open(outer, backend, savepoint)

    def __exit__(self, error_type, error, traceback) -> bool:
        level = _pop(self.key)
        if level.transaction.parent is not None:
            _finish_savepoint(level, error)
        else:
            _finish_outermost(level, error)
        return False

    # -- asynchronous --------------------------------------------------------------------------
    async def __aenter__(self) -> Transaction:
        outer = _innermost_on(self.key)
        backend = outer.backend if outer else backend_for(self.target)
        if outer:
            savepoint = await _maybe_await(backend.savepoint())
        else:
            await _maybe_await(backend.begin())
            savepoint = None
        return self._open(outer, backend, savepoint)

    async def __aexit__(self, error_type, error, traceback) -> bool:
        level = _pop(self.key)
        if level.transaction.parent is not None:
            await _finish_savepoint_async(level, error)
        else:
            await _finish_outermost_async(level, error)
        return False

    def _open(self, outer: Optional[_Level], backend: Backend, savepoint) -> Transaction:
        transaction = Transaction(outer.transaction if outer else None, getattr(backend, "connection", None))
        _push(_Level(self.key, transaction, backend, savepoint))
        return transaction


def _finish_savepoint(level: _Level, error: Optional[BaseException]) -> None:
    if error is None:
        try:
            level.backend.release(level.savepoint)
        except BaseException:
            _quietly(level.backend.rollback_to, level.savepoint)
            level.transaction._rolled_back()
            raise
        level.transaction._hand_to_parent()
        return
    _quietly(level.backend.rollback_to, level.savepoint)
    level.transaction._rolled_back()


def _finish_outermost(level: _Level, error: Optional[BaseException]) -> None:
    backend, transaction = level.backend, level.transaction
    try:
        if error is not None:
            _quietly(backend.rollback)
            transaction._rolled_back()
            return
        try:
            backend.commit()
        except BaseException:
            _quietly(backend.rollback)
            transaction._rolled_back()
            raise
    finally:
        _quietly(backend.close)
    if not backend.after_commit(transaction._committed):
        transaction._committed()


async def _finish_savepoint_async(level: _Level, error: Optional[BaseException]) -> None:
    if error is None:
        try:
            await _maybe_await(level.backend.release(level.savepoint))
        except BaseException:
            await _quietly_async(level.backend.rollback_to, level.savepoint)
            level.transaction._rolled_back()
            raise
        level.transaction._hand_to_parent()
        return
    await _quietly_async(level.backend.rollback_to, level.savepoint)
    level.transaction._rolled_back()


async def _finish_outermost_async(level: _Level, error: Optional[BaseException]) -> None:
    backend, transaction = level.backend, level.transaction
    try:
        if error is not None:
            await _quietly_async(backend.rollback)
            transaction._rolled_back()
            return
        try:
            await _maybe_await(backend.commit())
        except BaseException:
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
