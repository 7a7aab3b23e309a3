"""Snapshot tables that only materializers may write, enforced at run time."""

import contextvars
import functools
import inspect
from typing import Any, Callable, Iterable, List

__all__ = ["SnapshotWriteError", "guard_snapshots", "materializer"]

_materializing = contextvars.ContextVar("txlint_materializing", default=0)


class SnapshotWriteError(RuntimeError):
    """A write to a snapshot table outside a materializer."""


class materializer:  # noqa: N801 - used like a keyword: `@materializer` / `with materializer():`
    """Marks code allowed to write snapshot tables: a decorator (bare or called) and a context manager."""

    def __init__(self, function: Callable = None):
        self.function = function
        self._tokens: List[Any] = []
        if function is not None:
            functools.update_wrapper(self, function)

    def __call__(self, *args, **kwargs):
        if self.function is None:  # @materializer() with parentheses
            return materializer(args[0])
        if inspect.iscoroutinefunction(self.function):
            return self._call_async(*args, **kwargs)
        with materializer():
            return self.function(*args, **kwargs)

    async def _call_async(self, *args, **kwargs):
        with materializer():
            return await self.function(*args, **kwargs)

    def __get__(self, instance, owner):
        if instance is None:
            return self
        return functools.partial(self.__call__, instance)

    def __enter__(self):
        self._tokens.append(_materializing.set(_materializing.get() + 1))
        return self

    def __exit__(self, *exc_info):
        _materializing.reset(self._tokens.pop())
        return False


def is_materializing() -> bool:
    return _materializing.get() > 0


class SnapshotGuard:
    def __init__(self, remove: Callable[[], None]):
        self.remove = remove


def _forbidden(what: str) -> SnapshotWriteError:
    return SnapshotWriteError(
        f"write to snapshot {what} outside a materializer: snapshots are derived data; write the "
        "commands they are built from, or run this code under `txlint.runtime.materializer`")


def guard_snapshots(target: Any = None, models: Iterable = (), tables: Iterable[str] = ()) -> SnapshotGuard:
    """Raise SnapshotWriteError on a write to the given models or tables outside a materializer.

    `target` is a SQLAlchemy Session, sessionmaker or Session class (checked at flush, and for
    insert/update/delete statements run through the session, before any SQL is sent), or None
    for Django (checked by pre_save/pre_delete signals). `models` are classes or class names.
    Returns a guard whose `remove()` undoes it.
    """
    model_names = {model if isinstance(model, str) else model.__name__ for model in models}
    table_names = set(tables)

    def is_snapshot(cls) -> bool:
        table = getattr(cls, "__tablename__", None) or getattr(getattr(cls, "_meta", None), "db_table", None)
        return cls.__name__ in model_names or table in table_names

    if target is None:
        return _guard_django(is_snapshot)
    return _guard_sqlalchemy(target, is_snapshot, table_names)


def _guard_sqlalchemy(target, is_snapshot, table_names) -> SnapshotGuard:
    from sqlalchemy import event

    def before_flush(session, flush_context, instances):
        if is_materializing():
            return
        for obj in (*session.new, *session.dirty, *session.deleted):
            if is_snapshot(type(obj)) and (obj not in session.dirty or session.is_modified(obj)):
                raise _forbidden(type(obj).__name__)

    def do_orm_execute(state):
        """session.execute(insert/update/delete(...)) on a snapshot model or table: no flush involved."""
        if is_materializing() or not (state.is_insert or state.is_update or state.is_delete):
            return
        table = getattr(state.statement, "table", None)
        mapper = state.bind_mapper
        if getattr(table, "name", None) in table_names or (mapper is not None and is_snapshot(mapper.class_)):
            raise _forbidden(getattr(table, "name", None) or mapper.class_.__name__)

    event.listen(target, "before_flush", before_flush)
    event.listen(target, "do_orm_execute", do_orm_execute)

    def remove():
        event.remove(target, "before_flush", before_flush)
        event.remove(target, "do_orm_execute", do_orm_execute)

    return SnapshotGuard(remove)


def _guard_django(is_snapshot) -> SnapshotGuard:
    from django.db.models.signals import pre_delete, pre_save

    def check(sender, **kwargs):
        if not is_materializing() and is_snapshot(sender):
            raise _forbidden(sender.__name__)

    pre_save.connect(check, weak=False, dispatch_uid=id(check))
    pre_delete.connect(check, weak=False, dispatch_uid=("delete", id(check)))

    def remove():
        pre_save.disconnect(dispatch_uid=id(check))
        pre_delete.disconnect(dispatch_uid=("delete", id(check)))

    return SnapshotGuard(remove)
