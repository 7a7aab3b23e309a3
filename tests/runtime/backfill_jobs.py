"""The backfill the runner's tests run, on each library and database: legacy `parts` rows copied
into a `parts_v2` table, deduplicated by (user_id, name), rows without a name invalid, counted
per user (seed 003's parts backfill). A job is described by a JSON-able spec, so a subprocess
can build the same job on the same tables and be killed part-way.

Every spec gets tables and a backfill name of its own: the Django SQLite file and the PostgreSQL
database are shared by the whole test session.
"""

import os
import sqlite3
import uuid

from txlint.runtime.backfill import Backfill, batch_writer, keyset_source, present_in

SQLITE = ["dbapi-sqlite", "sqlalchemy-sqlite", "django-sqlite", "peewee-sqlite"]
POSTGRES = ["dbapi-pg", "psycopg3-pg", "sqlalchemy-pg", "django-pg", "peewee-pg"]

LEGACY_ROWS = 300
# Rows already in the target before any run: two collide with legacy rows (skipped as duplicates).
EXISTING = [(-1, 1, "part-1", "kept"), (-2, 2, "part-2", "kept"), (-3, 3, "unrelated", "kept")]

# What the test's killer can hook into (set by the subprocess): called between the two halves of
# each batch's writes.
hooks = {"halfway": None}
# The last row a writer wrote: a test blocking a commit on PostgreSQL inserts a conflicting row.
last_written = {}


def legacy_rows(count: int = LEGACY_ROWS):
    """(id, user_id, name, payload): every 10th row from id 7 on repeats the user and name of the
    row 4 before it (a duplicate), every 11th has no name (invalid)."""
    rows = []
    for index in range(1, count + 1):
        name = f"part-{index - 4 if index % 10 == 7 else index}"
        rows.append((index, index % 4, None if index % 11 == 0 else name, f"payload {index}"))
    return rows


def expected_target(count: int = LEGACY_ROWS, up_to=None, excluding=()):
    """The target after the backfill has applied the legacy rows with id <= up_to (all by default),
    but for the ids in `excluding`."""
    rows = list(EXISTING)
    seen = {(user, name) for _, user, name, _ in EXISTING}
    for index, user, name, payload in legacy_rows(count):
        if up_to is not None and index > up_to:
            break
        if index in excluding:
            continue
        if name is not None and (user, name) not in seen:
            seen.add((user, name))
            rows.append((index, user, name, payload))
    return sorted(rows)


def new_spec(family: str, directory: str, dsn=None, django_path=None, rows: int = LEGACY_ROWS) -> dict:
    suffix = uuid.uuid4().hex[:10]
    return {"family": family, "dsn": dsn, "rows": rows, "suffix": suffix,
            "path": django_path if family.startswith("django") else os.path.join(directory, f"{suffix}.db"),
            "django_path": django_path, "legacy": f"parts_{suffix}", "target": f"parts_v2_{suffix}",
            "prefix": f"txlint_backfill_{suffix}", "name": f"parts-{suffix}"}


def on_postgres(spec: dict) -> bool:
    return spec["family"].endswith("-pg")


# -- tables ------------------------------------------------------------------------------------
def create_tables(spec: dict) -> None:
    # The PostgreSQL target's uniqueness is checked at COMMIT: a test can make a commit wait on it.
    unique = "DEFERRABLE INITIALLY DEFERRED" if on_postgres(spec) else ""
    statements = [
        f"CREATE TABLE {spec['legacy']} (id INTEGER PRIMARY KEY, user_id INTEGER, name TEXT, payload TEXT)",
        f"CREATE TABLE {spec['target']} (legacy_id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, "
        f"name TEXT NOT NULL, payload TEXT, CONSTRAINT {spec['target']}_once UNIQUE (user_id, name) {unique})",
    ]
    connection, mark = _plain_connection(spec)
    try:
        cursor = connection.cursor()
        for statement in statements:
            cursor.execute(statement)
        cursor.executemany(f"INSERT INTO {spec['legacy']} VALUES ({mark}, {mark}, {mark}, {mark})",
                           legacy_rows(spec["rows"]))
        cursor.executemany(f"INSERT INTO {spec['target']} VALUES ({mark}, {mark}, {mark}, {mark})", EXISTING)
        connection.commit()
    finally:
        connection.close()


def _plain_connection(spec: dict):
    if on_postgres(spec):
        import psycopg2

        return psycopg2.connect(spec["dsn"]), "%s"
    return sqlite3.connect(spec["path"]), "?"


def target_rows(spec: dict):
    """The target table, read on a connection of its own."""
    return _select(spec, f"SELECT legacy_id, user_id, name, payload FROM {spec['target']}")


def checkpoint(spec: dict):
    """The last key committed, or None (before the runner has made its tables too)."""
    table = f"{spec['prefix']}_checkpoints"
    if not _select(spec, f"SELECT tablename FROM pg_tables WHERE tablename = '{table}'" if on_postgres(spec) else
                   f"SELECT name FROM sqlite_master WHERE name = '{table}'"):
        return None
    rows = _select(spec, f"SELECT last_key FROM {spec['prefix']}_checkpoints WHERE name = '{spec['name']}'")
    return int(rows[0][0]) if rows and rows[0][0] is not None else None


