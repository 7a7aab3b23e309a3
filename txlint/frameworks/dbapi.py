"""DB-API drivers and their async cousins: sqlite3, aiosqlite, psycopg2, psycopg 3, PyMySQL,
mysqlclient, asyncpg.

Most drivers open a transaction implicitly before the first statement (the implicit regime);
sqlite3 with isolation_level=None or autocommit=True, psycopg with autocommit=True and asyncpg
commit every statement on its own.
"""

from typing import Optional

from txlint.frameworks import Knowledge, TransactionIdiom
from txlint.values import AUTOCOMMIT, IMPLICIT, CallView, Outcome, Value, effect, write_effect

LIBRARY = "dbapi"

_CONNECT = {
    "sqlite3.connect": "sqlite3",
    "sqlite3.dbapi2.connect": "sqlite3",
    "aiosqlite.connect": "aiosqlite",
    "psycopg2.connect": "psycopg2",
    "psycopg.connect": "psycopg",
    "psycopg.Connection.connect": "psycopg",
    "psycopg.AsyncConnection.connect": "psycopg",
    "pymysql.connect": "pymysql",
    "pymysql.connections.Connection": "pymysql",
    "MySQLdb.connect": "pymysql",
    "asyncpg.connect": "asyncpg",
    "asyncpg.create_pool": "asyncpg",
    # The connection classes: a parameter or a helper's return annotated with one is a connection.
    "sqlite3.Connection": "sqlite3",
    "aiosqlite.Connection": "aiosqlite",
    "psycopg2.extensions.connection": "psycopg2",
    "psycopg.Connection": "psycopg",
    "psycopg.AsyncConnection": "psycopg",
    "MySQLdb.connections.Connection": "pymysql",
    "asyncpg.Connection": "asyncpg",
    "asyncpg.connection.Connection": "asyncpg",
}
_POOLS = {"psycopg_pool.ConnectionPool": "psycopg", "psycopg_pool.AsyncConnectionPool": "psycopg",
          "psycopg2.pool.SimpleConnectionPool": "psycopg2", "psycopg2.pool.ThreadedConnectionPool": "psycopg2"}
_EXTRAS = {"psycopg2.extras.execute_values", "psycopg2.extras.execute_batch"}
# `with conn:` commits on success and rolls back on error for these drivers (and closes for psycopg 3).
_CONTEXT_COMMITS = {"sqlite3", "psycopg2", "psycopg"}
_EXECUTES = {"execute", "executemany", "executescript", "callproc", "execute_insert", "execute_fetchall",
             "fetch", "fetchrow", "fetchval", "query", "copy_expert", "copy"}
_ASYNCPG_COPIES = {"copy_records_to_table", "copy_to_table"}


def connection(driver: str, regime: str) -> Value:
    return Value("handle", name="connection", library=LIBRARY, regime=regime, flags=(driver,))


def _driver(value: Value) -> str:
    return value.flags[0] if value.flags else ""


class DBAPIKnowledge(Knowledge):
    library = LIBRARY
    autocommit_regime = "autocommit connection"
    transaction_fix = ("wrap {what} in a transaction (`async with conn.transaction():` for asyncpg, `with conn:` for "
                       "sqlite3/psycopg2) or `txlint.runtime.atomic(conn)`")
    roots = ("sqlite3", "aiosqlite", "psycopg2", "psycopg", "psycopg_pool", "pymysql", "MySQLdb", "asyncpg")

    def connection_idiom(self, handle: Value) -> Optional[TransactionIdiom]:
        """asyncpg and psycopg 3: the connection's `transaction()`; psycopg2: `with conn:` (a
        transaction even in autocommit mode); sqlite3 in autocommit mode, where `with conn:` opens
        none: txlint.runtime's `atomic(conn)`."""
        if handle.kind != "handle" or handle.name != "connection":
            return None
        driver = _driver(handle)
        if driver == "asyncpg":
            return TransactionIdiom("", "", "{}.transaction()", asynchronous=True)
        if driver == "psycopg":
            return TransactionIdiom("", "", "{}.transaction()")
        if driver == "psycopg2":
            return TransactionIdiom("", "", "{}")
        if driver == "sqlite3":
            return TransactionIdiom("txlint.runtime", "atomic", "{}({handle})")
        return None

    def call_qname(self, qname: str, call: CallView) -> Optional[Outcome]:
        driver = _CONNECT.get(qname)
        if driver is not None:
            return Outcome(value=connection(driver, self._connect_regime(driver, call)))
        if qname in _POOLS:
            return Outcome(value=Value("handle", name="pool", library=LIBRARY, regime=IMPLICIT, flags=(_POOLS[qname],)))
        if qname in _EXTRAS:
            return effect("sql", LIBRARY, IMPLICIT, how="raw", sql=call.string(1, "sql") or "", bulk=True)
        return None

    @staticmethod
    def _connect_regime(driver: str, call: CallView) -> str:
        if driver == "asyncpg":
            return AUTOCOMMIT
        if call.const("autocommit") == "True":
            return AUTOCOMMIT
        if driver in ("sqlite3", "aiosqlite") and call.const("isolation_level") == "None":
            return AUTOCOMMIT
        return IMPLICIT

    def method(self, value: Value, name: str, call: CallView) -> Optional[Outcome]:
        if value.library != LIBRARY or value.kind != "handle":
            return None
        driver = _driver(value)
        if value.name == "pool":
            if name in ("connection", "getconn", "acquire"):
                return Outcome(value=connection(driver, value.regime))
            return None
        if value.name not in ("connection", "cursor"):
            return None
        if name == "cursor":
            return Outcome(value=Value("handle", name="cursor", library=LIBRARY, regime=value.regime, flags=(driver,)))
        if name in _EXECUTES:
            # asyncpg's executemany runs in one transaction on its own.
            return effect("sql", LIBRARY, value.regime, how="raw", sql=call.string(0, "query") or "",
                          bulk=name in ("executemany", "executescript"),
                          atomic_alone=driver == "asyncpg" and name == "executemany")
        if name == "copy_from":
            return write_effect(LIBRARY, Value("string", table=call.string(1, "table") or ""), value.regime, how="raw",
                                bulk=True)
        if name in _ASYNCPG_COPIES:
            return write_effect(LIBRARY, Value("string", table=call.string(0, "table_name") or ""), value.regime,
                                how="raw", bulk=True, atomic_alone=True)
        if name == "commit":
            return effect("commit", LIBRARY, value.regime)
        if name in ("rollback", "close"):
            return effect("rollback", LIBRARY, value.regime)
        if name == "transaction":
            return Outcome(value=Value("scope", name="transaction", library=LIBRARY, flags=(driver,)))
        if name in ("set_session", "set_autocommit", "set_isolation_level"):
            return None
        return None

    def opens_transaction(self, value: Value, as_decorator: bool) -> bool:
        if value.library != LIBRARY:
            return False
        if value.kind == "scope":
            return True
        if value.kind == "handle" and value.name == "connection":
            driver = _driver(value)
            # psycopg2's `with conn:` opens a transaction even on an autocommit connection (2.9+).
            if driver == "psycopg2":
                return True
            return driver in _CONTEXT_COMMITS and value.regime != AUTOCOMMIT
        return False
