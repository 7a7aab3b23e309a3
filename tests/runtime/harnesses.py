"""One harness per backend: the target `atomic` is given, how to write a row through it, and how
a separate connection reads what was committed. Every harness writes to its own table of
`value` rows. A harness is described by a JSON-able spec, so a subprocess can attach to the same
table (`attach(spec)`) and be killed mid-transaction.

On PostgreSQL the table's values are UNIQUE DEFERRABLE INITIALLY DEFERRED: writing a value twice
is accepted statement by statement and rejected by COMMIT itself (a real failing commit).
"""

import os
import sqlite3
import sys
import uuid

SQLITE_MODES = {"legacy": {}, "none": {"isolation_level": None}, "immediate": {"isolation_level": "IMMEDIATE"}}
if sys.version_info >= (3, 12):
    SQLITE_MODES.update({"autocommit-true": {"autocommit": True}, "autocommit-false": {"autocommit": False}})

LOCAL = [f"sqlite3-{mode}" for mode in SQLITE_MODES] + [
    "sqlalchemy-session-sqlite", "sqlalchemy-connection-sqlite", "sqlalchemy-engine-sqlite", "peewee-sqlite",
    "django-sqlite"]
POSTGRES = ["psycopg2", "psycopg2-autocommit", "psycopg3", "psycopg3-autocommit", "sqlalchemy-session-pg",
            "sqlalchemy-connection-pg", "sqlalchemy-engine-pg", "peewee-pg", "django-pg"]


def new_spec(name: str, directory: str, dsn=None) -> dict:
    """A fresh table for backend `name`: SQLite in a new file in `directory`, or on `dsn`."""
    return {"name": name, "path": os.path.join(directory, f"{uuid.uuid4().hex[:12]}.db"), "dsn": dsn,
            "table": f"items_{uuid.uuid4().hex[:12]}", "django_path": os.path.join(directory, "django.db")}


def create(spec: dict) -> "Harness":
    """Create the spec's table and connect to it."""
    return _HARNESSES[_family(spec["name"])](spec, create=True)


def attach(spec: dict) -> "Harness":
    """Connect to a table `create` made (in another process)."""
    return _HARNESSES[_family(spec["name"])](spec, create=False)


def _family(name: str) -> str:
    return "django" if name.startswith("django") else name.split("-")[0]


def _create_postgres_table(dsn: str, table: str) -> None:
    import psycopg2

    setup = psycopg2.connect(dsn)
    setup.autocommit = True
    setup.cursor().execute(f"CREATE TABLE {table} (value TEXT, CONSTRAINT {table}_unique UNIQUE (value) "
                           "DEFERRABLE INITIALLY DEFERRED)")
    setup.close()


def _read_postgres(dsn: str, table: str) -> list:
    import psycopg2

    reader = psycopg2.connect(dsn)
    try:
        cursor = reader.cursor()
        cursor.execute(f"SELECT value FROM {table}")
        return sorted(row[0] for row in cursor.fetchall())
    finally:
        reader.close()


def _read_sqlite(path: str, table: str) -> list:
    reader = sqlite3.connect(path)
    try:
        return sorted(row[0] for row in reader.execute(f"SELECT value FROM {table}"))
    finally:
        reader.close()


class Harness:
    def __init__(self, spec: dict, create: bool):
        self.spec = spec
        self.name = spec["name"]
        self.table = spec["table"]
        self.on_postgres = spec["dsn"] is not None and self.name in POSTGRES

    def target(self):
        raise NotImplementedError

    def write(self, transaction, value: str) -> None:
        raise NotImplementedError

    def write_rejected_at_commit(self, transaction) -> None:
        """Writes that each statement accepts and COMMIT rejects (a deferred constraint)."""
        self.write(transaction, "duplicate")
        self.write(transaction, "duplicate")

    def committed(self) -> list:
        """Values committed so far, read on a separate connection."""
        if self.on_postgres:
            return _read_postgres(self.spec["dsn"], self.table)
        return _read_sqlite(self.spec["path"], self.table)

    def clear(self) -> None:
        """Delete every committed row (between property-test examples)."""
        if self.on_postgres:
            import psycopg2

            cleaner = psycopg2.connect(self.spec["dsn"])
            cleaner.autocommit = True
            cleaner.cursor().execute(f"DELETE FROM {self.table}")
            cleaner.close()
        else:
            cleaner = sqlite3.connect(self.spec["path"])
            cleaner.execute(f"DELETE FROM {self.table}")
            cleaner.commit()
            cleaner.close()

    def close(self) -> None:
        pass


