"""One adapter per library: begin/commit/rollback and savepoints, chosen by the target's type.

Only the module of the target's class is inspected, so nothing is imported that the caller did
not already import.
"""

import itertools
from typing import Any, Callable, List, Optional

_savepoint_names = itertools.count(1)


class AtomicError(RuntimeError):
    """The target cannot be made atomic (for example a connection fixed in autocommit mode)."""


def _type_names(target: Any) -> List[str]:
    return [f"{cls.__module__}.{cls.__qualname__}" for cls in type(target).__mro__]


class Backend:
    """A transaction on one target. `begin` opens the outermost level; savepoints the others."""

    async_only = False

    def begin(self) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError

    def savepoint(self) -> Any:
        raise NotImplementedError

    def release(self, token: Any) -> None:
        raise NotImplementedError

    def rollback_to(self, token: Any) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Give back what begin() acquired (an engine's connection)."""

    def after_commit(self, callback: Callable[[], Any]) -> bool:
        """Defer `callback` to a commit this block does not own; False when this block's commit is the real one."""
        return False


class _SqlSavepoints:
    """Savepoints by SQL, for DB-API connections."""

    def _execute(self, sql: str) -> None:
        raise NotImplementedError

    def savepoint(self) -> str:
        name = f"txlint_sp_{next(_savepoint_names)}"
        self._execute(f"SAVEPOINT {name}")
        return name

    def release(self, token: str) -> None:
        self._execute(f"RELEASE SAVEPOINT {token}")

    def rollback_to(self, token: str) -> None:
        self._execute(f"ROLLBACK TO SAVEPOINT {token}")
        self._execute(f"RELEASE SAVEPOINT {token}")


class SqliteBackend(_SqlSavepoints, Backend):
    """sqlite3 in every mode: BEGIN is issued explicitly, so autocommit connections work too."""

    def __init__(self, connection):
        self.connection = connection

    def _execute(self, sql: str) -> None:
        self.connection.execute(sql)

    def begin(self) -> None:
        if self.connection.in_transaction:
            return  # legacy mode with pending writes, or autocommit=False: this transaction is ours
        # Legacy mode names the kind of BEGIN it would issue (DEFERRED, IMMEDIATE, EXCLUSIVE).
        kind = self.connection.isolation_level or ""
        self.connection.execute(f"BEGIN {kind}".strip())

    def _always_in_transaction(self) -> bool:
        """autocommit=False (3.12+): the module keeps a transaction open and re-opens it itself."""
        return getattr(self.connection, "autocommit", None) is False

    def commit(self) -> None:
        if self._always_in_transaction():
            self.connection.commit()
        elif self.connection.in_transaction:
            self.connection.execute("COMMIT")

    def rollback(self) -> None:
        if self._always_in_transaction():
            self.connection.rollback()
        elif self.connection.in_transaction:
            self.connection.execute("ROLLBACK")


class PsycopgBackend(_SqlSavepoints, Backend):
    """psycopg2 and psycopg 3: an autocommit connection is switched off for the transaction."""

    def __init__(self, connection):
        self.connection = connection
        self.restore_autocommit = False

    def _execute(self, sql: str) -> None:
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql)
        finally:
            cursor.close()

    def begin(self) -> None:
        if self.connection.autocommit:
            try:
                self.connection.autocommit = False
            except Exception as error:
                raise AtomicError(f"cannot switch this connection out of autocommit: {error}") from error
            self.restore_autocommit = True

    def commit(self) -> None:
        self.connection.commit()

    def rollback(self) -> None:
        self.connection.rollback()

    def close(self) -> None:
        if self.restore_autocommit:
            self.connection.autocommit = True


class SessionBackend(Backend):
    """A SQLAlchemy Session (or a Connection): commit, rollback, and begin_nested for savepoints."""

    def __init__(self, session):
        self.session = session
        _refuse_autocommit(session if _is_connection(session) else _bind_of(session))

    @property
    def orm_session(self):
        return None if _is_connection(self.session) else self.session

    def begin(self) -> None:
        if not self.session.in_transaction():
            self.session.begin()
        connection = self.session if _is_connection(self.session) else self.session.connection()
        if _sqlite_driver_outside_transaction(connection):
            connection.exec_driver_sql("BEGIN")

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def savepoint(self):
        return self.session.begin_nested()

    def release(self, token) -> None:
        token.commit()

    def rollback_to(self, token) -> None:
        token.rollback()


