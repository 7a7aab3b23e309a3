"""One harness per backend: how to write a row through it, and how another connection reads
what was committed. Every harness writes to a table `items(value)`."""

import os
import sqlite3
import sys
import uuid


def committed_in_sqlite(path: str) -> list:
    reader = sqlite3.connect(path)
    try:
        return sorted(row[0] for row in reader.execute("SELECT value FROM items"))
    finally:
        reader.close()


class Harness:
    name = ""

    def target(self):
        raise NotImplementedError

    def write(self, transaction, value: str) -> None:
        raise NotImplementedError

    def committed(self) -> list:
        """Values committed so far, read on a separate connection."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class SqliteHarness(Harness):
    def __init__(self, directory, **connect_options):
        self.path = os.path.join(directory, f"{uuid.uuid4().hex}.db")
        setup = sqlite3.connect(self.path)
        setup.execute("CREATE TABLE items (value TEXT)")
        setup.commit()
        setup.close()
        self.connection = sqlite3.connect(self.path, **connect_options)
        self.name = f"sqlite3{connect_options}"

    def target(self):
        return self.connection

    def write(self, transaction, value):
        self.connection.execute("INSERT INTO items VALUES (?)", (value,))

    def committed(self):
        return committed_in_sqlite(self.path)

    def close(self):
        self.connection.close()


class _PostgresTable:
    def _create(self, dsn):
        import psycopg2

        self.dsn = dsn
        self.table = f"items_{uuid.uuid4().hex[:12]}"
        setup = psycopg2.connect(dsn)
        setup.autocommit = True
        setup.cursor().execute(f"CREATE TABLE {self.table} (value TEXT)")
        setup.close()

    def committed(self):
        import psycopg2

        reader = psycopg2.connect(self.dsn)
        try:
            cursor = reader.cursor()
            cursor.execute(f"SELECT value FROM {self.table}")
            return sorted(row[0] for row in cursor.fetchall())
        finally:
            reader.close()


class Psycopg2Harness(_PostgresTable, Harness):
    def __init__(self, dsn, autocommit=False):
        import psycopg2

        self._create(dsn)
        self.connection = psycopg2.connect(dsn)
        self.connection.autocommit = autocommit
        self.name = f"psycopg2(autocommit={autocommit})"

    def target(self):
        return self.connection

    def write(self, transaction, value):
        cursor = self.connection.cursor()
        cursor.execute(f"INSERT INTO {self.table} VALUES (%s)", (value,))

    def close(self):
        self.connection.close()


class Psycopg3Harness(_PostgresTable, Harness):
    def __init__(self, dsn, autocommit=False):
        import psycopg

        self._create(dsn)
        self.connection = psycopg.connect(dsn, autocommit=autocommit)
        self.name = f"psycopg3(autocommit={autocommit})"

    def target(self):
        return self.connection

    def write(self, transaction, value):
        self.connection.execute(f"INSERT INTO {self.table} VALUES (%s)", (value,))

    def close(self):
        self.connection.close()


class SQLAlchemyHarness(Harness):
    """kind: "session", "connection" or "engine"."""

    def __init__(self, url, kind, table="items", reader=None):
        from sqlalchemy import Column, MetaData, String, Table, create_engine
        from sqlalchemy.orm import Session

        self.engine = create_engine(url)
        self.table = Table(table, MetaData(), Column("value", String))
        self.table.metadata.create_all(self.engine)
        self.kind = kind
        self.name = f"sqlalchemy-{kind}({self.engine.dialect.name})"
        self.handle = {"session": lambda: Session(self.engine), "connection": self.engine.connect,
                       "engine": lambda: self.engine}[kind]()

    def target(self):
        return self.handle

    def write(self, transaction, value):
        statement = self.table.insert().values(value=value)
        if self.kind == "engine":
            transaction.connection.execute(statement)
        else:
            self.handle.execute(statement)

    def committed(self):
        with self.engine.connect() as reader:
            return sorted(row[0] for row in reader.execute(self.table.select()))

    def close(self):
        if self.kind != "engine":
            self.handle.close()
        self.engine.dispose()


class PeeweeHarness(Harness):
    name = "peewee(sqlite)"

    def __init__(self, directory):
        import peewee

        self.path = os.path.join(directory, f"{uuid.uuid4().hex}.db")
        self.database = peewee.SqliteDatabase(self.path)

        class Item(peewee.Model):
            value = peewee.CharField()

            class Meta:
                database = self.database
                table_name = "items"

        self.model = Item
        self.database.create_tables([Item])

    def target(self):
        return self.database

    def write(self, transaction, value):
        self.model.create(value=value)

    def committed(self):
        return committed_in_sqlite(self.path)

    def close(self):
        self.database.close()


def sqlite_modes():
    modes = [{}, {"isolation_level": None}]
    if sys.version_info >= (3, 12):
        modes += [{"autocommit": True}, {"autocommit": False}]
    return modes
