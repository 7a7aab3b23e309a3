"""TXL201 raw-sql-write: SQL text that writes, through every raw entry point, and its look-alikes.

Each case is a small project; the TXL201 findings must be exactly the lines marked `# error: TXL201`.
"""

import textwrap

import pytest

from helpers import run_txlint, write_tree
from txlint.config import Config
from txlint.linter import lint_sources

CODE = "TXL201"
DJANGO_MODELS = """
from django.db import models


class Order(models.Model):
    status = models.CharField(max_length=20)
"""
SQLALCHEMY_MODELS = """
from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Session


class Base(DeclarativeBase):
    pass


class Order(Base):
    __tablename__ = "orders"


engine = create_engine("sqlite://")
"""


def expect_annotated(sources, code=CODE, **settings):
    """Lint `sources` as one project: the findings of `code` must be the lines annotated with it."""
    sources = {path: textwrap.dedent(text) for path, text in sources.items()}
    config = Config(**{key: tuple(value) if isinstance(value, list) else value for key, value in settings.items()})
    found = sorted((finding.path, finding.line) for finding in lint_sources(sources, config) if finding.code == code)
    expected = sorted((path, number) for path, text in sources.items()
                      for number, line in enumerate(text.splitlines(), start=1) if f"# error: {code}" in line)
    assert found == expected
    return found


ENTRY_POINTS = {
    "django cursor": """
        from django.db import connection, connections

        def close():
            with connection.cursor() as cursor:
                cursor.execute("UPDATE shop_order SET status = 'closed'")  # error: TXL201
                cursor.executemany("INSERT INTO shop_order (status) VALUES (%s)", [("a",)])  # error: TXL201
            connections["replica"].cursor().execute("DELETE FROM shop_order")  # error: TXL201
        """,
    "django raw": """
        from app.models import Order

        def bump():
            return list(Order.objects.raw("UPDATE shop_order SET status = 'x' RETURNING id"))  # error: TXL201
        """,
    "sqlalchemy text and exec_driver_sql": """
        from sqlalchemy import text
        from sqlalchemy.orm import Session
        from app.sa import engine

        def purge(session: Session):
            session.execute(text("DELETE FROM orders WHERE status = 'stale'"))  # error: TXL201
            with engine.begin() as conn:
                conn.exec_driver_sql("TRUNCATE orders")  # error: TXL201
        """,
    "dbapi and psycopg2 extras": """
        import sqlite3
        import psycopg2
        from psycopg2.extras import execute_values, execute_batch

        def load(rows):
            conn = sqlite3.connect("app.db")
            conn.executescript("CREATE TABLE t (a int); INSERT INTO t VALUES (1);")  # error: TXL201
            pg = psycopg2.connect("")
            cursor = pg.cursor()
            execute_values(cursor, "INSERT INTO t (a) VALUES %s", rows)  # error: TXL201
            execute_batch(cursor, "UPDATE t SET a = %s", rows)  # error: TXL201
            cursor.execute("COPY t FROM STDIN")  # error: TXL201
        """,
    "peewee execute_sql": """
        from peewee import SqliteDatabase

        db = SqliteDatabase("app.db")

        def reset():
            db.execute_sql("DELETE FROM entry")  # error: TXL201
        """,
    "alembic op.execute outside a migration": """
        from alembic import op

        def helper():
            op.execute("UPDATE orders SET status = 'new'")  # error: TXL201
        """,
    "pandas to_sql": """
        import pandas as pd

        def export(engine):
            frame = pd.read_csv("scores.csv")
            frame.to_sql("scores", engine, if_exists="replace")  # a library's write, no SQL text
        """,
    "tortoise and encode/databases": """
        from databases import Database
        from tortoise import connections

        database = Database("sqlite:///app.db")

        async def reset():
            await connections.get("default").execute_query("DELETE FROM team")  # error: TXL201
            await database.execute("INSERT INTO team (name) VALUES ('a')")  # error: TXL201
            await database.fetch_all("SELECT * FROM team")
        """,
}


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_entry_points(name):
    expect_annotated({"app/models.py": DJANGO_MODELS, "app/sa.py": SQLALCHEMY_MODELS,
                      "app/jobs.py": ENTRY_POINTS[name]})