class EngineBackend(SessionBackend):
    """A SQLAlchemy Engine: a connection of its own for the transaction."""

    def __init__(self, engine):
        _refuse_autocommit(engine)
        self.engine = engine
        self.session = None

    @property
    def connection(self):
        return self.session

    def begin(self) -> None:
        self.session = self.engine.connect()
        self.session.begin()
        if _sqlite_driver_outside_transaction(self.session):
            self.session.exec_driver_sql("BEGIN")

    def close(self) -> None:
        if self.session is not None:
            self.session.close()


class SessionmakerBackend(SessionBackend):
    """A SQLAlchemy sessionmaker: a session made for the block, committed and closed at its end."""

    def __init__(self, factory):
        self.factory = factory
        self.session = None

    def begin(self) -> None:
        self.session = self.factory()
        _refuse_autocommit(_bind_of(self.session))
        super().begin()

    def close(self) -> None:
        if self.session is not None:
            self.session.close()


class AsyncSessionBackend(Backend):
    """AsyncSession / AsyncConnection: the same, awaited (used with `async with`)."""

    async_only = True

    def __init__(self, session):
        self.session = session
        sync_session = getattr(session, "sync_session", None)
        if sync_session is not None:
            _refuse_autocommit(_bind_of(sync_session))
        else:  # an AsyncConnection, started or not
            _refuse_autocommit(getattr(session, "sync_connection", None), getattr(session, "sync_engine", None))

    async def begin(self) -> None:
        if not self.session.in_transaction():
            await self.session.begin()
        connection = self.session if hasattr(self.session, "sync_connection") else await self.session.connection()
        if _sqlite_driver_outside_transaction(connection.sync_connection):
            await connection.exec_driver_sql("BEGIN")

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()

    async def savepoint(self):
        return await self.session.begin_nested()

    async def release(self, token) -> None:
        await token.commit()

    async def rollback_to(self, token) -> None:
        await token.rollback()

    async def close(self) -> None:
        return None

    @property
    def orm_session(self):
        return None if hasattr(self.session, "sync_connection") else self.session


class AsyncSessionmakerBackend(AsyncSessionBackend):
    """An async_sessionmaker: an AsyncSession made for the block, committed and closed at its end."""

    def __init__(self, factory):
        self.factory = factory
        self.session = None

    async def begin(self) -> None:
        self.session = self.factory()
        _refuse_autocommit(_bind_of(self.session.sync_session))
        await super().begin()

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()


class ContextManagerBackend(Backend):
    """Libraries whose own context manager nests with savepoints (Django atomic, peewee atomic)."""

    def __init__(self, factory: Callable[[], Any]):
        self.factory = factory
        self.levels: List[Any] = []

    def _enter(self):
        manager = self.factory()
        manager.__enter__()
        self.levels.append(manager)
        return manager

    def _exit(self, manager, error: Optional[BaseException]) -> None:
        assert self.levels and self.levels[-1] is manager
        self.levels.pop()
        if error is None:
            manager.__exit__(None, None, None)
        else:
            manager.__exit__(type(error), error, error.__traceback__)

    def begin(self) -> None:
        self._enter()

    def commit(self) -> None:
        self._exit(self.levels[-1], None)

    def rollback(self) -> None:
        if self.levels:  # empty when the commit failed: the library has rolled back already
            self._exit(self.levels[-1], _Rollback())

    def savepoint(self):
        return self._enter()

    def release(self, token) -> None:
        self._exit(token, None)

    def rollback_to(self, token) -> None:
        self._exit(token, _Rollback())


class _Rollback(Exception):
    """Passed to a native context manager's __exit__ to make it roll back."""


def _sqlite_driver_outside_transaction(connection) -> bool:
    """SQLAlchemy's SQLite drivers (sqlite3, aiosqlite in legacy mode) send no BEGIN until the
    first INSERT/UPDATE/DELETE: a SAVEPOINT sent first would open a transaction of its own, and
    its RELEASE would commit everything before the outermost block ends. A BEGIN prevents that."""
    if connection.dialect.name != "sqlite":
        return False
    return not getattr(connection.connection.driver_connection, "in_transaction", True)


def _bind_of(session):
    get_bind = getattr(session, "get_bind", None)
    if get_bind is not None:
        try:
            return get_bind()
        except Exception:  # an unbound session: nothing to inspect yet
            return None
    return getattr(session, "engine", None)


