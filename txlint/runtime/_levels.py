"""The open `atomic` levels of each thread and asyncio task, and who owns each one.

The levels live in a context variable so that one `atomic(...)` object can be shared. A context
variable is copied into every asyncio task (and into `asyncio.to_thread` and
`contextvars.copy_context().run`), so a task created inside a block sees the block's levels.
Each level therefore records the thread and task that opened it: a level is only ever joined,
released or written to by its owner, and another task that finds it either starts afresh (the
level has ended) or is refused (the level is still open: its savepoint would interleave with the
owner's statements on the same connection).
"""

import contextvars
import sys
import threading
from typing import Any, NamedTuple, Optional, Tuple

__all__ = ["Level", "current_owner", "innermost_open", "open_levels", "pop", "push"]


class Level(NamedTuple):
    key: Any
    transaction: Any  # the Transaction of this level
    backend: Any
    savepoint: Any  # what the backend needs to release or roll back this level; None outermost
    owner: Tuple[Any, Any]  # (thread, asyncio task or None) that opened it
    block: Any  # the `atomic` object whose enter pushed it (one object may be entered nested)


# Innermost last. A tuple, replaced rather than mutated, so tasks started inside a block never
# change their parent's view.
open_levels: "contextvars.ContextVar[Tuple[Level, ...]]" = contextvars.ContextVar(
    "txlint_runtime_open_levels", default=())


def current_owner() -> Tuple[Any, Any]:
    """The running thread and asyncio task; asyncio is consulted only if something imported it."""
    asyncio = sys.modules.get("asyncio")
    task = None
    if asyncio is not None:
        try:
            task = asyncio.current_task()
        except RuntimeError:  # no running event loop in this thread
            task = None
    return threading.current_thread(), task


def _is_mine(level: Level, owner: Tuple[Any, Any]) -> bool:
    return level.owner[0] is owner[0] and level.owner[1] is owner[1]


def innermost_open(key: Any = None, *, mine: bool = True) -> Optional[Level]:
    """The innermost level still open (on `key`, or on any target when key is None), opened by
    this thread and task (`mine`) or by another one."""
    owner = current_owner()
    for level in reversed(open_levels.get()):
        if key is not None and level.key != key:
            continue
        if _is_mine(level, owner) == mine and level.transaction.is_open:
            return level
    return None


def push(level: Level) -> None:
    open_levels.set(open_levels.get() + (level,))


def pop(block: Any) -> Level:
    """Remove and return the innermost level `block` pushed: the one its matching enter pushed."""
    for level in reversed(open_levels.get()):
        if level.block is block:
            open_levels.set(tuple(other for other in open_levels.get() if other is not level))
            return level
    raise AssertionError("txlint.runtime: an atomic block ended that this context never entered")
