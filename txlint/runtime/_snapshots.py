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

    `target` is a SQLAlchemy Session, sessionmaker or Session class (checked at flush, for
    statements run through the session, and for every insert/update/delete sent on the session's
    connections, bulk methods included, before any SQL is sent), or None for Django (checked by
    pre_save/pre_delete signals). `models` are classes or class names; their subclasses (Django
    proxy and multi-table children, SQLAlchemy inheritance) are snapshots too. Returns a guard
    whose `remove()` undoes it.
    """
    model_names = {model if isinstance(model, str) else model.__name__ for model in models}
    table_names = set(tables)

    def is_snapshot(cls) -> bool:
        return any(klass.__name__ in model_names or _table_of(klass) in table_names for klass in cls.__mro__)

    if target is None:
        return _guard_django(is_snapshot)
    return _guard_sqlalchemy(target, is_snapshot, table_names)


def _table_of(cls) -> Any:
    return getattr(cls, "__tablename__", None) or getattr(getattr(cls, "_meta", None), "db_table", None)


def _guard_sqlalchemy(target, is_snapshot, table_names) -> SnapshotGuard:
    import weakref

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

    snapshot_tables = _SnapshotTables(is_snapshot, table_names)

    def before_execute(connection, statement, *arguments):
        """Bulk methods (bulk_save_objects, bulk_insert_mappings, ...) bypass the flush and
        do_orm_execute and send table statements on the session's connection: checked here."""
        if is_materializing() or not getattr(statement, "is_dml", False):
            return
        table = getattr(statement, "table", None)
        if snapshot_tables.contains(table):
            raise _forbidden(table.name)

    # The session's connections come and go with its transactions; each is hooked once, and the
    # set of hooked ones lets remove() unhook those still alive.
    hooked = weakref.WeakSet()

    def after_begin(session, transaction, connection):
        if connection not in hooked:
            event.listen(connection, "before_execute", before_execute)
            hooked.add(connection)

    event.listen(target, "before_flush", before_flush)
    event.listen(target, "do_orm_execute", do_orm_execute)
    event.listen(target, "after_begin", after_begin)

    def remove():
        event.remove(target, "before_flush", before_flush)
        event.remove(target, "do_orm_execute", do_orm_execute)
        event.remove(target, "after_begin", after_begin)
        for connection in list(hooked):
            event.remove(connection, "before_execute", before_execute)

    return SnapshotGuard(remove)


class _SnapshotTables:
    """Is a Table written by a statement a snapshot's: named in `tables`, or mapped by a snapshot class?"""

    def __init__(self, is_snapshot, table_names):
        self.is_snapshot = is_snapshot
        self.table_names = table_names
        self.known = {}

    def contains(self, table) -> bool:
        if table is None or not hasattr(table, "name"):
            return False
        if table.name in self.table_names:
            return True
        if table not in self.known:
            self.known[table] = any(self.is_snapshot(cls) for cls in _classes_mapping(table))
        return self.known[table]


def _classes_mapping(table):
    """The mapped classes that write `table`. SQLAlchemy keeps its registries in a private
    WeakKeyDictionary; a table statement names no mapper, so this is the only way from one to them."""
    from sqlalchemy.orm import mapperlib

    for registry in list(getattr(mapperlib, "_mapper_registries", ())):
        for mapper in registry.mappers:
            if table in mapper.tables:
                yield mapper.class_


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