def test_statement_kinds():
    expect_annotated({"app/models.py": DJANGO_MODELS, "app/jobs.py": """
        from django.db import connection

        def statements():
            cursor = connection.cursor()
            cursor.execute("INSERT INTO t VALUES (1)")  # error: TXL201
            cursor.execute("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE")  # error: TXL201
            cursor.execute("REPLACE INTO t VALUES (1)")  # error: TXL201
            cursor.execute("SELECT a INTO backup FROM t")  # error: TXL201
            cursor.execute("ALTER TABLE t ADD COLUMN b int")  # schema upkeep (see the test below)
            cursor.execute("WITH gone AS (DELETE FROM t RETURNING *) SELECT count(*) FROM gone")  # error: TXL201
            cursor.execute("-- nightly\\n/* fix */ UPDATE t SET a = 2")  # error: TXL201
            cursor.execute("SELECT * FROM t WHERE note = 'insert into t'")
            cursor.execute("SELECT * FROM t FOR UPDATE")
            cursor.execute("BEGIN")
            cursor.execute("COMMIT")
            cursor.execute("WITH recent AS (SELECT 1) SELECT * FROM recent")
        """})


def test_sql_is_followed_through_strings_and_constants():
    expect_annotated({"app/models.py": DJANGO_MODELS, "app/jobs.py": """
        from django.db import connection

        TABLE = "shop_order"
        POPULATE_SQL = "INSERT INTO " + TABLE + " (status) VALUES ('new')"
        READ_SQL = "SELECT * FROM shop_order"


        def _run_sql(sql):
            with connection.cursor() as cursor:
                cursor.execute(sql)  # error: TXL201


        def populate():
            _run_sql(POPULATE_SQL)


        def variants(table, status):
            cursor = connection.cursor()
            cursor.execute("UPDATE shop_order "  # error: TXL201
                           "SET status = 'x'")
            cursor.execute(f"DELETE FROM {table} WHERE status = 'old'")  # a table it is given: no model to use
            cursor.execute("UPDATE %s SET status = %%s" % table, [status])  # likewise
            cursor.execute(f"DELETE FROM shop_order WHERE status = '{status}'")  # error: TXL201
            cursor.execute("INSERT INTO {} (status) VALUES (%s)".format(TABLE), [status])  # error: TXL201
            query = "DELETE FROM shop_order"
            cursor.execute(query)  # error: TXL201
            cursor.execute(READ_SQL)
            cursor.execute(f"SELECT * FROM {table}")
            cursor.execute(status)  # unknown SQL: not a finding
        """})


def test_template_fields_resolve_to_constant_tables():
    findings = lint_sources({"app/models.py": textwrap.dedent(DJANGO_MODELS), "app/jobs.py": textwrap.dedent("""
        from django.db import connection

        TABLE = "shop_order"

        def clear():
            connection.cursor().execute("DELETE FROM %s" % TABLE)
        """)}, Config())
    assert [finding.message.split(" outside")[0] for finding in findings if finding.code == CODE] == [
        "raw SQL DELETE of `shop_order`"]


def test_select_through_text_is_not_a_write():
    expect_annotated({"app/sa.py": SQLALCHEMY_MODELS, "app/reports.py": """
        from sqlalchemy import text
        from sqlalchemy.orm import Session

        def count(session: Session):
            return session.execute(text("SELECT count(*) FROM orders")).scalar_one()
        """})


def test_migrations_may_write_sql():
    expect_annotated({
        "app/models.py": DJANGO_MODELS,
        "shop/migrations/0002_backfill.py": """
            from django.db import migrations

            def forwards(apps, schema_editor):
                schema_editor.execute("UPDATE shop_order SET status = 'new'")
                with schema_editor.connection.cursor() as cursor:
                    cursor.execute("CREATE INDEX idx ON shop_order (status)")

            class Migration(migrations.Migration):
                operations = [migrations.RunPython(forwards)]
            """,
        "alembic/versions/1a2b_backfill.py": """
            from alembic import op

            def upgrade():
                op.execute("UPDATE orders SET status = 'new'")
                op.execute("DROP TABLE legacy")
            """,
    })