def _refuse_autocommit(*binds) -> None:
    """AtomicError when an engine or connection sends every statement in autocommit mode."""
    for bind in binds:
        if bind is None:
            continue
        engine = getattr(bind, "engine", bind)
        connect_level = getattr(getattr(engine, "dialect", None), "_on_connect_isolation_level", None)
        option_levels = [getattr(candidate, "get_execution_options", dict)().get("isolation_level")
                         for candidate in (bind, engine)]
        if "AUTOCOMMIT" in (connect_level, *option_levels):
            raise AtomicError(
                "this SQLAlchemy engine or connection uses isolation_level='AUTOCOMMIT': every "
                "statement commits on its own, so no block on it can be atomic; use one without it")


class DjangoBackend(ContextManagerBackend):
    """Django's own atomic; inside an atomic block opened elsewhere, the real commit is Django's."""

    def __init__(self, alias: Optional[str]):
        from django.db import transaction

        self.transaction = transaction
        self.alias = alias
        super().__init__(lambda: transaction.atomic(using=alias))

    def begin(self) -> None:
        self.inside_outer_block = self.transaction.get_connection(self.alias).in_atomic_block
        super().begin()

    def after_commit(self, callback: Callable[[], Any]) -> bool:
        if not self.inside_outer_block:
            return False
        self.transaction.on_commit(callback, using=self.alias)
        return True


class PeeweeBackend(ContextManagerBackend):
    """peewee's own atomic. peewee has no commit hook, so inside a transaction opened by peewee
    code this block would only release a savepoint: its callbacks and files would run before the
    real commit. It refuses that instead."""

    def __init__(self, database):
        self.database = database
        super().__init__(database.atomic)

    def begin(self) -> None:
        if self.database.in_transaction():
            raise AtomicError(
                "this peewee database is already inside a transaction opened outside "
                "txlint.runtime.atomic, whose commit atomic cannot observe; open the outer "
                "transaction with atomic(database) instead")
        super().begin()


def _is_connection(bind) -> bool:
    return "sqlalchemy.engine.base.Connection" in _type_names(bind)


def backend_for(target: Any) -> Backend:
    """The adapter for a target, or AtomicError naming what is supported."""
    if target is None or isinstance(target, str):
        return DjangoBackend(target)
    names = _type_names(target)
    if "sqlite3.Connection" in names:
        return SqliteBackend(target)
    if "psycopg2.extensions.connection" in names or any(
            name.startswith("psycopg.") and name.endswith(".Connection") for name in names):
        return PsycopgBackend(target)
    if any(name.startswith(("sqlalchemy.ext.asyncio.session.AsyncSession",
                            "sqlalchemy.ext.asyncio.engine.AsyncConnection")) for name in names):
        return AsyncSessionBackend(target)
    if "sqlalchemy.ext.asyncio.session.async_sessionmaker" in names:
        return AsyncSessionmakerBackend(target)
    if any(name in ("sqlalchemy.orm.session.Session", "sqlalchemy.engine.base.Connection") for name in names):
        return SessionBackend(target)
    if "sqlalchemy.orm.session.sessionmaker" in names:
        return SessionmakerBackend(target)
    if "sqlalchemy.engine.base.Engine" in names:
        return EngineBackend(target)
    if any(name.startswith("peewee.") and name.endswith("Database") for name in names):
        return PeeweeBackend(target)
    raise AtomicError(
        f"txlint.runtime.atomic does not know how to open a transaction on {type(target).__qualname__}; "
        "it supports SQLAlchemy sessions, scoped sessions, sessionmakers, connections and engines "
        "(sync and asyncio), a Django "
        "database alias, sqlite3, psycopg2 and psycopg 3 connections, and peewee databases")


_SCOPED_SESSIONS = ("sqlalchemy.orm.scoping.scoped_session", "sqlalchemy.ext.asyncio.scoping.async_scoped_session")


def resolve_target(target: Any) -> Any:
    """What a block on `target` works on: a scoped session (Flask-SQLAlchemy's `db.session`)
    stands for the session it currently holds, so that `atomic(db.session)` and
    `atomic(db.session())` are the same transaction."""
    if target is None or isinstance(target, str):
        return target
    if any(name in _SCOPED_SESSIONS for name in _type_names(target)):
        return target()
    return target


def target_key(target: Any) -> Any:
    return ("django", target or "default") if target is None or isinstance(target, str) else id(target)

