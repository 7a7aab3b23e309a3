"""`atomic(target)`: one transaction, nested levels as savepoints, callbacks after the outcome."""

import functools
import inspect
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

from txlint.runtime._backends import AtomicError, Backend, backend_for, target_key

__all__ = ["AtomicError", "Transaction", "atomic", "current_transaction"]

_state = threading.local()


def _levels() -> Dict[Any, List["Transaction"]]:
    levels = getattr(_state, "levels", None)
    if levels is None:
        levels = _state.levels = {}
    return levels


def _active() -> List["Transaction"]:
    """Every open level in this thread, innermost last (for the module-level stage_file)."""
    stack = getattr(_state, "active", None)
    if stack is None:
        stack = _state.active = []
    return stack


def current_transaction() -> Optional["Transaction"]:
    stack = _active()
    return stack[-1] if stack else None


class Transaction:
    """One level of an `atomic` block: what to do once the outermost transaction's fate is known."""

    def __init__(self, parent: Optional["Transaction"], connection: Any = None):
        self.parent = parent
        # For an Engine target: the connection the transaction runs on (write through it).
        self.connection = connection
        self._on_commit: List[Callable[[], Any]] = []
        self._on_rollback: List[Callable[[], Any]] = []
        self._staged: List[Any] = []

    def on_commit(self, callback: Callable[[], Any]) -> None:
        """Run after the outermost transaction commits (in registration order); never on rollback."""
        self._on_commit.append(callback)

    def on_rollback(self, callback: Callable[[], Any]) -> None:
        """Run after this level's work is rolled back."""
        self._on_rollback.append(callback)

    def stage_file(self, path, data) -> None:
        """Write `data` now to a hidden file beside `path`; move it to `path` only after the commit."""
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
            staged.discard()
        _run_all(self._on_rollback)

    def _committed(self) -> None:
        for staged in self._staged:
            staged.publish()
        _run_all(self._on_commit)


def _run_all(callbacks: List[Callable[[], Any]]) -> None:
    """Run every callback; if any raised, raise the first error once all have run."""
    first_error: Optional[BaseException] = None
    for callback in callbacks:
        try:
            callback()
        except Exception as error:  # later callbacks still run: the outcome is already final
            if first_error is None:
                first_error = error
    if first_error is not None:
        raise first_error


class atomic:  # noqa: N801 - a decorator and context manager, named like the ones it stands for
    """One transaction on `target`; a context manager, a decorator, and with `async with` for asyncio.

    Commits on success and rolls back on any exception (BaseException included) before
    re-raising it. Used inside another `atomic` on the same target it opens a savepoint, so a
    caught failure rolls back only the inner block.
    """

    def __init__(self, target: Any = None):
        self.target = target
        self._entered: List[Tuple[Transaction, Backend, Any]] = []

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
        stack = _levels().setdefault(target_key(self.target), [])
        if stack:
            outer, backend, _ = stack[-1]
            if backend.async_only:
                raise AtomicError("this target is asynchronous: use `async with atomic(...)`")
            token = backend.savepoint()
        else:
            backend = backend_for(self.target)
            if backend.async_only:
                raise AtomicError("this target is asynchronous: use `async with atomic(...)`")
            outer, token = None, None
            backend.begin()
        transaction = Transaction(outer, getattr(backend, "connection", None))
        stack.append((transaction, backend, token))
        _active().append(transaction)
        return transaction

    def __exit__(self, error_type, error, traceback) -> bool:
        key = target_key(self.target)
        stack = _levels()[key]
        transaction, backend, token = stack.pop()
        _active().remove(transaction)
        try:
            if transaction.parent is not None:
                self._finish_savepoint(transaction, backend, token, error)
            else:
                self._finish_outermost(transaction, backend, error)
        finally:
            if not stack:
                del _levels()[key]
        return False

    @staticmethod
    def _finish_savepoint(transaction: Transaction, backend: Backend, token, error) -> None:
        if error is None:
            backend.release(token)
            transaction._hand_to_parent()
            return
        try:
            backend.rollback_to(token)
        finally:
            transaction._rolled_back()

    @staticmethod
    def _finish_outermost(transaction: Transaction, backend: Backend, error) -> None:
        try:
            if error is None:
                try:
                    backend.commit()
                except BaseException:
                    _quietly(backend.rollback)
                    transaction._rolled_back()
                    raise
            else:
                try:
                    backend.rollback()
                finally:
                    transaction._rolled_back()
                return
        finally:
            backend.close()
        if not backend.after_commit(transaction._committed):
            transaction._committed()

    # -- asynchronous --------------------------------------------------------------------------
    async def __aenter__(self) -> Transaction:
        stack = _levels().setdefault(target_key(self.target), [])
        if stack:
            outer, backend, _ = stack[-1]
            token = await _maybe_await(backend.savepoint())
        else:
            backend = backend_for(self.target)
            outer, token = None, None
            await _maybe_await(backend.begin())
        transaction = Transaction(outer)
        stack.append((transaction, backend, token))
        _active().append(transaction)
        return transaction

    async def __aexit__(self, error_type, error, traceback) -> bool:
        key = target_key(self.target)
        stack = _levels()[key]
        transaction, backend, token = stack.pop()
        _active().remove(transaction)
        try:
            if transaction.parent is not None:
                if error is None:
                    await _maybe_await(backend.release(token))
                    transaction._hand_to_parent()
                else:
                    try:
                        await _maybe_await(backend.rollback_to(token))
                    finally:
                        transaction._rolled_back()
                return False
            try:
                if error is None:
                    try:
                        await _maybe_await(backend.commit())
                    except BaseException:
                        await _maybe_await_quietly(backend.rollback)
                        transaction._rolled_back()
                        raise
                else:
                    try:
                        await _maybe_await(backend.rollback())
                    finally:
                        transaction._rolled_back()
                    return False
            finally:
                await _maybe_await(backend.close())
            transaction._committed()
        finally:
            if not stack:
                del _levels()[key]
        return False


def _quietly(action: Callable[[], Any]) -> None:
    try:
        action()
    except Exception:  # the commit's own error is the one to report
        pass


async def _maybe_await(value):
    if inspect.isawaitable(value):
        return await value
    return value


async def _maybe_await_quietly(action):
    try:
        await _maybe_await(action())
    except Exception:
        pass