def test_raw_sql_allowed_modules():
    sources = {"app/models.py": DJANGO_MODELS, "app/repositories/orders.py": """
        from django.db import connection

        def close_all():
            connection.cursor().execute("UPDATE shop_order SET status = 'closed'")
        """, "app/views.py": """
        from django.db import connection

        def close_all():
            connection.cursor().execute("UPDATE shop_order SET status = 'closed'")  # error: TXL201
        """}
    expect_annotated(sources, raw_sql_allowed=["app/repositories/**"])


def test_a_store_module_is_the_data_access_layer_until_raw_sql_allowed_names_one():
    store = """
        from django.db import connection

        def close_all():
            connection.cursor().execute("UPDATE shop_order SET status = 'closed'")
        """
    view = store.replace("'closed'\")", "'closed'\")  # error: TXL201")
    expect_annotated({"app/models.py": DJANGO_MODELS, "app/stores/sql_store.py": store, "app/views.py": view})
    # Once the project names its SQL modules, a store module outside them is reported too.
    expect_annotated({"app/models.py": DJANGO_MODELS, "app/stores/sql_store.py": view, "app/views.py": view,
                      "app/sql/orders.py": store}, raw_sql_allowed=["app/sql/**"])


def test_message_names_the_statement_and_the_configured_modules():
    findings = lint_sources({"app/models.py": textwrap.dedent(DJANGO_MODELS), "app/views.py": textwrap.dedent("""
        from django.db import connection

        def close_all():
            connection.cursor().execute("WITH s AS (SELECT 1) UPDATE shop_order SET status = 'closed'")
        """)}, Config(raw_sql_allowed=("app/repositories/**",)))
    (finding,) = [finding for finding in findings if finding.code == CODE]
    assert finding.message.startswith("raw SQL UPDATE of `shop_order` outside")
    assert "app/repositories/**" in finding.message


NO_ORM = {"jobs.py": """
    import sqlite3

    def archive():
        conn = sqlite3.connect("app.db")
        with conn:
            conn.execute("INSERT INTO archive SELECT * FROM events")  # error: TXL201
    """}


def test_project_without_an_orm_gets_one_hint_instead_of_findings(tmp_path):
    write_tree(tmp_path, {**NO_ORM, "more.py": NO_ORM["jobs.py"]})
    code, out, err = run_txlint("check", "--no-cache", ".", cwd=tmp_path)
    assert code == 0, out
    assert err.count("hint:") == 1 and "TXL201" in err


def test_project_without_an_orm_when_selected_by_name(tmp_path):
    expect_annotated(NO_ORM, select=["TXL201"])
    write_tree(tmp_path, NO_ORM)
    code, out, err = run_txlint("check", "--no-cache", "--select", "TXL201", ".", cwd=tmp_path)
    assert code == 1 and "TXL201" in out and "hint:" not in err


def test_raw_sql_allowed_is_relative_to_the_configuration_root(tmp_path):
    project = tmp_path / "service"
    write_tree(project, {
        "pyproject.toml": '[tool.txlint]\nraw-sql-allowed = ["app/repositories/**"]\n',
        "app/models.py": DJANGO_MODELS,
        "app/repositories/orders.py": """
            from django.db import connection

            def close_all():
                connection.cursor().execute("UPDATE shop_order SET status = 'closed'")
            """,
        "app/views.py": """
            from django.db import connection

            def close_all():
                connection.cursor().execute("UPDATE shop_order SET status = 'closed'")
            """,
    })
    code, out, err = run_txlint("check", "--no-cache", "--format", "json", "--config",
                                str(project / "pyproject.toml"), "service", cwd=tmp_path)
    assert code == 1, err
    import json
    paths = {finding["path"] for finding in json.loads(out)["findings"] if finding["code"] == CODE}
    assert paths == {"service/app/views.py"}


def test_ddl_alone_is_reported_once_raw_sql_allowed_is_configured():
    from txlint.config import Config
    from txlint.linter import lint_source

    source = ("from django.db import connection\n\n\ndef upkeep():\n"
              "    connection.cursor().execute('DROP TABLE archive_2020')\n")
    assert [finding.code for finding in lint_source(source, "app/jobs.py", config=Config())] == []
    configured = Config(raw_sql_allowed=("app/repositories/**",))
    assert [finding.code for finding in lint_source(source, "app/jobs.py", config=configured)] == ["TXL201"]