class SqliteHarness(Harness):
    """sqlite3 in one of SQLITE_MODES. Values reference a parent row through a deferred foreign
    key, so a value without its parent is rejected by COMMIT."""

    def __init__(self, spec, create):
        super().__init__(spec, create)
        if create:
            setup = sqlite3.connect(spec["path"])
            setup.executescript(f"""
                CREATE TABLE parents (id INTEGER PRIMARY KEY);
                INSERT INTO parents VALUES (1);
                CREATE TABLE {self.table} (value TEXT, parent INTEGER NOT NULL DEFAULT 1
                    REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED);
            """)
            setup.close()
        options = SQLITE_MODES[self.name.split("-", 1)[1]]
        # The pragma is ignored inside a transaction, and autocommit=False is always in one.
        self.connection = sqlite3.connect(spec["path"], **{**options, "autocommit": True} if options.get(
            "autocommit") is False else options)
        self.connection.execute("PRAGMA foreign_keys = ON")
        if options.get("autocommit") is False:
            self.connection.autocommit = False

    def target(self):
        return self.connection

    def write(self, transaction, value):
        self.connection.execute(f"INSERT INTO {self.table} (value) VALUES (?)", (value,))

    def write_rejected_at_commit(self, transaction):
        self.connection.execute(f"INSERT INTO {self.table} (value, parent) VALUES ('orphan', 2)")

    def close(self):
        self.connection.close()


class Psycopg2Harness(Harness):
    def __init__(self, spec, create):
        import psycopg2

        super().__init__(spec, create)
        if create:
            _create_postgres_table(spec["dsn"], self.table)
        self.connection = psycopg2.connect(spec["dsn"])
        self.connection.autocommit = self.name.endswith("autocommit")

    def target(self):
        return self.connection

    def write(self, transaction, value):
        with self.connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {self.table} VALUES (%s)", (value,))

    def close(self):
        self.connection.close()


class Psycopg3Harness(Harness):
    def __init__(self, spec, create):
        import psycopg

        super().__init__(spec, create)
        if create:
            _create_postgres_table(spec["dsn"], self.table)
        self.connection = psycopg.connect(spec["dsn"], autocommit=self.name.endswith("autocommit"))

    def target(self):
        return self.connection

    def write(self, transaction, value):
        self.connection.execute(f"INSERT INTO {self.table} VALUES (%s)", (value,))

    def close(self):
        self.connection.close()


def _sqlalchemy_url(spec: dict) -> str:
    if not spec["name"].endswith("-pg"):
        return f"sqlite:///{spec['path']}"
    options = dict(part.split("=", 1) for part in spec["dsn"].split())
    return f"postgresql+psycopg2://{options['user']}@{options['host']}:{options['port']}/{options['dbname']}"


class SQLAlchemyHarness(Harness):
    """A Session, a Connection or the Engine itself (then writes go through transaction.connection)."""

    def __init__(self, spec, create):
        from sqlalchemy import Column, MetaData, String, Table, create_engine
        from sqlalchemy.orm import Session

        super().__init__(spec, create)
        self.kind = self.name.split("-")[1]
        self.engine = create_engine(_sqlalchemy_url(spec))
        self.items = Table(self.table, MetaData(), Column("value", String))
        if create and self.on_postgres:
            _create_postgres_table(spec["dsn"], self.table)
        elif create:
            self.items.metadata.create_all(self.engine)
        self.handle = {"session": lambda: Session(self.engine), "connection": self.engine.connect,
                       "engine": lambda: self.engine}[self.kind]()

    def target(self):
        return self.handle

    def write(self, transaction, value):
        statement = self.items.insert().values(value=value)
        receiver = transaction.connection if self.kind == "engine" else self.handle
        receiver.execute(statement)

    def close(self):
        if self.kind != "engine":
            self.handle.close()
        self.engine.dispose()


class PeeweeHarness(Harness):
    def __init__(self, spec, create):
        import peewee

        super().__init__(spec, create)
        if self.on_postgres:
            options = dict(part.split("=", 1) for part in spec["dsn"].split())
            self.database = peewee.PostgresqlDatabase(options["dbname"], user=options["user"],
                                                      host=options["host"], port=int(options["port"]))
        else:
            self.database = peewee.SqliteDatabase(spec["path"])

        class Item(peewee.Model):
            value = peewee.TextField()

            class Meta:
                database = self.database
                table_name = self.table
                primary_key = False

        self.model = Item
        if create and self.on_postgres:
            _create_postgres_table(spec["dsn"], self.table)
        elif create:
            self.database.create_tables([Item])

    def target(self):
        return self.database

    def write(self, transaction, value):
        self.model.insert(value=value).execute()

    def close(self):
        self.database.close()


def _django_harness(spec, create):
    from django_harness import DjangoHarness

    return DjangoHarness(spec, create)


_HARNESSES = {"sqlite3": SqliteHarness, "psycopg2": Psycopg2Harness, "psycopg3": Psycopg3Harness,
              "sqlalchemy": SQLAlchemyHarness, "peewee": PeeweeHarness, "django": _django_harness}
