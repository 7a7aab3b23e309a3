"""SQL through whatever `atomic` was given: the runner's own tables (checkpoints, runs, ledger),
its locks and the helpers' queries run on the same connection as the user's batch, so a
checkpoint commits with the batch it describes.

The runner's statements are written with `?` for each parameter; `Sql.execute` swaps in the
driver's own placeholder. Nothing here imports a database library the target did not bring.
"""

import re
from typing import Any, Callable, List, Optional, Sequence, Tuple

from txlint.runtime._backends import _type_names, resolve_target

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


class BackfillError(RuntimeError):
    """A backfill that cannot run as declared, or a run that another holds the lock for."""


def identifier(name: str, what: str) -> str:
    """`name` if it is a plain (optionally schema-qualified) SQL name, else BackfillError."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise BackfillError(f"{what} must be a plain SQL name like `parts_v2` or `legacy.parts`, not {name!r}")
    return name


class Sql:
    """One connection's statements: `execute` for writes, `query` for rows."""

    def __init__(self, dialect: str, placeholder: str, run: Callable, run_many: Callable):
        self.dialect = dialect  # "sqlite", "postgresql", "mysql", ...
        self.placeholder = placeholder
        self._run = run
        self._run_many = run_many

    def _driver_text(self, statement: str) -> str:
        if self.placeholder == "?":
            return statement
        return statement.replace("%", "%%").replace("?", self.placeholder)

    def execute(self, statement: str, params: Sequence = ()) -> int:
        """Run a statement; the number of rows it changed (-1 when the driver does not say)."""
        rowcount, _, _ = self._run(self._driver_text(statement), tuple(params), False)
        return rowcount

    def execute_many(self, statement: str, rows: Sequence[Sequence]) -> None:
        if rows:
            self._run_many(self._driver_text(statement), [tuple(row) for row in rows])

    def query(self, statement: str, params: Sequence = ()) -> Tuple[List[str], List[tuple]]:
        """The column names and the rows of a SELECT."""
        _, columns, rows = self._run(self._driver_text(statement), tuple(params), True)
        return columns, rows


def _cursor_runner(cursor_factory: Callable[[], Any]):
    def run(statement, params, fetch):
        cursor = cursor_factory()
        try:
            cursor.execute(statement, params)
            if fetch:
                return cursor.rowcount, [column[0] for column in cursor.description], [tuple(row) for row in cursor]
            return cursor.rowcount, [], []
        finally:
            cursor.close()

    def run_many(statement, rows):
        cursor = cursor_factory()
        try:
            cursor.executemany(statement, rows)
        finally:
            cursor.close()

    return run, run_many


def _sqlalchemy_sql(connection) -> Sql:
    def run(statement, params, fetch):
        result = connection.exec_driver_sql(statement, params)
        if fetch:
            return result.rowcount, list(result.keys()), [tuple(row) for row in result]
        return result.rowcount, [], []

    def run_many(statement, rows):
        connection.exec_driver_sql(statement, rows)

    paramstyle = connection.dialect.paramstyle
    if paramstyle not in ("qmark", "format", "pyformat"):
        raise BackfillError(f"the backfill runner does not support the {paramstyle!r} parameter style of "
                            f"the {connection.dialect.name} driver")
    return Sql(connection.dialect.name, "?" if paramstyle == "qmark" else "%s", run, run_many)


def _django_sql(alias: Optional[str]) -> Sql:
    from django.db import connections

    connection = connections[alias or "default"]
    return Sql(connection.vendor, "%s", *_cursor_runner(connection.cursor))


def _peewee_sql(database) -> Sql:
    names = _type_names(database)
    if any("Sqlite" in name for name in names):
        dialect = "sqlite"
    elif any("Postgres" in name for name in names):
        dialect = "postgresql"
    else:
        dialect = "mysql" if any("MySQL" in name for name in names) else type(database).__name__.lower()
    return Sql(dialect, database.param, *_cursor_runner(database.cursor))


def sql_for(target: Any, transaction=None) -> Sql:
    """The statements of an open `atomic(target)` block (`transaction` is what it returned)."""
    if target is None or isinstance(target, str):
        return _django_sql(target)
    target = resolve_target(target)
    names = _type_names(target)
    if "sqlite3.Connection" in names:
        return Sql("sqlite", "?", *_cursor_runner(target.cursor))
    if "psycopg2.extensions.connection" in names or any(
            name.startswith("psycopg.") and name.endswith(".Connection") for name in names):
        return Sql("postgresql", "%s", *_cursor_runner(target.cursor))
    if "sqlalchemy.engine.base.Connection" in names:
        return _sqlalchemy_sql(target)
    if "sqlalchemy.engine.base.Engine" in names:
        return _sqlalchemy_sql(transaction.connection)
    if "sqlalchemy.orm.session.Session" in names:
        return _sqlalchemy_sql(target.connection())
    if "sqlalchemy.orm.session.sessionmaker" in names:
        return _sqlalchemy_sql(transaction.session.connection())
    if any(name.startswith("peewee.") and name.endswith("Database") for name in names):
        return _peewee_sql(target)
    raise BackfillError(
        f"the backfill runner cannot run SQL on {type(target).__qualname__}: give it a synchronous target "
        "of txlint.runtime.atomic (a SQLAlchemy session, sessionmaker, connection or engine, a Django alias, "
        "a sqlite3, psycopg2 or psycopg 3 connection, or a peewee database)")


def sqlalchemy_engine(target: Any):
    """The engine behind a SQLAlchemy target (for a lock held on a connection of its own), or None."""
    target = resolve_target(target) if target is not None and not isinstance(target, str) else target
    names = _type_names(target)
    if "sqlalchemy.engine.base.Engine" in names:
        return target
    if "sqlalchemy.engine.base.Connection" in names:
        return None  # one connection for the whole run: the lock is held on it
    if "sqlalchemy.orm.session.Session" in names:
        return target.get_bind()
    if "sqlalchemy.orm.session.sessionmaker" in names:
        return target.kw.get("bind")
    return None