def _select(spec: dict, statement: str):
    connection, _ = _plain_connection(spec)
    try:
        cursor = connection.cursor()
        cursor.execute(statement)
        return sorted(tuple(row) for row in cursor.fetchall())
    finally:
        connection.close()


# -- the backfill, per library ---------------------------------------------------------------
class Job:
    """The spec's backfill on its library: `backfill`, and `close()` for its connections."""

    def __init__(self, spec: dict, **options):
        self.spec = spec
        family = spec["family"].split("-")[0]
        self.closers = []
        target, write = getattr(self, f"_{family}")()
        columns = ("legacy_id", "user_id", "name", "payload")
        self.columns = columns

        @batch_writer
        def write_parts(batch, rows):
            half = len(rows) // 2
            write(batch, rows[:half])
            if hooks["halfway"] is not None:
                hooks["halfway"]()
            write(batch, rows[half:])
            if rows:
                last_written.update(rows[-1])
            for row in rows:
                batch.inserted(spec["target"], legacy_id=row["id"])

        self.backfill = Backfill(
            spec["name"], target, keyset_source(f"SELECT id, user_id, name, payload FROM {spec['legacy']}", key="id"),
            write_batch=write_parts, dedupe=lambda row: (row["user_id"], row["name"]),
            present=present_in(spec["target"], "user_id", "name"),
            validate=lambda row: None if row["name"] else "a part needs a name",
            group=lambda row: row["user_id"], ledger=True, table_prefix=spec["prefix"],
            count_source=lambda batch: dict(batch.query(
                f"SELECT user_id, COUNT(*) FROM {spec['legacy']} GROUP BY user_id")),
            count_target=lambda batch: batch.query(f"SELECT COUNT(*) FROM {spec['target']}")[0][0],
            **{"batch_size": 7, **options})

    def _values(self, rows):
        return [(row["id"], row["user_id"], row["name"], row["payload"]) for row in rows]

    def _dbapi(self):
        if on_postgres(self.spec):
            import psycopg2

            connection, mark = psycopg2.connect(self.spec["dsn"]), "%s"
        else:
            connection, mark = sqlite3.connect(self.spec["path"]), "?"
        self.closers.append(connection.close)
        statement = f"INSERT INTO {self.spec['target']} VALUES ({mark}, {mark}, {mark}, {mark})"

        def write(batch, rows):
            cursor = connection.cursor()
            cursor.executemany(statement, self._values(rows))
            cursor.close()

        return connection, write

    def _psycopg3(self):
        import psycopg

        connection = psycopg.connect(self.spec["dsn"])
        self.closers.append(connection.close)

        def write(batch, rows):
            with connection.cursor() as cursor:
                cursor.executemany(f"INSERT INTO {self.spec['target']} VALUES (%s, %s, %s, %s)", self._values(rows))

        return connection, write

    def _sqlalchemy(self):
        from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert
        from sqlalchemy.orm import Session

        if on_postgres(self.spec):
            options = dict(part.split("=", 1) for part in self.spec["dsn"].split())
            url = f"postgresql+psycopg2://{options['user']}@{options['host']}:{options['port']}/{options['dbname']}"
        else:
            url = f"sqlite:///{self.spec['path']}"
        engine = create_engine(url)
        table = Table(self.spec["target"], MetaData(), Column("legacy_id", Integer, primary_key=True),
                      Column("user_id", Integer), Column("name", String), Column("payload", String))
        session = Session(engine)
        self.closers.extend([session.close, engine.dispose])

        def write(batch, rows):
            if rows:
                batch.session.execute(insert(table), [dict(zip(self.columns, values)) for values in self._values(rows)])

        return session, write

    def _django(self):
        import django_harness
        from django.db import models

        django_harness._configure({"django_path": self.spec["django_path"], "dsn": self.spec["dsn"]})
        alias = "pg" if on_postgres(self.spec) else "default"
        model = type(f"PartV2_{self.spec['suffix']}", (models.Model,), {
            "__module__": __name__, "legacy_id": models.IntegerField(primary_key=True),
            "user_id": models.IntegerField(), "name": models.TextField(), "payload": models.TextField(null=True),
            "Meta": type("Meta", (), {"app_label": "contenttypes", "db_table": self.spec["target"]})})

        def write(batch, rows):
            model.objects.using(alias).bulk_create(
                [model(**dict(zip(self.columns, values))) for values in self._values(rows)])

        return (None if alias == "default" else alias), write

    def _peewee(self):
        import peewee

        if on_postgres(self.spec):
            options = dict(part.split("=", 1) for part in self.spec["dsn"].split())
            database = peewee.PostgresqlDatabase(options["dbname"], user=options["user"], host=options["host"],
                                                 port=int(options["port"]))
        else:
            database = peewee.SqliteDatabase(self.spec["path"])
        self.closers.append(database.close)

        def write(batch, rows):
            if rows:
                statement = f"INSERT INTO {self.spec['target']} VALUES " + ", ".join(
                    [f"({database.param}, {database.param}, {database.param}, {database.param})"] * len(rows))
                database.execute_sql(statement, [value for values in self._values(rows) for value in values])

        return database, write

    def close(self) -> None:
        for close in reversed(self.closers):
            close()
